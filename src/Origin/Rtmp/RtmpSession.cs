using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;
using StreamVerse.Origin.Rtmp.Flv;
using StreamVerse.Origin.Rtmp.Handshake;

namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// One RTMP connection: handshake, then a read loop that parses chunks synchronously and answers through the
/// connection's output pipe. Everything runs on the connection's read loop, so no state is shared.
/// </summary>
internal sealed partial class RtmpSession : IDisposable, IIngestPublish
{
    private const int ControlChunkStream = 2;
    private const int CommandChunkStream = 3;
    private const int MaxLoggedNameLength = 32;

    private readonly ConnectionContext _connection;
    private Segmenter.Media.IPublishSession? _session;
    private CancellationTokenRegistration _superseded;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly RtmpOptions _options;
    private readonly IStreamKeyResolver _keys;
    private readonly ILivePublishTarget _target;
    private readonly RtmpPublishers _publishers;
    private readonly RtmpMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RtmpChunkReader _chunkReader;
    private readonly RtmpChunkWriter _chunkWriter = new();
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private readonly List<object?> _values = [];

    private string? _app;
    private uint _nextStreamId = 1;
    private uint _publishStreamId;
    private string? _streamName;
    private FlvMediaDemuxer? _demuxer;

    /// <summary>The checked key of an accepted publish (waiting for its tracks, or live).</summary>
    private PublishGrant? _grant;

    /// <summary>Between the accepted publish and the start of its stream.</summary>
    private TrackWait? _wait;

    /// <summary>The wait is over: the read loop starts the stream before it reads on.</summary>
    private bool _startDue;

    /// <summary>Ends the wait on time even if the publisher sends nothing more: it wakes the pending read.</summary>
    private ITimer? _waitTimer;
    private volatile bool _waitExpired;

    /// <summary>
    /// A refusal or an end was just said: before closing, give the publisher a moment to read it. Encoders such as
    /// ffmpeg look for server messages only between their own writes; a socket closed at once fails their next write
    /// (EPIPE) before they have read why.
    /// </summary>
    private bool _linger;

    /// <summary>Cancelled from another thread by <see cref="Disconnect"/>; wakes the read loop wherever it waits.</summary>
    private readonly CancellationTokenSource _disconnect = new();
    private string? _disconnectReason;

    /// <summary>The publish's last logged metadata: encoders that resend it (GStreamer's flvmux, about once a second) log it once.</summary>
    private (double Width, double Height, double FrameRate)? _metadata;
    private bool _close;
    private uint _peerWindow;
    private long _received;
    private long _lastAcknowledged;
    private (uint StreamId, string Key)? _pendingPublish;

    public RtmpSession(
        ConnectionContext connection,
        RtmpOptions options,
        IStreamKeyResolver keys,
        ILivePublishTarget target,
        RtmpPublishers publishers,
        RtmpMetrics metrics,
        TimeProvider time,
        ILogger logger)
    {
        _connection = connection;
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _options = options;
        _keys = keys;
        _target = target;
        _publishers = publishers;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        // Until a publish has started (its key checked), the peer has proved nothing and may hold little.
        _chunkReader = new RtmpChunkReader(RtmpChunkLimits.Unauthenticated);
    }

    public bool IsPublishing => _demuxer is not null;

    /// <summary>The control plane's id of the key this connection publishes with (null before a publish, or for a configured key).</summary>
    public string? StreamKeyId => Volatile.Read(ref _grant)?.StreamKeyId;

    /// <summary>The stream being published; null until the stream has started.</summary>
    public string? StreamName => Volatile.Read(ref _streamName);

    /// <summary>Measured from the accepted publish on; null before one.</summary>
    public IngestHealth? Health { get; private set; }

    public string Protocol => "rtmp";

    public IngestLinkStats? Link => null;

    /// <summary>
    /// Ends this connection's publish from any thread: its read loop wakes, tells the publisher
    /// <c>NetStream.Publish.Failed</c> with <paramref name="reason"/>, ends the stream and closes the connection.
    /// </summary>
    /// <returns>False if an end was already asked for.</returns>
    public bool Disconnect(string reason)
    {
        if (Interlocked.CompareExchange(ref _disconnectReason, reason, null) is not null)
        {
            return false;
        }

        try
        {
            _disconnect.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection ended meanwhile.
        }

        return true;
    }

