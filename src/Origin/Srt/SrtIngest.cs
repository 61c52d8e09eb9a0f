using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Srt.MpegTs;

namespace StreamVerse.Origin.Srt;

/// <summary>
/// The SRT listener (<c>StreamVerse:Srt:Listen</c>): callers publish MPEG-TS with the stream key in their stream id.
/// <para>
/// Refusal before anything exists: libsrt calls <see cref="OnListen"/> during the handshake, before it creates the
/// connection; there the stream id is parsed (<see cref="SrtStreamId"/>), the publisher count is checked and the key is
/// checked (<see cref="IStreamKeyResolver.CheckAsync"/>, which creates nothing), and a refused caller hears an SRT reject
/// reason (<c>SRT_REJX_*</c>): 1400 bad stream id, 1405 a mode other than publish, 1401 an unknown or revoked key or a
/// banned account, 1402 full. The key check runs on libsrt's receiver thread (the hook must answer synchronously); it is a
/// single indexed read, bounded by a 3 s timeout, and a refused caller costs nothing more.
/// </para>
/// <para>
/// One thread (<c>srt-ingest</c>) waits in <c>srt_epoll_uwait</c> on the listener and every accepted socket, reads what is
/// ready, demultiplexes it (<see cref="TsDemuxer"/>) and drives each publish's start, end, disconnect request and idle
/// timeout; its wait returns at least every 100 ms, so a disconnect asked by the control plane takes effect within that.
/// The broadcast's start (a database write) runs as a task the loop looks at; nothing on the loop blocks on I/O.
/// </para>
/// </summary>
internal sealed partial class SrtIngest : IHostedService, IDisposable
{
    private const int MaxEvents = 64;
    private const int WaitMilliseconds = 100;
    private const int ReceiveBufferSize = 1500; // one SRT live-mode payload is at most 1456 bytes
    private const int MaxMessagesPerWakeup = 256;
    private static readonly TimeSpan TendInterval = TimeSpan.FromMilliseconds(50);

    private readonly SrtOptions _options;
    private readonly RtmpOptions _rtmp;
    private readonly IStreamKeyResolver _keys;
    private readonly ILivePublishTarget _target;
    private readonly RtmpPublishers _publishers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, Pending> _pending = new();
    private readonly Dictionary<int, SrtPublish> _publishes = [];
    private readonly CancellationTokenSource _stopping = new();
    private SrtSocketHandle? _listener;
    private SrtEpollHandle? _epoll;
    private GCHandle _self;
    private Thread? _thread;
    private int _count;
    private int _disposed;

    public SrtIngest(IOptions<SrtOptions> options, IOptions<RtmpOptions> rtmp, IStreamKeyResolver keys, ILivePublishTarget target,
        RtmpPublishers publishers, TimeProvider time, ILogger<SrtIngest> logger)
    {
        _options = options.Value;
        _rtmp = rtmp.Value;
        _keys = keys;
        _target = target;
        _publishers = publishers;
        _time = time;
        _logger = logger;
    }

    /// <summary>A caller whose key was checked during its handshake, until <c>srt_accept</c> hands over its socket.</summary>
    private sealed record Pending(PublishGrant Grant, string Remote, long At);

