using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests.Edge;

/// <summary>An origin and edges (separate daemons on loopback) with a real ffmpeg publisher and real players.</summary>
public sealed partial class EdgeTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static string NewKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private static Task<Daemon> StartEdgeAsync(Daemon origin, params string[] extra) =>
        Daemon.StartAsync(["--upstream", origin.BaseUrl, .. extra]);

    [Fact]
    public async Task A_live_stream_plays_through_each_of_two_edges()
    {
        var key = NewKey();
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using var edge1 = await StartEdgeAsync(origin);
        await using var edge2 = await StartEdgeAsync(origin);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 14);

        foreach (var edge in new[] { edge1, edge2 })
        {
            var master = await Publishers.WaitForAsync(edge.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
            Assert.Contains("#EXT-X-STREAM-INF", master);

            var probe = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", $"{edge.BaseUrl}/live/cam/index.m3u8");
            Assert.True(probe.ExitCode == 0, probe.Stderr + edge.Output);
            var codecs = JsonDocument.Parse(probe.Stdout).RootElement.GetProperty("streams").EnumerateArray()
                .Select(s => s.GetProperty("codec_name").GetString()!).Order().ToArray();
            Assert.Equal(["aac", "h264"], codecs);

            var play = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{edge.BaseUrl}/live/cam/index.m3u8", "-t", "3", "-f", "null", "-");
            Assert.True(play.ExitCode == 0 && play.Stderr.Trim().Length == 0, play.Stderr);
        }

        // The headers players need survive the edge: type, validator, caching, CORS; HEAD and Range work on cached objects.
        var playlist = await edge1.Http.GetStringAsync("live/cam/video.m3u8");
        var segment = SegmentUri().Matches(playlist).First().Value;
        using var fromOrigin = await origin.Http.GetAsync($"live/cam/{segment}");
        var originBytes = await fromOrigin.Content.ReadAsByteArrayAsync();
        using var get = new HttpRequestMessage(HttpMethod.Get, $"live/cam/{segment}");
        get.Headers.Add("Origin", "https://player.example");
        using var viaEdge = await edge1.Http.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, viaEdge.StatusCode);
        Assert.Equal(originBytes, await viaEdge.Content.ReadAsByteArrayAsync());
        Assert.Equal(fromOrigin.Headers.ETag, viaEdge.Headers.ETag);
        Assert.Equal("video/mp4", viaEdge.Content.Headers.ContentType!.MediaType);
        Assert.Equal("public, max-age=300, stale-if-error=86400", viaEdge.Headers.CacheControl!.ToString());
        Assert.Equal("*", viaEdge.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var head = await edge1.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"live/cam/{segment}"));
        Assert.Equal(originBytes.Length, head.Content.Headers.ContentLength);
        Assert.Equal("HIT", head.Headers.GetValues("X-Cache").Single());
        using var range = new HttpRequestMessage(HttpMethod.Get, $"live/cam/{segment}");
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 109);
        using var partial = await edge1.Http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(originBytes.AsSpan(10, 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        // A live MPD through an edge points DASH players at the edge's clock, once.
        var mpd = await edge1.Http.GetStringAsync("live/cam/index.mpd");
        Assert.Contains("type=\"dynamic\"", mpd);
        Assert.Single(Regex.Matches(mpd, "<UTCTiming "));
        Assert.Contains($"value=\"http://127.0.0.1:{edge1.HttpPort}/time\"", mpd);
        Assert.Equal(HttpStatusCode.OK, (await edge1.Http.GetAsync("time")).StatusCode);

        Assert.True(await edge1.MetricAsync("streamverse_edge_requests_total", "result=\"hit\"") > 0);
        var metrics = await edge1.Http.GetStringAsync("metrics");
        var promtool = Tool.Start("promtool", "check", "metrics");
        await promtool.StandardInputWriteAndCloseAsync(metrics);
        Assert.True(await promtool.WaitAsync(Long) == 0, promtool.Stdout + promtool.Stderr);
        Assert.Equal(0, await publisher.WaitAsync(Long));
    }

    [Fact]
    public async Task Edges_chain_and_the_last_one_gives_players_its_own_clock()
    {
        var key = NewKey();
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using var parent = await StartEdgeAsync(origin);
        await using var child = await StartEdgeAsync(parent);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 10);
        await Publishers.WaitForAsync(child.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));

        var probe = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", $"{child.BaseUrl}/live/cam/index.m3u8");
        Assert.True(probe.ExitCode == 0, probe.Stderr + child.Output);
        var mpd = await child.Http.GetStringAsync("live/cam/index.mpd");
        Assert.Single(Regex.Matches(mpd, "<UTCTiming "));
        Assert.Contains($"value=\"http://127.0.0.1:{child.HttpPort}/time\"", mpd);
        Assert.True(await parent.MetricAsync("streamverse_edge_upstream_requests_total", "outcome=\"200\"") > 0);
        Assert.Equal(0, await publisher.WaitAsync(Long));
    }

    [Fact]
    public async Task Two_hundred_cold_requests_for_one_segment_make_one_origin_request()
    {
        var key = NewKey();
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using var edge = await StartEdgeAsync(origin);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 12);
        var playlist = await Publishers.WaitForAsync(origin.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(20));
        while (!SegmentUri().IsMatch(playlist))
        {
            await Task.Delay(200);
            playlist = await origin.Http.GetStringAsync("live/cam/video.m3u8");
        }

        var segment = SegmentUri().Match(playlist).Value;
        var originBefore = await origin.MetricAsync("streamverse_http_media_responses_total", "kind=\"segment\"");

        var results = await ColdBurst.GetAsync(edge.BaseUrl, $"live/cam/{segment}", 200);

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(results.Select(r => Convert.ToHexString(SHA256.HashData(r.Bytes))).Distinct());
        Assert.Equal(1, await origin.MetricAsync("streamverse_http_media_responses_total", "kind=\"segment\"") - originBefore);
        Assert.Equal(1, await edge.MetricAsync("streamverse_edge_upstream_requests_total", "outcome=\"200\""));
        var hit = await edge.MetricAsync("streamverse_edge_requests_total", "result=\"hit\"");
        var miss = await edge.MetricAsync("streamverse_edge_requests_total", "result=\"miss\"");
        var coalesced = await edge.MetricAsync("streamverse_edge_requests_total", "result=\"coalesced\"");
        Assert.Equal(1, miss);
        Assert.Equal(199, hit + coalesced);

        // LL-HLS blocking reloads for the same future part are one origin request too (held there, shared here).
        // The 50 viewers connect first, and ask for a part one to two seconds away: the hinted one is due within a part
        // target (0.5 s), and on a loaded machine the burst could spread past it, so that late ones ask for a part
        // already out (CI saw two origin reloads that way).
        using var viewers = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 50 }) { BaseAddress = new Uri(edge.BaseUrl) };
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            using var warm = await viewers.GetAsync("live/cam/video.m3u8");
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        })));
        var hint = PreloadHint().Match(await origin.Http.GetStringAsync("live/cam/video.m3u8"));
        Assert.True(hint.Success);
        var query = $"_HLS_msn={long.Parse(hint.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1}&_HLS_part=0";
        var blockingBefore = await SumAsync(origin, "streamverse_hls_blocking_reloads_total");
        var blocking = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            using var response = await viewers.GetAsync($"live/cam/video.m3u8?{query}");
            return (response.StatusCode, response.Headers.CacheControl?.ToString(), await response.Content.ReadAsStringAsync());
        })));
        Assert.All(blocking, b => Assert.Equal(HttpStatusCode.OK, b.StatusCode));
        Assert.All(blocking, b => Assert.Equal("no-cache", b.Item2));
        Assert.Single(blocking.Select(b => b.Item3).Distinct());
        Assert.Equal(1, await SumAsync(origin, "streamverse_hls_blocking_reloads_total") - blockingBefore);
        Assert.Equal(0, await publisher.WaitAsync(Long));
    }

    [Fact]
    public async Task Origin_down_recordings_stay_served_live_fails_fast_and_the_edge_recovers()
    {
        var key = NewKey();
        var liveKey = NewKey();
        var data = Directory.CreateTempSubdirectory("sv-origin-").FullName;
        var port = Daemon.FreePort();
        string[] originArgs = ["--stream", $"cam={key}", "--stream", $"onair={liveKey}", "--StreamVerse:Delivery:RecordingPlaylistMaxAgeSeconds", "1"];
        var origin = await Daemon.StartAsync(originArgs, data, port);
        await using var edge = await StartEdgeAsync(origin, "--StreamVerse:Edge:UpstreamTimeoutSeconds", "2");
        // A second stream stays live until the origin dies; its playlist (max-age=1, no stale-if-error) is cached at the edge.
        using var onAir = Publishers.Ffmpeg(origin.RtmpUrl(liveKey), seconds: 60);
        await Publishers.WaitForAsync(edge.Http, "live/onair/video.m3u8", TimeSpan.FromSeconds(20));
        string[] segments;
        try
        {
            using (var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 5))
            {
                Assert.Equal(0, await publisher.WaitAsync(Long));
            }

            var ended = await Publishers.WaitForAsync(edge.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(10));
            for (var i = 0; i < 50 && !ended.Contains("#EXT-X-ENDLIST"); i++)
            {
                await Task.Delay(200);
                ended = await edge.Http.GetStringAsync("live/cam/video.m3u8");
            }

            Assert.Contains("#EXT-X-ENDLIST", ended);
            // Final playlists are cacheable as such, whether memory or the recording serves them.
            using (var final = await origin.Http.GetAsync("live/cam/video.m3u8"))
            {
                Assert.Equal("public, max-age=1, stale-if-error=86400", final.Headers.CacheControl!.ToString());
            }

            // A viewer watches the recording through the edge: playlists, init and segments are now cached there.
            var vod = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{edge.BaseUrl}/live/cam/index.m3u8", "-f", "null", "-");
            Assert.True(vod.ExitCode == 0, vod.Stderr);
            segments = [.. Regex.Matches(ended, @"^[a-z0-9]+/video_\d+\.m4s$", RegexOptions.Multiline).Select(m => m.Value)];
            Assert.NotEmpty(segments);
        }
        finally
        {
            Assert.Equal(0, await origin.TerminateAsync(TimeSpan.FromSeconds(15)));
            await origin.DisposeAsync();
        }

        // Origin gone. Cached recording segments are hits; the recording's playlists are past max-age and served stale (stale-if-error).
        await Task.Delay(1500);
        foreach (var segment in segments)
        {
            using var response = await edge.Http.GetAsync($"live/cam/{segment}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var stale = await edge.Http.GetAsync("live/cam/video.m3u8"))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal("STALE", stale.Headers.GetValues("X-Cache").Single());
        }

        var offline = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", $"{edge.BaseUrl}/live/cam/index.m3u8");
        Assert.True(offline.ExitCode == 0, offline.Stderr);

        // A live playlist cannot be served stale, and what the edge never had cannot be served: clear 502 problems, quickly.
        foreach (var path in new[] { "live/onair/video.m3u8", "live/other/index.m3u8" })
        {
            var watch = Stopwatch.StartNew();
            using var live = await edge.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.BadGateway, live.StatusCode);
            Assert.Equal("application/problem+json", live.Content.Headers.ContentType!.MediaType);
            Assert.Equal("no-store", live.Headers.CacheControl!.ToString());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"{path}: 502 took {watch.Elapsed}");
        }

        Assert.True(await edge.MetricAsync("streamverse_edge_upstream_requests_total", "outcome=\"refused\"") >= 1);

        Assert.Contains("origin http://127.0.0.1:" + port + " failed", edge.Output);

        // A new origin on the same port and data: the edge talks to it again at once (no circuit left open).
        await using var restarted = await Daemon.StartAsync(originArgs, data, port);
        using (var back = await edge.Http.GetAsync("live/other/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, back.StatusCode);
        }

        using (var fresh = await edge.Http.GetAsync("live/cam/video.m3u8"))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            // Asked the origin again: a fetch (MISS) or, when the edge still held the expired copy, a conditional
            // request the origin confirmed with 304 (REVALIDATED). Never the stale copy without asking.
            Assert.Contains(fresh.Headers.GetValues("X-Cache").Single(), new[] { "MISS", "REVALIDATED" });
        }

        Assert.Contains("answers again", edge.Output);
    }

    [Fact]
    public async Task An_origin_that_does_not_answer_is_a_504_after_the_bounded_wait()
    {
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        var accepted = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    accepted.Add(await blackHole.AcceptSocketAsync());
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        await using var edge = await Daemon.StartAsync([
            "--upstream", $"http://127.0.0.1:{((IPEndPoint)blackHole.LocalEndpoint).Port}",
            "--StreamVerse:Edge:UpstreamTimeoutSeconds", "1"]);
        var watch = Stopwatch.StartNew();
        using var response = await edge.Http.GetAsync("live/cam/index.m3u8");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 5);
        blackHole.Stop();
        accepted.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Bad_upstream_stops_the_daemon_naming_the_key()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Daemon.StartAsync(["--upstream", "ftp://x"]));
        Assert.Contains("exited with 2", ex.Message);
        Assert.Contains("StreamVerse:Upstream", ex.Message);
    }

    private static async Task<double> SumAsync(Daemon daemon, string name)
    {
        var text = await daemon.Http.GetStringAsync("metrics");
        return text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"(?m)^[a-z0-9]+/video_\d+\.m4s$")]
    private static partial Regex SegmentUri();

    [GeneratedRegex(@"PRELOAD-HINT:TYPE=PART,URI=""[a-z0-9]+/video_(\d+)\.(\d+)\.m4s""")]
    private static partial Regex PreloadHint();
}