    private string LogName => _streamName ?? Remote;

    private string Remote => _connection.RemoteEndPoint?.ToString() ?? _connection.ConnectionId;

    /// <summary>Publishes refused for their stream key on this connection (<see cref="PublishBackoff"/> counts them).</summary>
    internal int RefusedKeys { get; private set; }

    /// <summary>A publish on this connection had a good key.</summary>
    internal bool KeyAccepted { get; private set; }

    /// <summary>Runs the connection until the peer leaves, a protocol error is thrown, or a token fires.</summary>
    /// <param name="stopping">Host shutdown: the publisher is told <c>NetStream.Unpublish.Success</c>.</param>
    /// <exception cref="RtmpProtocolException">The peer broke the protocol.</exception>
    /// <exception cref="TimeoutException">The handshake/publish deadline or the idle timeout passed.</exception>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_connection.ConnectionClosed, stopping, timeout.Token, _disconnect.Token);
        var token = linked.Token;
        try
        {
            if (!await HandshakeAsync(token).ConfigureAwait(false))
            {
                return;
            }

            while (!_close)
            {
                if (_grant is not null)
                {
                    timeout.CancelAfter(_options.IdleTimeout);
                }

                var result = await _input.ReadAsync(token).ConfigureAwait(false);

                var buffer = result.Buffer;
                var consumed = buffer.Start;
                var stoppedForPublish = false;
                try
                {
                    consumed = Process(buffer);
                    if (_wait is not null && !_startDue && _waitExpired)
                    {
                        CheckWait();
                    }

                    stoppedForPublish = _pendingPublish is not null || _startDue;
                }
                catch (RtmpProtocolException ex) when (ex.Reason == RtmpProtocolException.UnsupportedCodecReason && _grant is not null)
                {
                    // Tell the encoder why, so its operator sees more than a dropped connection.
                    WriteStatus(_publishStreamId, "error", "NetStream.Publish.Failed", ex.Message);
                    await FlushBrieflyAsync().ConfigureAwait(false);
                    _linger = true;
                    throw;
                }
                finally
                {
                    // Everything the chunk reader needed was copied out; examined = End waits for new bytes.
                    // After a publish, examined = consumed: what followed it is read again at once.
                    if (stoppedForPublish)
                    {
                        _input.AdvanceTo(consumed);
                    }
                    else
                    {
                        _input.AdvanceTo(consumed, buffer.End);
                    }
                }

                if (_pendingPublish is { } publish)
                {
                    _pendingPublish = null;
                    await AcceptPublishAsync(publish.StreamId, publish.Key, token).ConfigureAwait(false);
                }

                if (_startDue)
                {
                    _startDue = false;
                    await StartStreamAsync(token).ConfigureAwait(false);
                }

                if (!_output.CanGetUnflushedBytes || _output.UnflushedBytes > 0)
                {
                    await _output.FlushAsync(token).ConfigureAwait(false);
                }

                // A cancelled read is the wait timer's wake-up (nothing else cancels this connection's reads).
                if ((result.IsCompleted && !stoppedForPublish) || (result.IsCanceled && !_waitExpired))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_disconnect.IsCancellationRequested && !stopping.IsCancellationRequested && !_connection.ConnectionClosed.IsCancellationRequested)
        {
            // Revoked key or ended broadcast: say why, briefly (the publisher may not be reading), and close.
            var reason = Volatile.Read(ref _disconnectReason) ?? "The publish was ended.";
            _metrics.Reject("ended");
            Log.Disconnected(_logger, LogName, reason);
            _session?.MarkUnpublished(); // ended on purpose: no reconnect window
            EndPublish(); // the stream ends (ENDLIST) now, not after the goodbye
            WriteStatus(_publishStreamId, "error", "NetStream.Publish.Failed", reason);
            await FlushBrieflyAsync(TimeSpan.FromMilliseconds(250)).ConfigureAwait(false);
            _linger = true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested && !_connection.ConnectionClosed.IsCancellationRequested)
        {
            throw new TimeoutException(IsPublishing ? "No data within the idle timeout." : "Handshake and publish did not complete in time.");
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            _session?.MarkUnpublished(); // shutdown ends the broadcast; no reconnect window
            await SayGoodbyeAsync().ConfigureAwait(false);
        }
        finally
        {
            _publishers.Remove(this);
            _waitTimer?.Dispose();
            _wait?.Dispose();
            _wait = null;
            EndPublish();
            if (_linger)
            {
                await LingerAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads and discards until the peer closes, at most <paramref name="within"/>.</summary>
    private async Task LingerAsync(TimeSpan within)
    {
        try
        {
            using var grace = new CancellationTokenSource(within, _time);
            while (true)
            {
                var result = await _input.ReadAsync(grace.Token).ConfigureAwait(false);
                _input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or ConnectionResetException or ConnectionAbortedException)
        {
            // Gone, or not in time: close.
        }
    }

    private async ValueTask<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        // Check C0 as soon as it arrives, so that e.g. an HTTP request is turned away at once, not at the timeout.
        var result = await _input.ReadAtLeastAsync(1, cancellationToken).ConfigureAwait(false);
        CheckC0(result.Buffer);

        result = await _input.ReadAtLeastAsync(1 + RtmpHandshake.PacketSize, cancellationToken).ConfigureAwait(false);
        if (!AnswerC0C1(result.Buffer))
        {
            return false;
        }

        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);

        result = await _input.ReadAtLeastAsync(RtmpHandshake.PacketSize, cancellationToken).ConfigureAwait(false);
        return SkipC2(result.Buffer);
    }

    private void CheckC0(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        var known = reader.TryPeek(out var c0);
        _input.AdvanceTo(buffer.Start); // nothing consumed or examined: the next read returns at once
        if (known)
        {
            RtmpHandshake.ValidateVersion(c0);
        }
    }

    private bool AnswerC0C1(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        RtmpHandshakeRequest? request;
        try
        {
            if (!RtmpHandshake.TryReadC0C1(ref reader, out request))
            {
                return false; // the peer left before sending C0+C1
            }
        }
        finally
        {
            _input.AdvanceTo(reader.Position);
        }

        const int responseLength = 1 + (2 * RtmpHandshake.PacketSize);
        var digest = RtmpHandshake.WriteResponse(request.C1, _output.GetSpan(responseLength));
        Log.Handshake(_logger, Remote, digest ? "digest" : "simple");
        _output.Advance(responseLength);
        _received += reader.Consumed;
        return true;
    }

    private bool SkipC2(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        var complete = RtmpHandshake.TrySkipC2(ref reader);

        // examined = consumed: chunk bytes may already follow C2 and must be seen by the next read.
        _input.AdvanceTo(reader.Position);
        _received += reader.Consumed;
        return complete;
    }

    private SequencePosition Process(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        // A publish stops the loop: its key is resolved asynchronously (the control plane may ask its database)
        // before any later message, such as the first media, is read.
        while (!_close && _pendingPublish is null && !_startDue && _chunkReader.TryRead(ref reader, out var message))
        {
            Handle(message);
        }

        _received += reader.Consumed;
        _metrics.ReceivedBytes.Inc(reader.Consumed);

        // §5.4.3: acknowledge once the peer's window of bytes has arrived since the last acknowledgement.
        if (_peerWindow > 0 && _received - _lastAcknowledged >= _peerWindow)
        {
            _lastAcknowledged = _received;
            Span<byte> ack = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(ack, unchecked((uint)_received));
            WriteControl(RtmpMessageType.Acknowledgement, ack);
        }

        return reader.Position;
    }

    private void Handle(in RtmpMessage message)
    {
        switch (message.TypeId)
        {
            case RtmpMessageType.WindowAcknowledgementSize:
                if (message.Payload.Length >= 4)
                {
                    _peerWindow = BinaryPrimitives.ReadUInt32BigEndian(message.Payload.Span);
                }

                break;

            case RtmpMessageType.UserControl:
                HandleUserControl(message.Payload.Span);
                break;

            case RtmpMessageType.Video:
                if (_demuxer is not null && message.StreamId == _publishStreamId)
                {
                    _demuxer.OnVideo(message.Timestamp, message.Payload);
                }
                else if (_wait is not null && message.StreamId == _publishStreamId)
                {
                    if (_wait.OnVideo(message.Timestamp, message.Payload) is { } codec)
                    {
                        throw Unsupported(codec);
                    }

                    CheckWait();
                }

                break;

            case RtmpMessageType.Audio:
                if (_demuxer is not null && message.StreamId == _publishStreamId)
                {
                    _demuxer.OnAudio(message.Timestamp, message.Payload);
                }
                else if (_wait is not null && message.StreamId == _publishStreamId)
                {
                    _wait.OnAudio(message.Timestamp, message.Payload);
                    CheckWait();
                }

                break;

            case RtmpMessageType.DataAmf0:
                HandleData(message.Payload);
                break;

            case RtmpMessageType.CommandAmf0:
                HandleCommand(message.StreamId, message.Payload);
                break;

            case RtmpMessageType.CommandAmf3:
                // An AMF3 command message starts with a format byte 0, then AMF0 values (as ffmpeg and SRS read it).
                if (message.Payload.Length > 0)
                {
                    HandleCommand(message.StreamId, message.Payload[1..]);
                }

                break;

            // SetChunkSize and Abort were applied by the chunk reader; Acknowledgement, SetPeerBandwidth,
            // AMF3 data and aggregates carry nothing a publish needs.
            default:
                break;
        }
    }

    private void HandleUserControl(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 6)
        {
            return;
        }

        var eventType = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (eventType == RtmpUserControlEvent.PingRequest)
        {
            WriteUserControl(RtmpUserControlEvent.PingResponse, BinaryPrimitives.ReadUInt32BigEndian(payload[2..]));
        }
    }

    private void ReadValues(ReadOnlyMemory<byte> payload, string what)
    {
        _values.Clear();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(payload));
        if (!Amf0Reader.TryReadAll(ref reader, _values))
        {
            throw new RtmpProtocolException($"Truncated AMF0 in a {what} message.");
        }
    }

