using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StreamVerse.Functional.Tests.Browser;

/// <summary>
/// Real browser players against the real daemon: hls.js (low-latency mode) and dash.js in headless Chromium,
/// driven by tests/browser/play.mjs, and the HLS playlists checked by tests/browser/lint-hls.mjs
/// (hls-parser strict mode plus the LL-HLS rules of draft-pantos-hls-rfc8216bis).
/// </summary>
/// <remarks>
/// Headless Chromium, the daemon and a real-time ffmpeg publisher are heavy for a 2-core machine, and the
/// assertions are about timing (playback advances, latency); the class runs in its own non-parallel collection.
/// </remarks>
[Collection(BrowserCollection.Name)]
public sealed partial class BrowserPlaybackTests(ITestOutputHelper output)
{
    private const int PlaySeconds = 8;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    private static string NewKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    [Fact]
    public async Task Hls_js_plays_the_live_stream_in_low_latency_mode()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 40);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        await WaitForSegmentsAsync(daemon, "live/cam/video.m3u8", 1, TimeSpan.FromSeconds(20));

        var laneBefore = await daemon.MetricAsync("streamverse_http_fast_lane_responses_total");
        var run = await Node.RunAsync("play.mjs", Long, "hls", $"{daemon.BaseUrl}/live/cam/index.m3u8", PlaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = Report(run, daemon);
        var laneResponses = await daemon.MetricAsync("streamverse_http_fast_lane_responses_total") - laneBefore;

        Assert.True(result.GetProperty("fatal").GetInt32() == 0, "hls.js reported fatal errors: " + Describe(run, daemon));
        Assert.True(result.GetProperty("started").GetBoolean(), "playback never started: " + Describe(run, daemon));
        var advanced = result.GetProperty("advanced").GetDouble();
        Assert.True(advanced >= PlaySeconds / 2.0, $"currentTime advanced by only {advanced:0.###} s in {PlaySeconds} s: " + Describe(run, daemon));
        Assert.True(run.ExitCode == 0, Describe(run, daemon));
        AssertDecoded(result, run, daemon);
        Assert.Equal(1, result.GetProperty("levels").GetInt32()); // one video variant...
        Assert.Equal(1, result.GetProperty("audioTracks").GetInt32()); // ...and the EXT-X-MEDIA audio rendition

        // Low-latency mode was really used: parts were loaded and the playlist was reloaded with blocking requests,
        // and hls.js played closer to the live edge than the three target durations standard HLS holds back.
        var requests = result.GetProperty("requests");
        Assert.True(result.GetProperty("partsLoaded").GetInt32() > 0, "hls.js loaded no LL-HLS parts: " + Describe(run, daemon));
        Assert.True(requests.GetProperty("blocking").GetInt32() > 0, "hls.js made no blocking (_HLS_msn) playlist reloads: " + Describe(run, daemon));
        // The browser's cross-origin requests (with Origin) were answered by the fast lane, CORS headers included.
        Assert.True(laneResponses >= result.GetProperty("partsLoaded").GetInt32(), $"{laneResponses} fast-lane responses during playback: " + Describe(run, daemon));
        var targetDuration = int.Parse(TargetDuration().Match(await daemon.Http.GetStringAsync("live/cam/video.m3u8")).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(JsonValueKind.Number, result.GetProperty("latency").ValueKind);
        var latency = result.GetProperty("latency").GetDouble();
        Assert.True(latency > 0 && latency < 3 * targetDuration, $"hls.js latency {latency:0.###} s, 3 x target duration is {3 * targetDuration} s: " + Describe(run, daemon));
    }

    [Fact]
    public async Task Dash_js_plays_the_live_mpd()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 40);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.mpd", TimeSpan.FromSeconds(20));
        await WaitForSegmentsAsync(daemon, "live/cam/video.m3u8", 2, TimeSpan.FromSeconds(20));

        // From the start of the window (PLAY_START_AT=0: dash.js's own start for a stream younger than its live delay):
        // every AdaptationSet must have a segment there. The audio of an RTMP publisher starts ~60 ms after the video;
        // with a hole at the start of the audio timeline, dash.js seeked over it ("gap in the manifest") and, when its
        // video buffer had moved the clock first, waited for audio at 0 forever (CI: playback never started).
        var run = await Node.RunAsync("play.mjs", Long, "dash", $"{daemon.BaseUrl}/live/cam/index.mpd", PlaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "0");
        var result = Report(run, daemon);

        Assert.True(result.GetProperty("fatal").GetInt32() == 0, "dash.js reported errors: " + Describe(run, daemon));
        Assert.True(result.GetProperty("gapSeeks").GetInt32() == 0, "dash.js found a track without a segment at the start: " + Describe(run, daemon));
        // The MPD's UTCTiming points at the daemon's /time: the clock sync must succeed (code 16 = TIME_SYNC_FAILED).
        Assert.DoesNotContain(result.GetProperty("errors").EnumerateArray(), e => e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.GetInt32() == 16);
        Assert.True(result.GetProperty("started").GetBoolean(), "playback never started: " + Describe(run, daemon));
        var advanced = result.GetProperty("advanced").GetDouble();
        Assert.True(advanced >= PlaySeconds / 2.0, $"currentTime advanced by only {advanced:0.###} s in {PlaySeconds} s: " + Describe(run, daemon));
        Assert.True(run.ExitCode == 0, Describe(run, daemon));
        AssertDecoded(result, run, daemon);
    }

    [Fact]
    public async Task Hls_playlists_conform_while_live_and_when_ended()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 26);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        await WaitForSegmentsAsync(daemon, "live/cam/video.m3u8", 2, TimeSpan.FromSeconds(20));
        await WaitForSegmentsAsync(daemon, "live/cam/audio.m3u8", 2, TimeSpan.FromSeconds(20));

        var master = $"{daemon.BaseUrl}/live/cam/index.m3u8";
        var live = await Node.RunAsync("lint-hls.mjs", Long, master);
        var liveResult = Report(live, daemon);
        Assert.True(live.ExitCode == 0, "live playlists: " + Describe(live, daemon));

        // The live run must have exercised the LL-HLS requests, not just the plain playlists.
        var checkedUrls = liveResult.GetProperty("checked").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(checkedUrls, u => u.Contains("_HLS_msn=", StringComparison.Ordinal) && u.Contains("_HLS_part=", StringComparison.Ordinal));
        Assert.Contains(checkedUrls, u => u.Contains("_HLS_skip=YES", StringComparison.Ordinal));

        // Once the window is longer than the skip boundary (CAN-SKIP-UNTIL) plus a target duration, the delta
        // update must actually skip segments; lint the whole set again then.
        var video = await daemon.Http.GetStringAsync("live/cam/video.m3u8");
        var skipUntil = double.Parse(CanSkipUntil().Match(video).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var target = int.Parse(TargetDuration().Match(video).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await WaitForWindowAsync(daemon, "live/cam/video.m3u8", skipUntil + target, TimeSpan.FromSeconds(40));
        await WaitForWindowAsync(daemon, "live/cam/audio.m3u8", skipUntil + target - 0.5, TimeSpan.FromSeconds(10));
        var longer = await Node.RunAsync("lint-hls.mjs", Long, master);
        var longerResult = Report(longer, daemon);
        Assert.True(longer.ExitCode == 0, "live playlists past the skip boundary: " + Describe(longer, daemon));
        foreach (var media in longerResult.GetProperty("observed").EnumerateObject())
        {
            Assert.True(media.Value.GetProperty("skippedSegments").GetInt32() > 0, $"{media.Name}?_HLS_skip=YES skipped nothing: " + Describe(longer, daemon));
        }

        Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
        foreach (var playlist in new[] { "live/cam/video.m3u8", "live/cam/audio.m3u8" })
        {
            await WaitForTextAsync(daemon, playlist, "#EXT-X-ENDLIST", TimeSpan.FromSeconds(15));
        }

        var ended = await Node.RunAsync("lint-hls.mjs", Long, master);
        Report(ended, daemon);
        Assert.True(ended.ExitCode == 0, "ended playlists: " + Describe(ended, daemon));
    }

    [Fact]
    public async Task Ended_recording_plays_in_hls_js_and_dash_js()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using (var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 10))
        {
            await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
            Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
        }

        await WaitForTextAsync(daemon, "live/cam/video.m3u8", "#EXT-X-ENDLIST", TimeSpan.FromSeconds(15));
        await WaitForTextAsync(daemon, "live/cam/audio.m3u8", "#EXT-X-ENDLIST", TimeSpan.FromSeconds(15));
        await WaitForTextAsync(daemon, "live/cam/index.mpd", "type=\"static\"", TimeSpan.FromSeconds(15));

        foreach (var (player, url) in new[] { ("hls", "index.m3u8"), ("dash", "index.mpd") })
        {
            var run = await Node.RunAsync("play.mjs", Long, player, $"{daemon.BaseUrl}/live/cam/{url}", "4");
            var result = Report(run, daemon);
            if (player == "dash" && StalledWithoutErrors(result))
            {
                // dash.js 5.2.1 now and then never starts a static MPD (one of ~5 full runs, before and after the fast
                // lane served browsers): no error event, no failed request, a few video frames and no audio appended.
                // A second page load of the same recording is the judge; a server-side failure would show in both.
                output.WriteLine("dash.js stalled at the start without any error; loading the page once more");
                run = await Node.RunAsync("play.mjs", Long, player, $"{daemon.BaseUrl}/live/cam/{url}", "4");
                result = Report(run, daemon);
            }
            Assert.True(result.GetProperty("fatal").GetInt32() == 0, $"{player}: fatal errors on the recording: " + Describe(run, daemon));
            Assert.True(run.ExitCode == 0, $"{player}: " + Describe(run, daemon));
            AssertDecoded(result, run, daemon);
            Assert.True(result.GetProperty("startTime").GetDouble() < 1.0, $"{player}: a recording starts at its beginning: " + Describe(run, daemon));
        }
    }

    /// <summary>Playback never started and the player reported nothing: no error event, no fatal error, no non-fatal one.</summary>
    private static bool StalledWithoutErrors(JsonElement result) =>
        !result.GetProperty("started").GetBoolean()
        && result.GetProperty("fatal").GetInt32() == 0
        && result.GetProperty("nonFatal").GetInt32() == 0
        && result.GetProperty("errors").GetArrayLength() == 0;

    /// <summary>Frames were decoded at the published size and the audio track was decoded too (it is muted, not absent).</summary>
    private static void AssertDecoded(JsonElement result, (int ExitCode, string Stdout, string Stderr) run, Daemon daemon)
    {
        Assert.True(result.GetProperty("videoFrames").GetInt32() > 0, "no video frames decoded: " + Describe(run, daemon));
        Assert.True(result.GetProperty("videoSize").GetString() == "320x240", "video size: " + Describe(run, daemon));
        Assert.True(result.GetProperty("audioBytes").GetInt64() > 0, "no audio decoded: " + Describe(run, daemon));
    }

    private JsonElement Report((int ExitCode, string Stdout, string Stderr) run, Daemon daemon)
    {
        output.WriteLine($"exit {run.ExitCode}");
        output.WriteLine(run.Stdout);
        if (run.Stderr.Length > 0)
        {
            output.WriteLine("stderr: " + run.Stderr);
        }

        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, "no JSON line from node: " + Describe(run, daemon));
        return JsonDocument.Parse(line!).RootElement.Clone();
    }

    private static string Describe((int ExitCode, string Stdout, string Stderr) run, Daemon daemon)
    {
        var log = daemon.Output;
        return $"exit {run.ExitCode}\nstdout: {run.Stdout}\nstderr: {run.Stderr}\ndaemon (last 4000 chars):\n{log[Math.Max(0, log.Length - 4000)..]}";
    }

    private static async Task WaitForSegmentsAsync(Daemon daemon, string path, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await daemon.Http.GetAsync(path);
            last = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode && ExtInf().Matches(last).Count >= count)
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{path} did not list {count} complete segments in {timeout}:\n{last}\n{daemon.Output}");
    }

    private static async Task WaitForTextAsync(Daemon daemon, string path, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await daemon.Http.GetAsync(path);
            last = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode && last.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{path} has no {text} after {timeout}:\n{last}");
    }

    /// <summary>Waits until the live playlist's segments (EXTINF) add up to at least <paramref name="seconds"/>.</summary>
    private static async Task WaitForWindowAsync(Daemon daemon, string path, double seconds, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            last = await daemon.Http.GetStringAsync(path);
            var total = ExtInfDuration().Matches(last).Sum(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            if (total >= seconds)
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{path} never held {seconds} s of segments in {timeout}:\n{last}");
    }

    [GeneratedRegex(@"^#EXTINF:", RegexOptions.Multiline)]
    private static partial Regex ExtInf();

    [GeneratedRegex(@"^#EXTINF:([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex ExtInfDuration();

    [GeneratedRegex(@"^#EXT-X-TARGETDURATION:(\d+)", RegexOptions.Multiline)]
    private static partial Regex TargetDuration();

    [GeneratedRegex(@"CAN-SKIP-UNTIL=([0-9.]+)")]
    private static partial Regex CanSkipUntil();
}

/// <summary>The node project in tests/browser (package.json, installed by <c>./setup.sh deps</c>).</summary>
internal static class Node
{
    public static string BrowserDir { get; } = Path.Combine(Paths.RepoRoot, "tests", "browser");

    public static void RequireDependencies()
    {
        foreach (var package in new[] { "playwright-core", "hls.js", "dashjs", "hls-parser" })
        {
            if (!Directory.Exists(Path.Combine(BrowserDir, "node_modules", package)))
            {
                Assert.Fail($"{Path.Combine(BrowserDir, "node_modules", package)} is missing: run ./setup.sh deps (npm ci in tests/browser)");
            }
        }

        if (!File.Exists("/usr/bin/chromium") && Environment.GetEnvironmentVariable("CHROMIUM_PATH") is null)
        {
            Assert.Fail("/usr/bin/chromium is missing: run ./setup.sh deps");
        }
    }

    /// <summary>Runs <c>node script args</c> with tests/browser as the working directory.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        using var tool = Tool.StartIn(BrowserDir, "node", [script, .. args]);
        var code = await tool.WaitAsync(timeout);
        return (code, tool.Stdout, tool.Stderr);
    }
}

/// <summary>Runs the browser tests alone, after the parallel collections, so their timing is not starved.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection
{
    public const string Name = "Browser (not parallel)";
}
