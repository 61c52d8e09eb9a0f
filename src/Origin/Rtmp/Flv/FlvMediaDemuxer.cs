using System.Buffers;
using Microsoft.Extensions.Logging;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Rtmp.Flv;

/// <summary>
/// Turns RTMP audio/video message bodies of one published stream into <see cref="IMediaSink"/> calls:
/// H.264 (legacy CodecID 7 or enhanced <c>avc1</c>) and AAC. RTMP millisecond timestamps are unwrapped from
/// 32 bits into a long and converted to 90 kHz ticks; PTS = DTS + composition time.
/// Samples that come before their track's configuration are dropped (and counted in the stream's health). Other audio codecs are ignored (logged once);
/// other video codecs end the publish.
/// </summary>
internal sealed partial class FlvMediaDemuxer(IMediaSink sink, ILogger logger, string streamName, IngestHealth? health = null)
{
    private const long TicksPerMillisecond = 90;

    private bool _hasVideoConfig;
    private bool _hasAudioConfig;
    private bool _audioIgnored;
    private bool _hasTimestamp;
    private uint _lastTimestamp;
    private long _unwrappedMs;
    private bool _ended;

    public long VideoSamples { get; private set; }

    public long AudioSamples { get; private set; }

    /// <exception cref="RtmpProtocolException">Truncated header or an unsupported video codec.</exception>
    public void OnVideo(uint timestamp, ReadOnlyMemory<byte> body)
    {
        if (_ended || body.IsEmpty)
        {
            return;
        }

        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(body));
        if (!FlvVideoTagHeader.TryRead(ref reader, out var header))
        {
            throw new RtmpProtocolException($"Truncated video tag header ({body.Length} bytes).");
        }

        if (UnsupportedVideoCodec(header) is { } codec)
        {
            throw UnsupportedVideo(codec);
        }

        var data = body.Span[(int)reader.Consumed..];
        switch (header.Kind)
        {
            case FlvVideoPacketKind.SequenceHeader:
                if (data.IsEmpty)
                {
                    throw new RtmpProtocolException("Empty AVC sequence header.");
                }

                _hasVideoConfig = true;
                sink.OnVideoConfig(data);
                break;

            case FlvVideoPacketKind.Frames:
            {
                var dtsMs = Unwrap(timestamp);
                if (!_hasVideoConfig || data.IsEmpty)
                {
                    health?.Dropped(1);
                    return;
                }

                VideoSamples++;
                health?.OnSample(TrackKind.Video, dtsMs * TicksPerMillisecond, header.IsKeyframe, data.Length);
                sink.OnSample(TrackKind.Video, dtsMs * TicksPerMillisecond, (dtsMs + header.CompositionTimeMs) * TicksPerMillisecond, header.IsKeyframe, data);
                break;
            }
        }
    }

    /// <exception cref="RtmpProtocolException">Truncated AAC header.</exception>
    public void OnAudio(uint timestamp, ReadOnlyMemory<byte> body)
    {
        if (_ended || body.IsEmpty || _audioIgnored)
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
            _audioIgnored = true;
            Log.UnsupportedAudio(logger, streamName, header.SoundFormat);
            return;
        }

        var data = body.Span[(int)reader.Consumed..];
        switch (header.AacPacketType)
        {
            case 0:
                if (data.IsEmpty)
                {
                    throw new RtmpProtocolException("Empty AAC AudioSpecificConfig.");
                }

                _hasAudioConfig = true;
                sink.OnAudioConfig(data);
                break;
            case 1:
            {
                var dtsMs = Unwrap(timestamp);
                if (!_hasAudioConfig || data.IsEmpty)
                {
                    health?.Dropped(1);
                    return;
                }

                AudioSamples++;
                var ticks = dtsMs * TicksPerMillisecond;
                health?.OnSample(TrackKind.Audio, ticks, true, data.Length);
                sink.OnSample(TrackKind.Audio, ticks, ticks, true, data);
                break;
            }
        }
    }

    /// <summary>
    /// The codec a video tag names if this demuxer cannot take it (for the log and the publisher's
    /// <c>NetStream.Publish.Failed</c>), or null for H.264 and for tags that carry no media (command frames).
    /// </summary>
    public static string? UnsupportedVideoCodec(in FlvVideoTagHeader header)
    {
        if (header.Kind == FlvVideoPacketKind.Other && !header.IsEnhanced && header.CodecId != FlvVideoTagHeader.CodecAvc && header.FrameType != FlvVideoTagHeader.FrameTypeCommand)
        {
            return $"FLV CodecID {header.CodecId}";
        }

        // Enhanced RTMP packet types 6 (multitrack) and 7 (ModEx) change the layout; neither is supported.
        if (header.IsEnhanced && header.PacketType is 6 or 7)
        {
            return $"enhanced RTMP packet type {header.PacketType}";
        }

        return header.IsEnhanced && header.FourCc != 0 && !header.IsAvc ? $"FourCC {header.FourCcText()}" : null;
    }

    /// <summary>Calls <see cref="IMediaSink.OnEnd"/> the first time only.</summary>
    public void End()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        sink.OnEnd();
    }

    /// <summary>
    /// RTMP timestamps are 32-bit milliseconds and wrap after ~49.7 days (24-bit fields after ~4.66 h are carried
    /// into the extended field by the chunk layer). Audio and video may step back slightly against each other,
    /// so each timestamp is taken as a signed 32-bit step from the previous one.
    /// </summary>
    private long Unwrap(uint timestamp)
    {
        if (!_hasTimestamp)
        {
            _hasTimestamp = true;
            _lastTimestamp = timestamp;
            _unwrappedMs = timestamp;
            return _unwrappedMs;
        }

        _unwrappedMs += unchecked((int)(timestamp - _lastTimestamp));
        _lastTimestamp = timestamp;
        return _unwrappedMs;
    }

    private RtmpProtocolException UnsupportedVideo(string codec)
    {
        Log.UnsupportedVideo(logger, streamName, codec);
        return new RtmpProtocolException($"Unsupported video codec ({codec}); only H.264 is accepted.")
        {
            Reason = RtmpProtocolException.UnsupportedCodecReason,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3140, Level = LogLevel.Warning, Message = "RTMP stream {StreamName}: unsupported audio codec (FLV SoundFormat {SoundFormat}); audio is ignored")]
        public static partial void UnsupportedAudio(ILogger logger, string streamName, int soundFormat);

        [LoggerMessage(EventId = 3141, Level = LogLevel.Warning, Message = "RTMP stream {StreamName}: unsupported codec {Codec}; closing the publish")]
        public static partial void UnsupportedVideo(ILogger logger, string streamName, string codec);
    }
}
