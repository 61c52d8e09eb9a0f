using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StreamVerse.Functional.Tests.Browser;

/// <summary>
/// Live ABR end to end: an ffmpeg RTMP publish (640x360, 1 s GOP, B-frames) to a stream configured as a live ladder
/// with two transcoded rungs plus the source, next to a passthrough stream; checked with ffprobe/ffmpeg over HTTP,
/// tests/browser/lint-hls.mjs, and hls.js / dash.js in Chromium.
/// </summary>
/// <remarks>
/// Transcoding in real time next to a real-time publisher and a browser is heavy for a 2-core machine: the class
/// runs in the non-parallel browser collection.
/// </remarks>
[Collection(BrowserCollection.Name)]
public sealed partial class LiveLadderTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);
    private static readonly string[] Variants = ["video180.m3u8", "video240.m3u8", "video.m3u8"];

    private static string NewKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private static string[] LadderArgs(string ladderKey, string flatKey) =>
    [
        "--stream", $"abr={ladderKey}",
        "--stream", $"flat={flatKey}",
        "--StreamVerse:Live:Transcode:Streams:abr:Mode", "ladder",
        "--StreamVerse:Live:Transcode:Streams:abr:Rungs:0", "240/400k",
        "--StreamVerse:Live:Transcode:Streams:abr:Rungs:1", "180/200k",
        "--StreamVerse:Live:Transcode:Preset", "ultrafast",
    ];

    [Fact]
    public async Task Ladder_renditions_are_aligned_and_decodable_and_a_passthrough_stream_alongside_is_unchanged()
    {
        Node.RequireDependencies();
        var (ladderKey, flatKey) = (NewKey(), NewKey());
        await using var daemon = await Daemon.StartAsync(LadderArgs(ladderKey, flatKey));
        using var ladderPublisher = Publishers.Ffmpeg(daemon.RtmpUrl(ladderKey), seconds: 16, gop: 25, size: "640x360");
        using var flatPublisher = Publishers.Ffmpeg(daemon.RtmpUrl(flatKey), seconds: 8);

        // The multivariant playlist: the two rungs and the source, smallest first, BANDWIDTH measured and increasing.
        var master = await Publishers.WaitForAsync(daemon.Http, "live/abr/index.m3u8", TimeSpan.FromSeconds(30));
        output.WriteLine(master);
        var variants = StreamInf().Matches(master);
        Assert.Equal(Variants, variants.Select(v => v.Groups["uri"].Value));
        Assert.Equal(["320x180", "426x240", "640x360"], variants.Select(v => v.Groups["res"].Value));
        var bandwidths = variants.Select(v => long.Parse(v.Groups["bw"].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(bandwidths[0] < bandwidths[1] && bandwidths[1] < bandwidths[2], master);
        Assert.All(variants, v => Assert.Matches(@"CODECS=""avc1\.[0-9A-F]{6},mp4a\.40\.2""", v.Value));
        Assert.Contains("#EXT-X-MEDIA:TYPE=AUDIO", master, StringComparison.Ordinal);

        // The passthrough stream next to it is one variant, as without ladders.
        var flatMaster = await Publishers.WaitForAsync(daemon.Http, "live/flat/index.m3u8", TimeSpan.FromSeconds(20));
        Assert.Single(StreamInf().Matches(flatMaster));
        Assert.Contains("RESOLUTION=320x240", flatMaster, StringComparison.Ordinal);
        Assert.Contains("\nvideo.m3u8\n", flatMaster, StringComparison.Ordinal);

        // LL-HLS conformance of the master and every media playlist (rendition reports name listed renditions).
        await WaitForSegmentsAsync(daemon, "live/abr/video180.m3u8", 2);
        var lint = await Node.RunAsync("lint-hls.mjs", Long, $"{daemon.BaseUrl}/live/abr/index.m3u8");
        Assert.True(lint.ExitCode == 0, "live ladder playlists: " + Describe(lint, daemon));
        var checkedUrls = Report(lint, daemon).GetProperty("checked").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.All(Variants, v => Assert.Contains(checkedUrls, u => u.EndsWith("/live/abr/" + v, StringComparison.Ordinal)));

        // The publisher leaves: every rendition ends (ENDLIST), the MPD becomes static.
        Assert.True(await ladderPublisher.WaitAsync(Long) == 0, ladderPublisher.Stderr);
        Assert.True(await flatPublisher.WaitAsync(Long) == 0, flatPublisher.Stderr);
        foreach (var playlist in Variants.Append("audio.m3u8"))
        {
            await WaitForTextAsync(daemon, "live/abr/" + playlist, "#EXT-X-ENDLIST");
        }

        await WaitForTextAsync(daemon, "live/flat/video.m3u8", "#EXT-X-ENDLIST");
        await WaitForTextAsync(daemon, "live/abr/index.mpd", "type=\"static\"");
        var mpd = await daemon.Http.GetStringAsync("live/abr/index.mpd");
        Assert.Equal(2, Regex.Matches(mpd, "<AdaptationSet ").Count);
        Assert.Equal(3, Regex.Matches(mpd, "<Representation id=\"video[0-9]*\"").Count);

        // Each variant: H.264 at its size; decodes without a single error; keyframes at the same instants.
        var sizes = new[] { (320, 180), (426, 240), (640, 360) };
        List<string>? firstKeyframes = null;
        for (var i = 0; i < Variants.Length; i++)
        {
            var url = $"{daemon.BaseUrl}/live/abr/{Variants[i]}";
            var probe = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", url);
            Assert.True(probe.ExitCode == 0, Variants[i] + ": " + probe.Stderr);
            var video = JsonDocument.Parse(probe.Stdout).RootElement.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("codec_type").GetString() == "video");
            Assert.Equal("h264", video.GetProperty("codec_name").GetString());
            Assert.Equal(sizes[i], (video.GetProperty("width").GetInt32(), video.GetProperty("height").GetInt32()));

            var decode = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", url, "-f", "null", "-");
            Assert.True(decode.ExitCode == 0 && decode.Stderr.Trim().Length == 0, Variants[i] + ": " + decode.Stderr);

            var keys = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
                "-show_entries", "frame=pts_time", "-of", "csv=p=0", url);
            Assert.True(keys.ExitCode == 0, keys.Stderr);
            var keyframes = keys.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.TrimEnd(',')).ToList();
            output.WriteLine($"{Variants[i]} keyframes: {string.Join(' ', keyframes)}");
            Assert.True(keyframes.Count >= 10, $"{Variants[i]}: {keyframes.Count} keyframes");
            if (firstKeyframes is null)
            {
                firstKeyframes = keyframes;
            }
            else
            {
                Assert.Equal(firstKeyframes, keyframes);
            }
        }

        // Segment boundaries too: every rendition lists the same segment durations.
        var durations = new List<string>();
        foreach (var v in Variants)
        {
            durations.Add(string.Join(",", ExtInf().Matches(await daemon.Http.GetStringAsync("live/abr/" + v)).Select(m => m.Groups[1].Value)));
        }

        Assert.All(durations, d => Assert.Equal(durations[0], d));

        var ended = await Node.RunAsync("lint-hls.mjs", Long, $"{daemon.BaseUrl}/live/abr/index.m3u8");
        Assert.True(ended.ExitCode == 0, "ended ladder playlists: " + Describe(ended, daemon));

        // Nothing was dropped on an idle machine's 360p source, and the counter is exported.
        var metrics = await daemon.Http.GetStringAsync("metrics");
        Assert.Contains("streamverse_live_transcode_dropped_gops_total", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(ladderKey, daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hls_js_and_dash_js_play_the_live_ladder()
    {
        Node.RequireDependencies();
        var (ladderKey, flatKey) = (NewKey(), NewKey());
        await using var daemon = await Daemon.StartAsync(LadderArgs(ladderKey, flatKey));
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(ladderKey), seconds: 45, gop: 25, size: "640x360");
        await Publishers.WaitForAsync(daemon.Http, "live/abr/index.m3u8", TimeSpan.FromSeconds(30));
        await WaitForSegmentsAsync(daemon, "live/abr/video180.m3u8", 2);

        foreach (var (player, path) in new[] { ("hls", "index.m3u8"), ("dash", "index.mpd") })
        {
            var run = await Node.RunAsync("play.mjs", Long, player, $"{daemon.BaseUrl}/live/abr/{path}", "8");
            var result = Report(run, daemon);
            Assert.True(result.GetProperty("fatal").GetInt32() == 0, $"{player}: fatal errors: " + Describe(run, daemon));
            Assert.True(result.GetProperty("started").GetBoolean(), $"{player}: playback never started: " + Describe(run, daemon));
            Assert.True(result.GetProperty("advanced").GetDouble() >= 4, $"{player}: playback did not advance: " + Describe(run, daemon));
            Assert.True(run.ExitCode == 0, $"{player}: " + Describe(run, daemon));
            Assert.Equal(3, result.GetProperty("levels").GetInt32());
            Assert.True(result.GetProperty("videoFrames").GetInt32() > 0, $"{player}: no video decoded: " + Describe(run, daemon));
            Assert.Contains(result.GetProperty("videoSize").GetString(), new[] { "320x180", "426x240", "640x360" });
            Assert.True(result.GetProperty("audioBytes").GetInt64() > 0, $"{player}: no audio decoded: " + Describe(run, daemon));
        }
    }

    [Fact]
    public async Task Bad_transcode_configuration_stops_the_daemon_naming_the_key()
    {
        var mode = await Tool.RunAsync("dotnet", Long, Paths.OriginDll, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0",
            "--data", Directory.CreateTempSubdirectory("sv-data-").FullName, "--StreamVerse:Live:Transcode:Mode", "abr");
        Assert.Equal(2, mode.ExitCode);
        Assert.Contains("StreamVerse:Live:Transcode:Mode", mode.Stderr + mode.Stdout, StringComparison.Ordinal);

        var rung = await Tool.RunAsync("dotnet", Long, Paths.OriginDll, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0",
            "--data", Directory.CreateTempSubdirectory("sv-data-").FullName, "--StreamVerse:Live:Transcode:Streams:cam:Rungs:0", "361/1M");
        Assert.Equal(2, rung.ExitCode);
        Assert.Contains("StreamVerse:Live:Transcode:Streams:cam:Rungs:0", rung.Stderr + rung.Stdout, StringComparison.Ordinal);
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

    private static async Task WaitForSegmentsAsync(Daemon daemon, string path, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
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

        throw new TimeoutException($"{path} did not list {count} segments:\n{last}\n{daemon.Output}");
    }

    private static async Task WaitForTextAsync(Daemon daemon, string path, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
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

        throw new TimeoutException($"{path} has no {text}:\n{last}\n{daemon.Output}");
    }

    [GeneratedRegex(@"#EXT-X-STREAM-INF:BANDWIDTH=(?<bw>[0-9]+)[^\n]*RESOLUTION=(?<res>[0-9]+x[0-9]+)[^\n]*\n(?<uri>[^\n]+)")]
    private static partial Regex StreamInf();

    [GeneratedRegex(@"^#EXTINF:([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex ExtInf();
}
