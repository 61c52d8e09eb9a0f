using System.Buffers;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;
using StreamVerse.Origin.Rtmp.Flv;

namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// The time between an accepted publish and the start of its stream. Encoders send the audio and video sequence
/// headers in either order (and some send audio frames before the video configuration); a stream started on the
/// first of them would fix its track set too early (issue 17, defect 2). So media messages are held here, in pooled
/// copies and within <see cref="MaxBytes"/> and <see cref="MaxMessages"/>, until every track that onMetaData announced
/// has its configuration, or the wait time has passed, or the buffer is full. Without onMetaData nothing was announced:
/// the stream starts at the first configuration, as before.
/// Every video tag is checked as it arrives, so an unsupported codec is refused before anything has been created
/// (defect 5). One instance per publish, used on the connection's read loop only.
/// </summary>
internal sealed class TrackWait : IDisposable
{
    public const int MaxBytes = 8 * 1024 * 1024;
    public const int MaxMessages = 4096;

    /// <summary>onMetaData <c>videocodecid</c> of enhanced RTMP: the FourCC as a number.</summary>
    private static readonly double Avc1FourCcNumber = FlvVideoTagHeader.Avc1FourCc;

    private readonly List<Held> _held = [];
    private readonly long _started;
    private int _bytes;
    private bool _expectVideo;
    private bool _expectAudio;
    private int _videoConfig = -1;
    private int _audioConfig = -1;

    public TrackWait(long startedTimestamp) => _started = startedTimestamp;

    public long Started => _started;

    public bool HasVideoConfig => _videoConfig >= 0;

    public bool HasAudioConfig => _audioConfig >= 0;

    /// <summary>The announced video track has not shown its configuration.</summary>
    public bool MissingVideo => _expectVideo && !HasVideoConfig;

    public bool MissingAudio => _expectAudio && !HasAudioConfig;

    /// <summary>Every expected track has its configuration (and at least one track has one).</summary>
    public bool Complete => (HasVideoConfig || HasAudioConfig) && !MissingVideo && !MissingAudio;

    public bool Full => _bytes >= MaxBytes || _held.Count >= MaxMessages;

    /// <summary>Frames dropped here: before their track's configuration, or with the buffer full.</summary>
    public int Dropped { get; private set; }

    /// <summary>Takes onMetaData's track announcements.</summary>
    /// <returns>The unsupported video codec it names, or null.</returns>
    public string? OnMetadata(Amf0Object metadata)
    {
        var hasVideoCodec = metadata.TryGetValue("videocodecid", out var videoCodec);
        var hasAudioCodec = metadata.TryGetValue("audiocodecid", out var audioCodec);
        _expectVideo = hasVideoCodec || metadata.GetNumber("width") > 0;
        _expectAudio = hasAudioCodec || metadata.GetNumber("audiosamplerate") > 0;

        // Audio in another codec than AAC is ignored by the demuxer: nothing to wait for.
        if (audioCodec is double audio && audio != FlvAudioTagHeader.SoundFormatAac)
        {
            _expectAudio = false;
        }

        return videoCodec switch
        {
            double id when id == FlvVideoTagHeader.CodecAvc || id == Avc1FourCcNumber => null,
            double id when id is >= 0 and <= 15 => $"FLV CodecID {id:0}",
            double id when id is > 0 and <= uint.MaxValue => $"FourCC {new FlvVideoTagHeader(0, true, 0, (uint)id, 0, FlvVideoPacketKind.Other, 0).FourCcText()}",
            _ => null,
        };
    }

    /// <summary>Holds a copy of a video message.</summary>
    /// <returns>The unsupported codec it carries, or null.</returns>
    /// <exception cref="RtmpProtocolException">A truncated header.</exception>
    public string? OnVideo(uint timestamp, ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(body));
        if (!FlvVideoTagHeader.TryRead(ref reader, out var header))
        {
            throw new RtmpProtocolException($"Truncated video tag header ({body.Length} bytes).");
        }

        if (FlvMediaDemuxer.UnsupportedVideoCodec(header) is { } codec)
        {
            return codec;
        }

        switch (header.Kind)
        {
            case FlvVideoPacketKind.SequenceHeader:
                _videoConfig = Hold(RtmpMessageType.Video, timestamp, body, config: true);
                break;
            case FlvVideoPacketKind.Frames when HasVideoConfig && !Full:
                Hold(RtmpMessageType.Video, timestamp, body, config: false);
                break;
            case FlvVideoPacketKind.Frames:
                Dropped++;
                break;
            default:
                break;
        }

        return null;
    }

    /// <summary>Holds a copy of an audio message (AAC only: other audio is ignored by the demuxer anyway).</summary>
    /// <exception cref="RtmpProtocolException">A truncated header.</exception>
    public void OnAudio(uint timestamp, ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return;
        }

        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(body));
        if (!FlvAudioTagHeader.TryRead(ref reader, out var header))
        {
            throw new RtmpProtocolException("Truncated AAC audio tag header.");
        }

        if (!header.IsAac)
        {
            // Let the demuxer see (and log) it once the stream starts; there is no AAC to wait for.
            _expectAudio = false;
            return;
        }

        if (header.AacPacketType == 0)
        {
            _audioConfig = Hold(RtmpMessageType.Audio, timestamp, body, config: true);
        }
        else if (HasAudioConfig && !Full)
        {
            Hold(RtmpMessageType.Audio, timestamp, body, config: false);
        }
        else
        {
            Dropped++;
        }
    }

    /// <summary>
    /// Hands everything held to <paramref name="demuxer"/>: the latest configuration of each track first (a sink
    /// fixes its tracks at its first sample), then the frames in arrival order.
    /// </summary>
    public void Replay(FlvMediaDemuxer demuxer)
    {
        if (HasVideoConfig)
        {
            Feed(demuxer, _held[_videoConfig]);
        }

        if (HasAudioConfig)
        {
            Feed(demuxer, _held[_audioConfig]);
        }

        foreach (var held in _held)
        {
            if (!held.Config)
            {
                Feed(demuxer, held);
            }
        }
    }

    public void Dispose()
    {
        foreach (var held in _held)
        {
            ArrayPool<byte>.Shared.Return(held.Buffer);
        }

        _held.Clear();
        _bytes = 0;
    }

    private static void Feed(FlvMediaDemuxer demuxer, Held held)
    {
        var body = held.Buffer.AsMemory(0, held.Length);
        if (held.Type == RtmpMessageType.Video)
        {
            demuxer.OnVideo(held.Timestamp, body);
        }
        else
        {
            demuxer.OnAudio(held.Timestamp, body);
        }
    }

    private int Hold(byte type, uint timestamp, ReadOnlyMemory<byte> body, bool config)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(body.Length);
        body.Span.CopyTo(buffer);
        _held.Add(new Held(type, timestamp, buffer, body.Length, config));
        _bytes += body.Length;
        return _held.Count - 1;
    }

    private readonly record struct Held(byte Type, uint Timestamp, byte[] Buffer, int Length, bool Config);
}
