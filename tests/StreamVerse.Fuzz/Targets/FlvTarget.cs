using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Flv;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// An FLV file (or FLV tags without the file header) fed tag by tag to <see cref="FlvMediaDemuxer"/> as an RTMP
/// publish feeds message bodies, with script tags read as the session reads @setDataFrame/onMetaData. The sink parses
/// the AVC and AAC configurations as the segmenter does. Invariants: the demuxer throws only
/// <see cref="RtmpProtocolException"/> (which ends the publish, and so the run), the config parsers only
/// <see cref="InvalidDataException"/>; a tag header reads only what it needs or reports truncation; samples are
/// non-empty, come after their track's configuration, and are counted; a parsed configuration is within the limits
/// the segmenter relies on (picture 16..8192 on each side, a sample rate, 1..8 channels).
/// </summary>
internal static class FlvTarget
{
    private const int TagHeaderBytes = 11;

    public static void Run(byte[] input)
    {
        var mark = Check.AllocationMark();
        var sink = new CheckingMediaSink();
        var demuxer = new FlvMediaDemuxer(sink, NullLogger.Instance, "fuzz");
        var position = input.AsSpan().StartsWith("FLV"u8) && input.Length >= 13 ? 13 : 0; // file header + PreviousTagSize0
        try
        {
            while (input.Length - position >= TagHeaderBytes)
            {
                var header = input.AsSpan(position, TagHeaderBytes);
                var type = header[0] & 0x1F;
                var size = (header[1] << 16) | (header[2] << 8) | header[3];
                var timestamp = (uint)((header[7] << 24) | (header[4] << 16) | (header[5] << 8) | header[6]);
                position += TagHeaderBytes;
                var body = input.AsMemory(position, Math.Min(size, input.Length - position));
                position += body.Length + Math.Min(4, input.Length - position - body.Length); // PreviousTagSize
                switch (type)
                {
                    case 8:
                        AudioHeader(body);
                        demuxer.OnAudio(timestamp, body);
                        break;
                    case 9:
                        VideoHeader(body);
                        demuxer.OnVideo(timestamp, body);
                        break;
                    case 18:
                        Script(body);
                        break;
                }

                Check.That(demuxer.VideoSamples == sink.VideoSamples && demuxer.AudioSamples == sink.AudioSamples, "sample counts differ from what reached the sink");
            }

            demuxer.End();
            demuxer.End();
            Check.That(sink.Ends == 1, $"the sink saw {sink.Ends} ends for two End calls");
        }
        catch (RtmpProtocolException)
        {
        }

        Check.AllocatedAtMost(mark, input.Length, 32, "FLV demux");
    }

    private static void VideoHeader(ReadOnlyMemory<byte> body)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(body));
        if (FlvVideoTagHeader.TryRead(ref reader, out var header))
        {
            Check.That(reader.Consumed <= 8, $"a video tag header of {reader.Consumed} bytes");
            Check.That(header.CompositionTimeMs is >= -(1 << 23) and < 1 << 23, "a composition time outside 24 bits");
            _ = header.FourCcText();
        }
        else
        {
            Check.That(reader.Consumed == 0 && body.Length < 8, $"a {body.Length}-byte video tag header reported truncated");
        }
    }

    private static void AudioHeader(ReadOnlyMemory<byte> body)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(body));
        var read = FlvAudioTagHeader.TryRead(ref reader, out _);
        Check.That(read ? reader.Consumed <= 2 : reader.Consumed == 0 && body.Length < 2, "audio tag header consumed out of bounds");
    }

    /// <summary>As RtmpSession.HandleData: a name (after an optional @setDataFrame), then for onMetaData one value.</summary>
    private static void Script(ReadOnlyMemory<byte> body)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(body));
        var budget = Amf0Reader.MaxValues;
        try
        {
            if (Amf0Reader.TryReadValue(ref reader, ref budget, out var name)
                && (name is not "@setDataFrame" || Amf0Reader.TryReadValue(ref reader, ref budget, out name))
                && name is "onMetaData"
                && Amf0Reader.TryReadValue(ref reader, ref budget, out var value)
                && value is Amf0Object metadata)
            {
                _ = metadata.GetNumber("width");
                _ = metadata.GetString("encoder");
            }
        }
        catch (RtmpProtocolException)
        {
            // Unreadable metadata is logged and ignored by the session.
        }
    }
}