    private void HandleData(ReadOnlyMemory<byte> payload)
    {
        // Metadata of an accepted publish is logged, and while the stream waits for its tracks it says which to
        // wait for; nothing else is decoded. Unreadable metadata is not worth closing a publish over.
        if (_grant is null)
        {
            return;
        }

        Amf0Object? announced = null;

        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(payload));
        var budget = Amf0Reader.MaxValues;
        try
        {
            if (!Amf0Reader.TryReadValue(ref reader, ref budget, out var name))
            {
                throw new RtmpProtocolException("Truncated AMF0 in a data message.");
            }

            if (name is "@setDataFrame" && !Amf0Reader.TryReadValue(ref reader, ref budget, out name))
            {
                throw new RtmpProtocolException("Truncated AMF0 in a data message.");
            }

            if (name is not "onMetaData")
            {
                return;
            }

            if (!Amf0Reader.TryReadValue(ref reader, ref budget, out var value))
            {
                throw new RtmpProtocolException("Truncated AMF0 in a data message.");
            }

            if (value is Amf0Object metadata)
            {
                announced = metadata;
                var size = (metadata.GetNumber("width") ?? 0, metadata.GetNumber("height") ?? 0, metadata.GetNumber("framerate") ?? 0);
                if (size == _metadata)
                {
                    Log.MetadataRepeated(_logger, LogName);
                }
                else
                {
                    _metadata = size;
                    Log.Metadata(_logger, LogName, size.Item1, size.Item2, size.Item3);
                }
            }
        }
        catch (RtmpProtocolException ex)
        {
            Log.UnreadableMetadata(_logger, Remote, ex.Message);
        }

