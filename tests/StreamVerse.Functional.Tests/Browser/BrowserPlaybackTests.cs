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

        var run = await Node.RunAsync("play.mjs", Long, "hls", $"{daemon.BaseUrl}/live/cam/index.m3u8", PlaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = Report(run, daemon);

        Assert.True(result.GetProperty("fatal").GetInt32() == 0, "hls.js reported fatal errors: " + Describe(run, daemon));
        Assert.True(result.GetProperty("started").GetBoolean(), "playback never started: " + Describe(run, daemon));
        var advanced = result.GetProperty("advanced").GetDouble();
        Assert.True(advanced >= PlaySeconds / 2.0, $"currentTime advanced by only {advanced:0.###} s in {PlaySeconds} s: " + Describe(run, daemon));
        Assert.True(run.ExitCode == 0, Describe(run, daemon));
        AssertDecoded(result, run, daemon);
        Assert.Equal(1, result.GetProperty("levels").GetInt32()); // one video variant...
        Assert.Equal(1, result.GetProperty("audioTracks").GetInt32()); // ...and the EXT-X-MEDIA audio rendition

        // Low-latency mode really is low latency: hls.js holds back PART-HOLD-BACK from the live edge, not 3 target durations.
        if (result.GetProperty("latency").ValueKind == JsonValueKind.Number)
        {
            var latency = result.GetProperty("latency").GetDouble();
            Assert.True(latency is > 0 and < 10, $"hls.js latency {latency:0.###} s: " + Describe(run, daemon));
        }
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

        var run = await Node.RunAsync("play.mjs", Long, "dash", $"{daemon.BaseUrl}/live/cam/index.mpd", PlaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = Report(run, daemon);

        Assert.True(result.GetProperty("fatal").GetInt32() == 0, "dash.js reported errors: " + Describe(run, daemon));
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
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 12);
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

        Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
        foreach (var playlist in new[] { "live/cam/video.m3u8", "live/cam/audio.m3u8" })
        {
            await WaitForTextAsync(daemon, playlist, "#EXT-X-ENDLIST", TimeSpan.FromSeconds(15));
        }

        var ended = await Node.RunAsync("lint-hls.mjs", Long, master);
        Report(ended, daemon);
        Assert.True(ended.ExitCode == 0, "ended playlists: " + Describe(ended, daemon));
    }

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

    [GeneratedRegex(@"^#EXTINF:", RegexOptions.Multiline)]
    private static partial Regex ExtInf();
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