    public unsafe Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.ParseEndPoint() is not { } endPoint)
        {
            return Task.CompletedTask;
        }

        LibSrt.EnsureVersion();
        if (LibSrt.Startup() < 0)
        {
            throw new SrtException("srt_startup");
        }

        _listener = new SrtSocketHandle(LibSrt.CreateSocket());
        if (_listener.IsInvalid)
        {
            throw new SrtException("srt_create_socket");
        }

        var id = _listener.Id;
        // Accepted sockets inherit these: non-blocking reads, the latency, the passphrase.
        LibSrt.SetBool(id, LibSrt.OptRcvSyn, false);
        LibSrt.SetInt(id, LibSrt.OptRcvLatency, _options.LatencyMilliseconds);
        if (!string.IsNullOrEmpty(_options.Passphrase))
        {
            LibSrt.SetString(id, LibSrt.OptPassphrase, _options.Passphrase);
        }

        Span<byte> address = stackalloc byte[28];
        var length = LibSrt.WriteSockAddr(endPoint, address);
        fixed (byte* a = address)
        {
            if (LibSrt.Bind(id, a, length) == LibSrt.Error)
            {
                throw new InvalidOperationException($"{SrtOptions.Section}:Listen: cannot bind {endPoint}: {LibSrt.LastErrorText()}");
            }
        }

        _self = GCHandle.Alloc(this);
        if (LibSrt.ListenCallback(id, &ListenHook, GCHandle.ToIntPtr(_self)) == LibSrt.Error || LibSrt.Listen(id, 16) == LibSrt.Error)
        {
            throw new SrtException("srt_listen");
        }

        _epoll = new SrtEpollHandle(LibSrt.EpollCreate());
        if (_epoll.IsInvalid)
        {
            throw new SrtException("srt_epoll_create");
        }

        Watch(id);
        _thread = new Thread(Run) { IsBackground = true, Name = "srt-ingest" };
        _thread.Start();
        Log.Listening(_logger, endPoint.ToString(), _options.LatencyMilliseconds, !string.IsNullOrEmpty(_options.Passphrase));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_thread is null)
        {
            return Task.CompletedTask;
        }

        _stopping.Cancel();
        _thread.Join();
        _thread = null;
        return Task.CompletedTask;
    }

    private unsafe void Watch(int socket)
    {
        var events = LibSrt.EpollIn | LibSrt.EpollErr;
        if (LibSrt.EpollAddUsock(_epoll!.Id, socket, &events) == LibSrt.Error)
        {
            throw new SrtException("srt_epoll_add_usock");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe int ListenHook(nint opaque, int socket, int handshakeVersion, byte* peer, byte* streamId)
    {
        // Called by libsrt's receiver thread: it must not throw.
        try
        {
            return ((SrtIngest)GCHandle.FromIntPtr(opaque).Target!).OnListen(socket, LibSrt.ReadSockAddr(peer), Marshal.PtrToStringUTF8((nint)streamId));
        }
#pragma warning disable CA1031 // Anything thrown here would cross into native code and end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
            LibSrt.SetRejectReason(socket, SrtRejectReasons.InternalError);
            return -1;
        }
    }

    private int OnListen(int socket, string remote, string? streamId)
    {
        if (_stopping.IsCancellationRequested)
        {
            return Reject(socket, remote, SrtRejectReasons.Overload, "The server is shutting down.");
        }

        if (!SrtStreamId.TryParse(streamId ?? string.Empty, out var id, out var error))
        {
            return Reject(socket, remote, error.Reason, error.Message);
        }

        if (Volatile.Read(ref _count) + _pending.Count >= _options.MaxPublishers)
        {
            return Reject(socket, remote, SrtRejectReasons.Overload, "Too many SRT publishers.");
        }

        // r=KEY, or r=APP/KEY with the RTMP application name (some encoders fill both fields of an RTMP-style form).
        var resource = id!.Resource;
        var slash = resource.IndexOf('/', StringComparison.Ordinal);
        var (app, key) = slash >= 0 ? (resource[..slash], resource[(slash + 1)..]) : (_rtmp.Application, resource);
        PublishGrant? grant;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                grant = _keys.CheckAsync(app, key, timeout.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return Reject(socket, remote, SrtRejectReasons.InternalError, "The stream key could not be checked in time.");
            }
        }

        if (grant is null)
        {
            return Reject(socket, remote, SrtRejectReasons.Unauthorized, "Invalid stream key.");
        }

        _pending[socket] = new Pending(grant, remote, _time.GetTimestamp());
        Log.Accepted(_logger, remote, grant.ToString());
        return 0;
    }

    private int Reject(int socket, string remote, int reason, string message)
    {
        LibSrt.SetRejectReason(socket, reason);
        Log.Refused(_logger, remote, reason, message);
        return -1;
    }

    private unsafe void Run()
    {
        var events = stackalloc int[MaxEvents * 2];
        var buffer = stackalloc byte[ReceiveBufferSize];
        var lastTend = _time.GetTimestamp();
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var ready = LibSrt.EpollUwait(_epoll!.Id, events, MaxEvents, WaitMilliseconds);
                for (var i = 0; i < ready; i++)
                {
                    var socket = events[2 * i];
                    if (socket == _listener!.Id)
                    {
                        AcceptOne();
                    }
                    else if (_publishes.TryGetValue(socket, out var publish))
                    {
                        Read(publish, buffer);
                    }
                }

                // Starts, ends and timeouts at most every 50 ms: with many callers the wait returns far more often.
                var now = _time.GetTimestamp();
                if (ready <= 0 || _time.GetElapsedTime(lastTend, now) >= TendInterval)
                {
                    lastTend = now;
                    Tend();
                }
            }
        }
