using System.Buffers.Binary;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Tests.Infrastructure;

/// <summary>One FLV tag, already split into what an <see cref="IMediaSink"/> receives.</summary>
internal sealed record FlvSample(TrackKind Track, bool IsConfig, long Dts, long Pts, bool IsKeyframe, byte[] Data);

/// <summary>
/// Test-only FLV reader (Adobe FLV spec v10.1 §E): 9-byte header, PreviousTagSize0, then tags of an 11-byte
/// header, payload and 4-byte previous tag size. Video: FrameType/CodecID, AVCPacketType, 24-bit signed CTS;
/// audio: 0xAF, AACPacketType.
/// </summary>
internal static class FlvReader
{
    public static List<FlvSample> Read(string path)
    {
        var file = File.ReadAllBytes(path);
        if (file.Length < 13 || file[0] != (byte)'F' || file[1] != (byte)'L' || file[2] != (byte)'V')
        {
            throw new InvalidDataException("Not an FLV file.");
        }

        var samples = new List<FlvSample>();
        var offset = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(5)) + 4;
        while (offset + 11 <= file.Length)
        {
            var type = file[offset] & 0x1F;
            var size = (file[offset + 1] << 16) | (file[offset + 2] << 8) | file[offset + 3];
            var timestamp = (long)((file[offset + 7] << 24) | (file[offset + 4] << 16) | (file[offset + 5] << 8) | file[offset + 6]);
            var payload = file.AsSpan(offset + 11, size);
            offset += 11 + size + 4;

            if (type == 9 && payload.Length > 5 && (payload[0] & 0x0F) == 7)
            {
                var key = (payload[0] >> 4) == 1;
                var packetType = payload[1];
                var cts = (payload[2] << 16) | (payload[3] << 8) | payload[4];
                if ((cts & 0x800000) != 0)
                {
                    cts -= 0x1000000;
                }

                if (packetType == 0)
                {
                    samples.Add(new FlvSample(TrackKind.Video, true, 0, 0, false, payload[5..].ToArray()));
                }
                else if (packetType == 1)
                {
                    samples.Add(new FlvSample(TrackKind.Video, false, timestamp * 90, (timestamp + cts) * 90, key, payload[5..].ToArray()));
                }
            }
            else if (type == 8 && payload.Length > 2 && (payload[0] >> 4) == 10)
            {
                var config = payload[1] == 0;
                samples.Add(new FlvSample(TrackKind.Audio, config, timestamp * 90, timestamp * 90, true, payload[2..].ToArray()));
            }
        }

        return samples;
    }

    /// <param name="clock">When given, its wall clock follows the media clock (as if ingest ran in real time).</param>
    public static void Feed(IMediaSink sink, IEnumerable<FlvSample> samples, bool end = true, ManualTimeProvider? clock = null)
    {
        var start = clock?.GetUtcNow() ?? default;
        foreach (var s in samples)
        {
            if (clock is not null && !s.IsConfig)
            {
                clock.Advance(start + TimeSpan.FromSeconds(s.Dts / 90000.0) - clock.GetUtcNow());
            }

            Feed(sink, s);
        }

        if (end)
        {
            sink.OnEnd();
        }
    }

    public static void Feed(IMediaSink sink, FlvSample s)
    {
        if (s.IsConfig)
        {
            if (s.Track == TrackKind.Video)
            {
                sink.OnVideoConfig(s.Data);
            }
            else
            {
                sink.OnAudioConfig(s.Data);
            }
        }
        else
        {
            sink.OnSample(s.Track, s.Dts, s.Pts, s.IsKeyframe, s.Data);
        }
    }
}