        if (announced is not null && _wait is not null)
        {
            if (_wait.OnMetadata(announced) is { } codec)
            {
                throw Unsupported(codec);
            }

            CheckWait();
        }
    }

    private RtmpProtocolException Unsupported(string codec)
    {
        Log.RefusedCodec(_logger, Remote, codec);
        return new RtmpProtocolException($"Unsupported video codec ({codec}); only H.264 is accepted.")
        {
            Reason = RtmpProtocolException.UnsupportedCodecReason,
        };
    }

    /// <summary>Ends the wait when every expected track is configured, the wait time has passed, or the buffer is full.</summary>
    private void CheckWait()
    {
        var wait = _wait!;
        if (wait.Complete)
        {
            _startDue = true;
            return;
        }

        if (!wait.HasVideoConfig && !wait.HasAudioConfig)
        {
            return; // nothing to start with yet; the idle timeout bounds a publisher that never configures a track
        }

        if (wait.Full || _waitExpired || _time.GetElapsedTime(wait.Started) >= _options.TrackWait)
        {
            _startDue = true;
        }
    }

    private void HandleCommand(uint streamId, ReadOnlyMemory<byte> payload)
    {
        // The name and transaction id first, then the checks that need nothing more; the arguments are decoded
        // only for the commands that read them (connect, publish), within the AMF0 value budget.
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(payload));
        if (!Amf0Reader.TryReadCommandHeader(ref reader, out var name, out var transactionId))
        {
            throw new RtmpProtocolException("Command message without a name and transaction id.");
        }

        if (_app is null && name != "connect")
        {
            throw new RtmpProtocolException("Command before connect.");
        }

        var arguments = payload[(int)reader.Consumed..];
        switch (name)
        {
            case "connect":
                HandleConnect(transactionId, arguments);
                break;

            case "releaseStream":
                WriteCommand(0, "_result", transactionId, null, Amf0Undefined.Value);
                break;

            case "FCPublish":
                // Flash Media Server's answer that FMLE-style encoders (OBS, ffmpeg) expect.
                WriteCommand(0, "onFCPublish", 0, null, new Amf0Object().Add("code", "NetStream.Publish.Start").Add("description", "FCPublish"));
                WriteCommand(0, "_result", transactionId, null, Amf0Undefined.Value);
                break;

            case "createStream":
                WriteCommand(0, "_result", transactionId, null, (double)_nextStreamId++);
                break;

            case "publish":
                HandlePublish(streamId, arguments);
                break;

            case "FCUnpublish":
                WriteCommand(0, "onFCUnpublish", 0, null, new Amf0Object().Add("code", "NetStream.Unpublish.Success").Add("description", "FCUnpublish"));
                Unpublish();

                break;

            case "deleteStream":
            case "closeStream":
                Unpublish();

                break;

            case "play":
            case "play2":
                WriteStatus(streamId, "error", "NetStream.Play.Failed", "Playback over RTMP is not offered by this server; use HLS or DASH.");
                if (transactionId != 0)
                {
                    WriteError(transactionId, "NetConnection.Call.Failed", "Playback over RTMP is not offered by this server.");
                }

                _close = true;
                break;

            case "_result":
            case "_error":
            case "onStatus":
            case "_checkbw":
                break;

            default:
                Log.UnknownCommand(_logger, Remote, name.Length > MaxLoggedNameLength ? name[..MaxLoggedNameLength] : name);
                if (transactionId != 0)
                {
                    WriteError(transactionId, "NetConnection.Call.Failed", "Method not supported.");
                }

                break;
        }
    }

    private void HandleConnect(double transactionId, ReadOnlyMemory<byte> arguments)
    {
        if (_app is not null)
        {
            throw new RtmpProtocolException("A second connect on the same connection.");
        }

        ReadValues(arguments, "connect");
        var commandObject = _values.Count > 0 ? _values[0] as Amf0Object : null;
        var app = commandObject?.GetString("app") ?? string.Empty;
        var query = app.IndexOf('?', StringComparison.Ordinal);
        _app = (query >= 0 ? app[..query] : app).Trim('/');

        Span<byte> value = stackalloc byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(value, (uint)_options.WindowAcknowledgementSize);
        WriteControl(RtmpMessageType.WindowAcknowledgementSize, value[..4]);
        value[4] = 2; // dynamic limit type (§5.4.5)
        WriteControl(RtmpMessageType.SetPeerBandwidth, value);
        BinaryPrimitives.WriteUInt32BigEndian(value, (uint)_options.OutboundChunkSize);
        WriteControl(RtmpMessageType.SetChunkSize, value[..4]);
        _chunkWriter.ChunkSize = _options.OutboundChunkSize;

        var properties = new Amf0Object()
            .Add("fmsVer", "FMS/3,5,7,7009")
            .Add("capabilities", 31d)
            .Add("mode", 1d);
        var information = new Amf0Object()
            .Add("level", "status")
            .Add("code", "NetConnection.Connect.Success")
            .Add("description", "Connection succeeded.")
            .Add("objectEncoding", commandObject?.GetNumber("objectEncoding") ?? 0d);
        WriteCommand(0, "_result", transactionId, properties, information);
    }

    private void HandlePublish(uint streamId, ReadOnlyMemory<byte> arguments)
    {
        if (_grant is not null)
        {
            throw new RtmpProtocolException("A second publish on the same connection.");
        }

        // Arguments: the command object (null), the publishing name, the publishing type (§7.2.2.6).
        ReadValues(arguments, "publish");
        if (_values.Count < 2 || _values[1] is not string publishName)
        {
            throw new RtmpProtocolException("publish without a stream name.");
        }

        // The publish name is the stream key; a "?query" (some encoders append one) is not part of it.
        var query = publishName.IndexOf('?', StringComparison.Ordinal);
        _pendingPublish = (streamId, query >= 0 ? publishName[..query] : publishName);
    }

    /// <summary>
    /// Checks the key (creating nothing), then tells the publisher to go ahead: its media is held by a
    /// <see cref="TrackWait"/> until the stream can start with every track it announced.
    /// </summary>
    private async ValueTask AcceptPublishAsync(uint streamId, string key, CancellationToken cancellationToken)
    {
        var grant = await _keys.CheckAsync(_app!, key, cancellationToken).ConfigureAwait(false);
        if (grant is null)
        {
            RefusedKeys++;
            _metrics.Reject("bad_key");
            Log.UnknownKey(_logger, Remote);
            RejectPublish(streamId, "Invalid stream key.");
            return;
        }

        KeyAccepted = true;
        _publishStreamId = streamId;
        _metadata = null;
        Health = new IngestHealth(_time);
        _wait = new TrackWait(_time.GetTimestamp());
        _waitTimer = _time.CreateTimer(
            static state =>
            {
                // A timer callback must never throw (it would end the process): the connection may be gone by now.
                var session = (RtmpSession)state!;
                session._waitExpired = true;
                try
                {
                    session._input.CancelPendingRead();
                }
                catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
                {
                }
            },
            this,
            _options.TrackWait,
            Timeout.InfiniteTimeSpan);
        Volatile.Write(ref _grant, grant);
        _publishers.Add(this);

        // The key was good: keyframes up to MaxMessageSize from here on. The limits stay loose after an unpublish,
        // so that a frame already under way when FCUnpublish interleaves is not cut off.
        _chunkReader.Limits = RtmpChunkLimits.Publishing(_options.MaxMessageSize);
        Log.PublishAccepted(_logger, grant.ToString(), Remote);

        WriteUserControl(RtmpUserControlEvent.StreamBegin, streamId);
        WriteStatus(streamId, "status", "NetStream.Publish.Start", "Publishing started.");
    }

    /// <summary>The wait is over: the key's broadcast starts, the stream opens, and the held media is replayed into it.</summary>
    private async ValueTask StartStreamAsync(CancellationToken cancellationToken)
    {
        using var wait = _wait!;
        _wait = null;
        _waitTimer?.Dispose();
        _waitTimer = null;
        Health!.Dropped(wait.Dropped);
        var streamName = await _keys.BeginAsync(_grant!, cancellationToken).ConfigureAwait(false);
        if (streamName is null)
        {
            _metrics.Reject("bad_key");
            Log.KeyRevokedBeforeStart(_logger, Remote);
            RejectPublish(_publishStreamId, "The stream key was revoked.");
            return;
        }

        var sink = _target.TryBeginPublish(streamName);
        if (sink is null)
        {
            _metrics.Reject("duplicate");
            Log.DuplicatePublisher(_logger, streamName, Remote);
            RejectPublish(_publishStreamId, "The stream is already being published.");
            return;
        }

        Volatile.Write(ref _streamName, streamName);
        _demuxer = new FlvMediaDemuxer(sink, _logger, streamName, Health);
        if (sink is Segmenter.Media.IPublishSession session)
        {
            // A new publish with this key took over (this connection stalled): close it.
            _session = session;
            _superseded = session.Superseded.Register(static c => ((ConnectionContext)c!).Abort(new ConnectionAbortedException("Taken over by a new publish of the stream.")), _connection);
        }

        _metrics.Publishers.Inc();
        _metrics.Publishes.Inc();
        Log.PublishStarted(_logger, streamName, Remote);
        if (wait.MissingVideo)
        {
            Log.StartedWithoutTrack(_logger, streamName, "video", "announced by onMetaData", _options.TrackWait.TotalMilliseconds);
        }

        if (wait.MissingAudio)
        {
            Log.StartedWithoutTrack(_logger, streamName, "audio", "announced by onMetaData", _options.TrackWait.TotalMilliseconds);
        }

        wait.Replay(_demuxer);
    }

    /// <summary>Every refused publish hears <c>NetStream.Publish.Failed</c> (level error) with the reason before the socket closes.</summary>
    private void RejectPublish(uint streamId, string description)
    {
        WriteStatus(streamId, "error", "NetStream.Publish.Failed", description);
        _close = true;
        _linger = true;
    }

    private void Unpublish()
    {
        if (IsPublishing)
        {
            WriteStatus(_publishStreamId, "status", "NetStream.Unpublish.Success", "Stream unpublished.");
            _session?.MarkUnpublished(); // a deliberate end: no reconnect window
            EndPublish();
        }
        else if (_wait is not null)
        {
            // Gone before the stream started: nothing was created, and nothing is.
            WriteStatus(_publishStreamId, "status", "NetStream.Unpublish.Success", "Stream unpublished.");
            Log.UnpublishedWhileWaiting(_logger, Remote);
            _wait.Dispose();
            _wait = null;
        }
    }

    /// <summary>Ends the publish, if any: <see cref="Segmenter.Media.IMediaSink.OnEnd"/> runs exactly once.</summary>
    public void EndPublish()
    {
        var demuxer = _demuxer;
        if (demuxer is null)
        {
            return;
        }

        _demuxer = null;
        _superseded.Dispose();
        _metrics.Publishers.Dec();
        Log.PublishEnded(_logger, _streamName!, demuxer.VideoSamples, demuxer.AudioSamples);
        try
        {
            demuxer.End();
        }
#pragma warning disable CA1031 // The sink's failure must not hide the reason the connection ended.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SinkEndFailed(_logger, _streamName!, ex);
        }
    }

    /// <summary>Host shutdown: tell a publisher its stream is over, within a short grace period.</summary>
    private async Task SayGoodbyeAsync()
    {
        if (!IsPublishing || _connection.ConnectionClosed.IsCancellationRequested)
        {
            return;
        }

        WriteStatus(_publishStreamId, "status", "NetStream.Unpublish.Success", "Server shutting down.");
        await FlushBrieflyAsync().ConfigureAwait(false);
    }

    /// <summary>Flushes a last message within a one-second grace period, ignoring a peer that is gone or slow.</summary>
    private async Task FlushBrieflyAsync(TimeSpan? within = null)
    {
        try
        {
            using var grace = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(1), _time);
            await _output.FlushAsync(grace.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // Nothing more to say.
        }
    }

    private void WriteControl(byte typeId, ReadOnlySpan<byte> payload) =>
        _chunkWriter.Write(_output, ControlChunkStream, typeId, 0, 0, payload);

    private void WriteUserControl(ushort eventType, uint value)
    {
        Span<byte> payload = stackalloc byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(payload, eventType);
        BinaryPrimitives.WriteUInt32BigEndian(payload[2..], value);
        WriteControl(RtmpMessageType.UserControl, payload);
    }

    private void WriteStatus(uint streamId, string level, string code, string description)
    {
        var info = new Amf0Object().Add("level", level).Add("code", code).Add("description", description);
        WriteCommand(streamId, "onStatus", 0d, null, info);
    }

    private void WriteError(double transactionId, string code, string description)
    {
        var info = new Amf0Object().Add("level", "error").Add("code", code).Add("description", description);
        WriteCommand(0, "_error", transactionId, null, info);
    }

    private void WriteCommand(uint streamId, string name, double transactionId, object? commandObject, object? argument)
    {
        _scratch.ResetWrittenCount();
        Amf0Writer.WriteString(_scratch, name);
        Amf0Writer.WriteNumber(_scratch, transactionId);
        Amf0Writer.WriteValue(_scratch, commandObject);
        Amf0Writer.WriteValue(_scratch, argument);
        _chunkWriter.Write(_output, CommandChunkStream, RtmpMessageType.CommandAmf0, streamId, 0, _scratch.WrittenSpan);
    }

    public void Dispose()
    {
        _publishers.Remove(this);
        _disconnect.Dispose();
        _chunkReader.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "RTMP publish of stream {StreamName} started from {Remote}")]
        public static partial void PublishStarted(ILogger logger, string streamName, string remote);

        [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "RTMP publish of stream {StreamName} ended ({VideoSamples} video, {AudioSamples} audio samples)")]
        public static partial void PublishEnded(ILogger logger, string streamName, long videoSamples, long audioSamples);

        [LoggerMessage(EventId = 3112, Level = LogLevel.Warning, Message = "RTMP publish refused from {Remote}: unknown key")]
        public static partial void UnknownKey(ILogger logger, string remote);

        [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "RTMP publish of stream {StreamName} refused from {Remote}: the stream is already live")]
        public static partial void DuplicatePublisher(ILogger logger, string streamName, string remote);

        [LoggerMessage(EventId = 3114, Level = LogLevel.Information, Message = "RTMP stream {StreamName} metadata: {Width}x{Height} at {FrameRate} fps")]
        public static partial void Metadata(ILogger logger, string streamName, double width, double height, double frameRate);

        [LoggerMessage(EventId = 3119, Level = LogLevel.Debug, Message = "RTMP stream {StreamName}: the same metadata again")]
        public static partial void MetadataRepeated(ILogger logger, string streamName);

        [LoggerMessage(EventId = 3117, Level = LogLevel.Error, Message = "RTMP stream {StreamName}: the media sink failed to end")]
        public static partial void SinkEndFailed(ILogger logger, string streamName, Exception exception);

        [LoggerMessage(EventId = 3118, Level = LogLevel.Debug, Message = "RTMP data message from {Remote} ignored: {Reason}")]
        public static partial void UnreadableMetadata(ILogger logger, string remote, string reason);

        [LoggerMessage(EventId = 3116, Level = LogLevel.Debug, Message = "RTMP handshake with {Remote}: {Form} form")]
        public static partial void Handshake(ILogger logger, string remote, string form);

        [LoggerMessage(EventId = 3115, Level = LogLevel.Debug, Message = "RTMP command {Command} from {Remote} is not supported")]
        public static partial void UnknownCommand(ILogger logger, string remote, string command);

        [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "RTMP publish from {Remote} accepted ({Key}); waiting for its tracks")]
        public static partial void PublishAccepted(ILogger logger, string key, string remote);

        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "RTMP publish from {Remote} refused before it started: unsupported codec {Codec}")]
        public static partial void RefusedCodec(ILogger logger, string remote, string codec);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "RTMP stream {StreamName} started without {Track} ({Why}): no configuration within {WaitMs} ms")]
        public static partial void StartedWithoutTrack(ILogger logger, string streamName, string track, string why, double waitMs);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "RTMP publish from {Remote} refused: the stream key was revoked while the publish waited for its tracks")]
        public static partial void KeyRevokedBeforeStart(ILogger logger, string remote);

        [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "RTMP publish {Name} ended by the control plane: {Reason}")]
        public static partial void Disconnected(ILogger logger, string name, string reason);

        [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "RTMP publish from {Remote} unpublished before its stream started; nothing was created")]
        public static partial void UnpublishedWhileWaiting(ILogger logger, string remote);
    }
}