#pragma warning disable CA1031 // The loop's failure is logged; the host keeps serving everything else.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.LoopFailed(_logger, ex);
        }
        finally
        {
            foreach (var publish in _publishes.Values.ToList())
            {
                Close(publish, deliberate: true, "the server is shutting down");
            }

            _epoll?.Dispose();
            _listener?.Dispose();
            if (_self.IsAllocated)
            {
                _self.Free();
            }

            LibSrt.Cleanup();
        }
    }

    /// <summary>One connection per readiness report: the wait is level-triggered, so another pending one is reported again
    /// (accepting until "none pending" would make libsrt log an error for each empty accept).</summary>
    private unsafe void AcceptOne()
    {
        var socket = LibSrt.Accept(_listener!.Id, null, null);
        if (socket == LibSrt.InvalidSocket)
        {
            return; // SRT_EASYNCRCV: none pending after all
        }

        var handle = new SrtSocketHandle(socket);
        if (!_pending.TryRemove(socket, out var pending))
        {
            handle.Dispose();
            return;
        }

        var publish = new SrtPublish(handle, pending.Remote, pending.Grant, new IngestHealth(_time), _time.GetTimestamp());
        _publishes[socket] = publish;
        Interlocked.Increment(ref _count);
        _publishers.Add(publish);
        try
        {
            Watch(socket);
        }
        catch (SrtException ex)
        {
            Close(publish, deliberate: false, ex.Message);
        }
    }

    private unsafe void Read(SrtPublish publish, byte* buffer)
    {
        for (var n = 0; n < MaxMessagesPerWakeup; n++)
        {
            var read = LibSrt.RecvMsg(publish.SocketId, buffer, ReceiveBufferSize);
            if (read == LibSrt.Error)
            {
                if (LibSrt.LastError() == LibSrt.ErrorAsyncReceive)
                {
                    return;
                }

                Close(publish, deliberate: false, "the connection was lost: " + LibSrt.LastErrorText());
                return;
            }

            if (read == 0)
            {
                return;
            }

            publish.LastData = _time.GetTimestamp();
            try
            {
                publish.Demuxer.Feed(new ReadOnlySpan<byte>(buffer, read));
            }
            catch (TsUnsupportedException ex)
            {
                // Refused before anything was created if it is not live yet (the PMT comes first).
                Close(publish, deliberate: true, ex.Message);
                return;
            }
#pragma warning disable CA1031 // One publish's failure (its sink, the segmenter) ends that publish, not the loop serving the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.PublishFailed(_logger, publish.StreamName ?? publish.Remote, ex);
                Close(publish, deliberate: false, ex.Message);
                return;
            }

            if (!publish.IsLive && publish.Beginning is null && (publish.TracksComplete || (publish.HoldFull && publish.HasAnyConfig)))
            {
                Begin(publish);
            }
        }
    }

    /// <summary>Once per wakeup: starts, disconnects, takeovers, timeouts.</summary>
    private void Tend()
    {
        var now = _time.GetTimestamp();
        List<(SrtPublish, bool, string)>? closing = null;
        foreach (var publish in _publishes.Values)
        {
            if (publish.DisconnectReason is { } reason)
            {
                (closing ??= []).Add((publish, true, reason));
            }
            else if (publish.Superseded)
            {
                (closing ??= []).Add((publish, false, "taken over by a new publish of the stream"));
            }
            else if (_time.GetElapsedTime(publish.LastData, now) > _options.IdleTimeout)
            {
                (closing ??= []).Add((publish, false, "no data within the idle timeout"));
            }
            else if (publish.Beginning is { IsCompleted: true } beginning)
            {
                publish.Beginning = null;
                try
                {
                    if (Started(publish, beginning) is { } refusal)
                    {
                        (closing ??= []).Add((publish, false, refusal));
                    }
                }
#pragma warning disable CA1031 // As in Read: this publish ends, the loop goes on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.PublishFailed(_logger, publish.StreamName ?? publish.Remote, ex);
                    (closing ??= []).Add((publish, false, ex.Message));
                }
            }
            else if (!publish.IsLive && publish.Beginning is null && _time.GetElapsedTime(publish.AcceptedAt, now) > _rtmp.TrackWait)
            {
                if (publish.HasAnyConfig)
                {
                    Begin(publish);
                }
                else if (_time.GetElapsedTime(publish.AcceptedAt, now) > _options.IdleTimeout)
                {
                    (closing ??= []).Add((publish, false, "no H.264 or AAC configuration within the idle timeout"));
                }
            }
        }

        if (closing is not null)
        {
            foreach (var (publish, deliberate, reason) in closing)
            {
                Close(publish, deliberate, reason);
            }
        }

        foreach (var (socket, pending) in _pending)
        {
            // A handshake the hook admitted but libsrt never completed (a wrong passphrase, the caller gave up).
            if (_time.GetElapsedTime(pending.At, now) > TimeSpan.FromSeconds(30))
            {
                _pending.TryRemove(socket, out _);
            }
        }
    }

    private void Begin(SrtPublish publish)
    {
        if (publish.MissingVideo || publish.MissingAudio)
        {
            Log.StartedWithoutTrack(_logger, publish.Remote, publish.MissingVideo ? "video" : "audio");
        }

        publish.Beginning = _keys.BeginAsync(publish.Grant, _stopping.Token).AsTask();
    }

    /// <returns>Why the publish cannot start, or null once it is live.</returns>
    private string? Started(SrtPublish publish, Task<string?> beginning)
    {
        if (!beginning.IsCompletedSuccessfully)
        {
            return "the broadcast could not start: " + beginning.Exception?.GetBaseException().Message;
        }

        if (beginning.Result is not { } streamName)
        {
            return "the stream key was revoked before the stream started";
        }

        var sink = _target.TryBeginPublish(streamName);
        if (sink is null)
        {
            return "the stream is already being published";
        }

        publish.Start(streamName, sink);
        Log.PublishStarted(_logger, streamName, publish.Remote);
        return null;
    }

    private void Close(SrtPublish publish, bool deliberate, string reason)
    {
        _publishes.Remove(publish.SocketId);
        _publishers.Remove(publish);
        Interlocked.Decrement(ref _count);
        LibSrt.EpollRemoveUsock(_epoll!.Id, publish.SocketId);
        var live = publish.IsLive;
        try
        {
            publish.Demuxer.Flush();
            publish.End(deliberate);
        }
#pragma warning disable CA1031 // The sink's failure must not stop the loop that serves every other publisher.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SinkEndFailed(_logger, publish.StreamName ?? publish.Remote, ex);
        }

        if (live)
        {
            Log.PublishEnded(_logger, publish.StreamName!, reason, publish.Counts.VideoSamples, publish.Counts.AudioSamples, publish.Demuxer.ContinuityErrors);
        }
        else
        {
            Log.ClosedBeforeStart(_logger, publish.Remote, reason);
        }

        publish.Dispose();
    }

    /// <summary>Idempotent: the container disposes this instance both as itself and as the hosted service.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _thread?.Join();
        _stopping.Dispose();
        _listener?.Dispose();
        _epoll?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7200, Level = LogLevel.Information, Message = "SRT ingest listening on {EndPoint} (latency {LatencyMs} ms, encrypted {Encrypted})")]
        public static partial void Listening(ILogger logger, string endPoint, int latencyMs, bool encrypted);

        [LoggerMessage(EventId = 7201, Level = LogLevel.Warning, Message = "SRT caller {Remote} refused ({Reason}): {Message}")]
        public static partial void Refused(ILogger logger, string remote, int reason, string message);

        [LoggerMessage(EventId = 7202, Level = LogLevel.Information, Message = "SRT caller {Remote} accepted ({Key}); waiting for its tracks")]
        public static partial void Accepted(ILogger logger, string remote, string key);

        [LoggerMessage(EventId = 7203, Level = LogLevel.Information, Message = "SRT publish of stream {StreamName} started from {Remote}")]
        public static partial void PublishStarted(ILogger logger, string streamName, string remote);

        [LoggerMessage(EventId = 7204, Level = LogLevel.Information, Message = "SRT publish of stream {StreamName} ended: {Reason} ({VideoSamples} video, {AudioSamples} audio samples, {ContinuityErrors} continuity errors)")]
        public static partial void PublishEnded(ILogger logger, string streamName, string reason, long videoSamples, long audioSamples, long continuityErrors);

        [LoggerMessage(EventId = 7205, Level = LogLevel.Warning, Message = "SRT caller {Remote} closed before its stream started, nothing was created: {Reason}")]
        public static partial void ClosedBeforeStart(ILogger logger, string remote, string reason);

        [LoggerMessage(EventId = 7206, Level = LogLevel.Warning, Message = "SRT publish from {Remote} starts without its announced {Track} track: no configuration within the track wait")]
        public static partial void StartedWithoutTrack(ILogger logger, string remote, string track);

        [LoggerMessage(EventId = 7207, Level = LogLevel.Error, Message = "SRT stream {Name}: the media sink failed to end")]
        public static partial void SinkEndFailed(ILogger logger, string name, Exception exception);

        [LoggerMessage(EventId = 7209, Level = LogLevel.Error, Message = "SRT publish {Name} failed")]
        public static partial void PublishFailed(ILogger logger, string name, Exception exception);

        [LoggerMessage(EventId = 7208, Level = LogLevel.Critical, Message = "SRT ingest loop failed; SRT publishing is down until restart")]
        public static partial void LoopFailed(ILogger logger, Exception exception);
    }
}
