using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

public sealed class CodecConfigTests
{
    [Theory]
    [InlineData("25", 320, 240, 25.0)]
    [InlineData("30g50", 320, 240, 30.0)]
    [InlineData("crop", 318, 178, 25.0)]
    public void Sps_gives_cropped_size_and_vui_frame_rate(string variant, int width, int height, double fps)
    {
        var avcC = FlvReader.Read(Tools.Fixture(variant, 1)).First(s => s.IsConfig && s.Track == TrackKind.Video).Data;
        var config = AvcConfig.Parse(avcC);
        Assert.Equal(width, config.Width);
        Assert.Equal(height, config.Height);
        Assert.Equal(fps, config.FrameRate);
        Assert.Matches("^avc1\\.[0-9A-F]{6}$", config.Codec);
        Assert.Equal($"avc1.{avcC[1]:X2}{avcC[2]:X2}{avcC[3]:X2}", config.Codec);
    }

    [Fact]
    public void Asc_gives_object_type_rate_and_channels()
    {
        var config = AacConfig.Parse([0x11, 0x90]);
        Assert.Equal(2, config.ObjectType);
        Assert.Equal(48000, config.SampleRate);
        Assert.Equal(2, config.Channels);
        Assert.Equal(1024, config.FrameLength);
        Assert.Equal("mp4a.40.2", config.Codec);

        var mono44 = AacConfig.Parse([0x12, 0x08]);
        Assert.Equal(44100, mono44.SampleRate);
        Assert.Equal(1, mono44.Channels);
    }

    [Fact]
    public void Exp_golomb_reads_ue_and_se()
    {
        // 1 | 010 | 011 | 00100 | 00101 -> ue 0,1,2,3 then se(4) = -2
        var r = new BitReader([0b1010_0110, 0b0100_0010, 0b1000_0000]);
        Assert.Equal(0u, r.ReadUe());
        Assert.Equal(1u, r.ReadUe());
        Assert.Equal(2u, r.ReadUe());
        Assert.Equal(3u, r.ReadUe());
        Assert.Equal(-2, r.ReadSe());
    }

    [Fact]
    public void Emulation_prevention_bytes_are_removed()
    {
        Assert.Equal(new byte[] { 0, 0, 1, 0, 0, 0 }, BitReader.Unescape([0, 0, 3, 1, 0, 0, 3, 0]));
    }
}
