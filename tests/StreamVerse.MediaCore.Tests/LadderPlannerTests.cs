using StreamVerse.MediaCore.Transcode;

namespace StreamVerse.MediaCore.Tests;

public sealed class LadderPlannerTests
{
    private static string Sizes(int w, int h) =>
        string.Join(" ", LadderPlanner.Plan(w, h, LadderOptions.DefaultRungs).Select(r => $"{r.Width}x{r.Height}"));

    [Theory]
    [InlineData(1920, 1080, "1920x1080 1280x720 852x480 640x360 426x240")]
    [InlineData(1280, 720, "1280x720 852x480 640x360 426x240")]
    [InlineData(1080, 1920, "1080x1920 720x1280 480x852 360x640 240x426")] // portrait: the short side picks the rung
    [InlineData(3840, 2160, "1920x1080 1280x720 852x480 640x360 426x240")] // never above the template
    [InlineData(321, 241, "320x240")] // odd source: even sizes
    [InlineData(1000, 500, "960x480 720x360 480x240")] // 2:1
    [InlineData(100, 60, "100x60")] // below the smallest rung: one rung at the (even) source size
    public void Rungs_never_upscale_and_are_even(int w, int h, string expected) => Assert.Equal(expected, Sizes(w, h));

    [Theory]
    [InlineData(3840, 2160, "3840x2160 2560x1440 1920x1080 1280x720 852x480 640x360 426x240")]
    [InlineData(2560, 1440, "2560x1440 1920x1080 1280x720 852x480 640x360 426x240")]
    [InlineData(1920, 1080, "1920x1080 1280x720 852x480 640x360 426x240")] // no rung above the source
    [InlineData(2160, 3840, "2160x3840 1440x2560 1080x1920 720x1280 480x852 360x640 240x426")]
    public void Above_hd_rungs_are_planned_only_for_sources_that_tall(int w, int h, string expected) =>
        Assert.Equal(expected, string.Join(" ", LadderPlanner.Plan(w, h, LadderOptions.WithAboveHd(LadderOptions.DefaultRungs)).Select(r => $"{r.Width}x{r.Height}")));

    [Fact]
    public void Bitrates_and_rate_caps_follow_the_template()
    {
        var rungs = LadderPlanner.Plan(1280, 720, LadderOptions.DefaultRungs);
        Assert.Equal([3_000_000, 1_400_000, 730_000, 300_000], rungs.Select(r => r.Bitrate));
        Assert.All(rungs, r => Assert.Equal((int)(r.Bitrate * 1.1), r.MaxRate));
        Assert.All(rungs, r => Assert.Equal((int)(r.Bitrate * 1.5), r.BufferSize));
        var tiny = Assert.Single(LadderPlanner.Plan(100, 60, LadderOptions.DefaultRungs));
        Assert.InRange(tiny.Bitrate, 64_000, 300_000);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new LadderOptions { Rungs = [] }.Validate());
        Assert.Throws<ArgumentException>(() => new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(0.5) }.Validate());
        Assert.Throws<ArgumentException>(() => new LadderOptions { Rungs = [new LadderRung(720, 1000) { MaxRate = 10 }] }.Validate());
        new LadderOptions().Validate();
    }
}
