using System.Buffers;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Srt.MpegTs;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Srt;

/// <summary>
/// One accepted SRT caller: its socket, its checked key, the MPEG-TS demuxer its bytes go through, and the stream they
/// end up in. Like an RTMP publish it first holds what the demuxer delivers (pooled copies, at most
/// <see cref="MaxHeldBytes"/>) until every track the PMT announced has its configuration, or the track wait has passed;
/// only then does the key's broadcast begin (<see cref="IStreamKeyResolver.BeginAsync"/>) and the stream open, with the
/// held media replayed into it. A caller refused in between (unsupported codec, revoked key, gone) has created nothing.
/// Timestamps are moved so that the stream starts at 0 (MPEG-TS encoders start at an arbitrary PTS, ffmpeg at 1.4 s).
/// Everything but <see cref="Disconnect"/> and <see cref="Link"/> runs on the ingest's one epoll thread.
/// </summary>
internal sealed class SrtPublish : IIngestPublish, IMediaSink, IDisposable
{
    public const int MaxHeldBytes = 8 * 1024 * 1024;

    private readonly List<Held> _held = [];
    private int _heldBytes;
    private bool _videoConfig;
    private bool _audioConfig;
    private long _base = long.MinValue;
    private IMediaSink? _sink;
    private string? _streamName;
    private string? _disconnectReason;
    private CancellationTokenRegistration _supersededRegistration;
    private volatile bool _superseded;

    public SrtPublish(SrtSocketHandle socket, string remote, PublishGrant grant, IngestHealth health, long acceptedAt)
    {
        Socket = socket;
        SocketId = socket.Id;
        Remote = remote;
        Grant = grant;
        Health = health;
        AcceptedAt = acceptedAt;
        LastData = acceptedAt;
        Demuxer = new TsDemuxer(this);
    }

    public SrtSocketHandle Socket { get; }

    /// <summary>The socket's id, kept for statistics after the handle is closed (libsrt then answers with an error).</summary>
    public int SocketId { get; }

    public string Remote { get; }

    public PublishGrant Grant { get; }

    public TsDemuxer Demuxer { get; }

    public long AcceptedAt { get; }

    public long LastData { get; set; }

    /// <summary>The broadcast's start, in flight.</summary>
    public Task<string?>? Beginning { get; set; }

    public bool IsLive => _sink is not null;

    public bool HasAnyConfig => _videoConfig || _audioConfig;

    /// <summary>Every track the PMT announced has its configuration.</summary>
    public bool TracksComplete => Demuxer.HasProgram && HasAnyConfig && (!Demuxer.HasVideo || _videoConfig) && (!Demuxer.HasAudio || _audioConfig);

    public bool MissingVideo => Demuxer.HasVideo && !_videoConfig;

    public bool MissingAudio => Demuxer.HasAudio && !_audioConfig;

    public bool HoldFull => _heldBytes >= MaxHeldBytes;

    public int DroppedWhileHolding { get; private set; }

    /// <summary>A new publish with this key took this one over (it stalled): the ingest closes it.</summary>
    public bool Superseded => _superseded;

    public string? DisconnectReason => Volatile.Read(ref _disconnectReason);

    public string? StreamKeyId => Grant.StreamKeyId;

    public string? StreamName => Volatile.Read(ref _streamName);

    public IngestHealth? Health { get; }

    public string Protocol => "srt";

    public unsafe IngestLinkStats? Link
    {
        get
        {
            var stats = stackalloc byte[LibSrt.TraceBStatsSize];
            if (LibSrt.BStats(SocketId, stats, 0) != 0)
            {
                return null;
            }

            return new IngestLinkStats(
                *(long*)(stats + LibSrt.OffsetPktRecvTotal),
                *(int*)(stats + LibSrt.OffsetPktRcvLossTotal),
                *(int*)(stats + LibSrt.OffsetPktRcvRetrans),
                *(int*)(stats + LibSrt.OffsetPktRcvDropTotal),
                *(double*)(stats + LibSrt.OffsetMbpsRecvRate),
                Demuxer.ContinuityErrors);
        }
    }

    public bool Disconnect(string reason) => Interlocked.CompareExchange(ref _disconnectReason, reason, null) is null;

