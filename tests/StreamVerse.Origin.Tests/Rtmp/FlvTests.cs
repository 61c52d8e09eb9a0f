using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Flv;
using StreamVerse.Segmenter.Media;
using static StreamVerse.Origin.Tests.Rtmp.SequenceHelpers;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class FlvTests
{
    private static FlvVideoTagHeader ReadVideo(byte[] bytes, out long consumed)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(FlvVideoTagHeader.TryRead(ref reader, out var header));
        consumed = reader.Consumed;
        return header;
    }

    [Fact]
    public void Legacy_avc_nalu_header_with_negative_composition_time()
    {
        var header = ReadVideo([0x17, 0x01, 0xFF, 0xFF, 0xD8, 0, 0, 0, 1, 0x65], out var consumed);
        Assert.True(header.IsAvc);
        Assert.True(header.IsKeyframe);
        Assert.Equal(FlvVideoPacketKind.Frames, header.Kind);
        Assert.Equal(-40, header.CompositionTimeMs);
        Assert.Equal(5, consumed);
    }

    [Fact]
    public void Enhanced_avc1_coded_frames_and_coded_frames_x()
    {
        var frames = ReadVideo([0x91, (byte)'a', (byte)'v', (byte)'c', (byte)'1', 0, 0, 80, 1, 2], out var consumed);
        Assert.True(frames.IsEnhanced && frames.IsAvc && frames.IsKeyframe);
        Assert.Equal(FlvVideoPacketKind.Frames, frames.Kind);
        Assert.Equal(80, frames.CompositionTimeMs);
        Assert.Equal(8, consumed);

        var framesX = ReadVideo([0xA3, (byte)'a', (byte)'v', (byte)'c', (byte)'1', 9], out consumed);
        Assert.Equal(FlvVideoPacketKind.Frames, framesX.Kind);
        Assert.False(framesX.IsKeyframe);
        Assert.Equal(0, framesX.CompositionTimeMs);
        Assert.Equal(5, consumed);

        var hevc = ReadVideo([0x90, (byte)'h', (byte)'v', (byte)'c', (byte)'1', 1], out _);
        Assert.False(hevc.IsAvc);
        Assert.Equal("hvc1", hevc.FourCcText());
    }

    [Fact]
    public void Tag_headers_parse_at_every_split_point()
    {
        byte[][] tags =
        [
            [0x17, 0x00, 0, 0, 0, 1, 2, 3],
            [0x27, 0x01, 0x00, 0x00, 0x28, 9],
            [0x91, (byte)'a', (byte)'v', (byte)'c', (byte)'1', 0xFF, 0xFF, 0xFF, 7],
            [0x80, (byte)'a', (byte)'v', (byte)'c', (byte)'1', 1],
        ];
        foreach (var tag in tags)
        {
            var expected = ReadVideo(tag, out var consumed);
            for (var split = 0; split <= tag.Length; split++)
            {
                var reader = new SequenceReader<byte>(Segments(tag[..split], tag[split..]));
                Assert.True(FlvVideoTagHeader.TryRead(ref reader, out var header));
                Assert.Equal(expected, header);
                Assert.Equal(consumed, reader.Consumed);
            }

            var header1 = ParseIncrementally<FlvVideoTagHeader, FlvVideoTagHeader>(Bytewise(tag[..(int)consumed]), FlvVideoTagHeader.TryRead, h => h);
            Assert.Equal([expected], header1);
        }

        byte[] aac = [0xAF, 0x01, 0x21, 0x10];
        for (var split = 0; split <= aac.Length; split++)
        {
            var reader = new SequenceReader<byte>(Segments(aac[..split], aac[split..]));
            Assert.True(FlvAudioTagHeader.TryRead(ref reader, out var header));
            Assert.Equal(new FlvAudioTagHeader(10, 1), header);
            Assert.Equal(2, reader.Consumed);
        }
    }

    [Fact]
    public void Demuxer_maps_timestamps_drops_samples_before_config_and_ends_once()
    {
        var sink = new RecordingSink("s");
        var demuxer = new FlvMediaDemuxer(sink, NullLogger.Instance, "s");
        demuxer.OnVideo(0, new byte[] { 0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65 }); // before config: dropped
        demuxer.OnAudio(0, new byte[] { 0xAF, 0x01, 1, 2 });                      // before config: dropped
        demuxer.OnVideo(0, new byte[] { 0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1F });
        demuxer.OnAudio(0, new byte[] { 0xAF, 0x00, 0x11, 0x90 });
        demuxer.OnVideo(40, new byte[] { 0x17, 0x01, 0, 0, 80, 0, 0, 0, 1, 0x65 });
        demuxer.OnVideo(80, new byte[] { 0x27, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x41 });
        demuxer.OnAudio(43, new byte[] { 0xAF, 0x01, 1, 2, 3 });
        demuxer.OnVideo(120, new byte[] { 0x27, 0x02, 0, 0, 0 }); // end of sequence: ignored
        demuxer.End();
        demuxer.End();

        Assert.Single(sink.VideoConfigs);
        Assert.Equal(new byte[] { 1, 0x64, 0, 0x1F }, sink.VideoConfigs[0]);
        Assert.Equal(new byte[] { 0x11, 0x90 }, sink.AudioConfigs[0]);
        Assert.Equal(
            [
                new Sample(TrackKind.Video, 40 * 90, 120 * 90, true, 5),
                new Sample(TrackKind.Video, 80 * 90, 80 * 90, false, 5),
                new Sample(TrackKind.Audio, 43 * 90, 43 * 90, true, 3),
            ],
            sink.Samples);
        Assert.Equal(1, sink.Ends);
    }

    [Fact]
    public void Demuxer_unwraps_32_bit_timestamps()
    {
        var sink = new RecordingSink("s");
        var demuxer = new FlvMediaDemuxer(sink, NullLogger.Instance, "s");
        demuxer.OnAudio(0, new byte[] { 0xAF, 0x00, 0x11, 0x90 });
        demuxer.OnAudio(0xFFFFFFF0, new byte[] { 0xAF, 0x01, 1 });
        demuxer.OnAudio(0x00000010, new byte[] { 0xAF, 0x01, 1 });
        Assert.Equal(0xFFFFFFF0L * 90, sink.Samples[0].Dts);
        Assert.Equal(0x100000010L * 90, sink.Samples[1].Dts);
    }

    [Fact]
    public void Unsupported_video_codec_throws_and_unsupported_audio_is_ignored()
    {
        var sink = new RecordingSink("s");
        var demuxer = new FlvMediaDemuxer(sink, NullLogger.Instance, "s");
        demuxer.OnAudio(0, new byte[] { 0x2F, 1, 2, 3 }); // MP3: ignored from now on
        demuxer.OnAudio(0, new byte[] { 0xAF, 0x00, 0x11, 0x90 });
        Assert.Empty(sink.AudioConfigs);

        demuxer.OnVideo(0, new byte[] { 0x17, 0x00, 0, 0, 0, 1 });
        Assert.Single(sink.VideoConfigs);

        var ex = Assert.Throws<RtmpProtocolException>(() => demuxer.OnVideo(0, new byte[] { 0x90, (byte)'h', (byte)'v', (byte)'c', (byte)'1', 1 }));
        Assert.Equal(RtmpProtocolException.UnsupportedCodecReason, ex.Reason);
        Assert.Contains("hvc1", ex.Message, StringComparison.Ordinal);
        Assert.Throws<RtmpProtocolException>(() => demuxer.OnVideo(0, new byte[] { 0x12, 0 })); // Sorenson H.263
    }
}