    /// <summary>Opens the stream: the held media goes in first, its timeline moved to start at 0.</summary>
    public void Start(string streamName, IMediaSink sink)
    {
        Volatile.Write(ref _streamName, streamName);
        if (sink is IPublishSession session)
        {
            _supersededRegistration = session.Superseded.Register(static p => ((SrtPublish)p!)._superseded = true, this);
        }

        foreach (var h in _held)
        {
            if (h.Kind == HeldKind.Sample)
            {
                _base = _base == long.MinValue ? h.Dts : Math.Min(_base, h.Dts);
            }
        }

        _sink = sink;
        Health!.Dropped(DroppedWhileHolding);

        // Both configurations before any sample: the stream starts at the first video keyframe with the tracks it has
        // by then, and in MPEG-TS the first audio PES often completes after that keyframe's.
        if (_held.FindLast(h => h.Kind == HeldKind.VideoConfig) is { Buffer: not null } video)
        {
            sink.OnVideoConfig(video.Buffer.AsSpan(0, video.Length));
        }

        if (_held.FindLast(h => h.Kind == HeldKind.AudioConfig) is { Buffer: not null } audio)
        {
            sink.OnAudioConfig(audio.Buffer.AsSpan(0, audio.Length));
        }

        foreach (var h in _held)
        {
            if (h.Kind == HeldKind.Sample)
            {
                Forward(h.Track, h.Dts, h.Pts, h.Keyframe, h.Buffer.AsSpan(0, h.Length));
            }
        }

        ReleaseHeld();
    }

    /// <summary>Ends the stream if it started (<see cref="IMediaSink.OnEnd"/> exactly once).</summary>
    /// <param name="deliberate">Ended by the control plane or shutdown: no reconnect window. A dropped link keeps it.</param>
    public void End(bool deliberate)
    {
        var sink = _sink;
        _sink = null;
        _supersededRegistration.Dispose();
        if (sink is null)
        {
            return;
        }

        if (deliberate && sink is IPublishSession session)
        {
            session.MarkUnpublished();
        }

        sink.OnEnd();
    }

    public StreamPublishCounts Counts => new(Demuxer.VideoSamples, Demuxer.AudioSamples);

    void IMediaSink.OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
    {
        _videoConfig = true;
        if (_sink is { } sink)
        {
            sink.OnVideoConfig(avcDecoderConfigurationRecord);
        }
        else
        {
            Hold(HeldKind.VideoConfig, TrackKind.Video, 0, 0, false, avcDecoderConfigurationRecord, force: true);
        }
    }

    void IMediaSink.OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
    {
        _audioConfig = true;
        if (_sink is { } sink)
        {
            sink.OnAudioConfig(audioSpecificConfig);
        }
        else
        {
            Hold(HeldKind.AudioConfig, TrackKind.Audio, 0, 0, false, audioSpecificConfig, force: true);
        }
    }

    void IMediaSink.OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        Health!.OnSample(track, dts, isKeyframe, data.Length);
        if (_sink is not null)
        {
            Forward(track, dts, pts, isKeyframe, data);
        }
        else if (track == TrackKind.Video ? !_videoConfig : !_audioConfig)
        {
            DroppedWhileHolding++;
        }
        else
        {
            Hold(HeldKind.Sample, track, dts, pts, isKeyframe, data, force: false);
        }
    }

    void IMediaSink.OnEnd()
    {
    }

    private void Forward(TrackKind track, long dts, long pts, bool keyframe, ReadOnlySpan<byte> data)
    {
        if (_base == long.MinValue)
        {
            _base = dts;
        }

        var d = Math.Max(0, dts - _base);
        _sink!.OnSample(track, d, Math.Max(d, pts - _base), keyframe, data);
    }

    private void Hold(HeldKind kind, TrackKind track, long dts, long pts, bool keyframe, ReadOnlySpan<byte> data, bool force)
    {
        if (!force && _heldBytes + data.Length > MaxHeldBytes)
        {
            DroppedWhileHolding++;
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
        data.CopyTo(buffer);
        _heldBytes += data.Length;
        _held.Add(new Held(kind, track, dts, pts, keyframe, buffer, data.Length));
    }

    private void ReleaseHeld()
    {
        foreach (var h in _held)
        {
            ArrayPool<byte>.Shared.Return(h.Buffer);
        }

        _held.Clear();
        _heldBytes = 0;
    }

    public void Dispose()
    {
        _supersededRegistration.Dispose();
        ReleaseHeld();
        Demuxer.Dispose();
        Socket.Dispose();
    }

    private enum HeldKind : byte
    {
        VideoConfig,
        AudioConfig,
        Sample,
    }

    private readonly record struct Held(HeldKind Kind, TrackKind Track, long Dts, long Pts, bool Keyframe, byte[] Buffer, int Length);
}

internal readonly record struct StreamPublishCounts(long VideoSamples, long AudioSamples);
