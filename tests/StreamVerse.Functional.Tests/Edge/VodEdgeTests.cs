using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using StreamVerse.Functional.Tests.Browser;
using StreamVerse.Functional.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StreamVerse.Functional.Tests.Edge;

/// <summary>VOD through an edge (origin and edge are separate daemons on loopback), with real players.</summary>
public sealed class VodEdgeTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);
    /// <summary>Origin and edge share it, written as the key file is: base64 of the key's bytes.</summary>
    private static readonly string PlaybackKey = Convert.ToBase64String("vod-edge-tests-share-this-playback-signing-key-0123456789"u8);

    [Fact]
    public async Task Vod_plays_through_the_edge_one_origin_fetch_per_object_and_survives_the_origin()
    {
        var origin = await Daemon.StartAsync([.. VodPresentations.OriginArgs,
            "--StreamVerse:Delivery:VodIndexMaxAgeSeconds", "1",
            "--StreamVerse:ControlPlane:Playback:SigningKey", PlaybackKey]);
        await using var edge = await Daemon.StartAsync(["--upstream", origin.BaseUrl,
            "--StreamVerse:Edge:UpstreamTimeoutSeconds", "2",
            "--StreamVerse:ControlPlane:Playback:SigningKey", PlaybackKey]);
        string[] files;
        string id;
        try
        {
            (id, var admin) = await VodPresentations.PublishAsync(origin);
            files = await VodPresentations.FilesAsync();

            // 200 viewers ask the edge for the same cold segment at once: one origin request.
            var originBefore = await SumAsync(origin, "streamverse_vod_responses_total");
            var results = await ColdBurst.GetAsync(edge.BaseUrl, $"vod/{id}/v1/360p_2.m4s", 200);
            Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            Assert.Single(results.Select(r => Convert.ToHexString(SHA256.HashData(r.Bytes))).Distinct());
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(await VodPresentations.Ladder.Value, "360p_2.m4s")), results[0].Bytes);
            Assert.Equal(1, await SumAsync(origin, "streamverse_vod_responses_total") - originBefore);
            Assert.Equal(199, await edge.MetricAsync("streamverse_edge_requests_total", "result=\"hit\"")
                + await edge.MetricAsync("streamverse_edge_requests_total", "result=\"coalesced\""));

            // Players through the edge: ffmpeg decodes every stream of the HLS master and of the MPD.
            foreach (var index in (string[])["index.m3u8", "index.mpd"])
            {
                var play = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{edge.BaseUrl}/vod/{id}/{index}", "-map", "0", "-f", "null", "-");
                Assert.True(play.ExitCode == 0 && play.Stderr.Trim().Length == 0, index + ": " + play.Stderr + edge.Output);
            }

            // Every object of the presentation is now at the edge (the players above fetched them; the rest here).
            foreach (var file in files)
            {
                using var r = await edge.Http.GetAsync($"vod/{id}/{file}");
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                Assert.Equal("public, max-age=300, stale-if-error=86400", r.Headers.CacheControl!.ToString());
            }

            // The index outlived its max-age (1 s): the edge revalidates it with If-None-Match and the origin says 304.
            await Task.Delay(1500);
            using (var revalidated = await edge.Http.GetAsync($"vod/{id}/index.m3u8"))
            {
                Assert.Equal(HttpStatusCode.OK, revalidated.StatusCode);
                Assert.Equal("REVALIDATED", revalidated.Headers.GetValues("X-Cache").Single());
                Assert.Contains("v1/360p.m3u8", await revalidated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            Assert.True(await edge.MetricAsync("streamverse_edge_upstream_requests_total", "outcome=\"304\"") >= 1);

            // A private video through the edge: its token is checked there (same key), a wrong one refused before the cache.
            var (priv, _) = await VodPresentations.PublishAsync(origin, "private");
            var token = (await VodPresentations.JsonAsync(origin, HttpMethod.Post, $"api/v1/videos/{priv}/playback-token", admin, new { })).GetProperty("token").GetString()!;
            var viaToken = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{edge.BaseUrl}/vod/t/{token}/{priv}/index.m3u8", "-map", "0", "-f", "null", "-");
            Assert.True(viaToken.ExitCode == 0 && viaToken.Stderr.Trim().Length == 0, viaToken.Stderr);
            using (var plain = await edge.Http.GetAsync($"vod/{priv}/index.m3u8"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
            }

            var other = (await VodPresentations.JsonAsync(origin, HttpMethod.Post, $"api/v1/videos/{id}/playback-token", admin, new { })).GetProperty("token").GetString()!;
            using (var wrong = await edge.Http.GetAsync($"vod/t/{other}/{priv}/v1/360p_1.m4s"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
            }
        }
        finally
        {
            Assert.Equal(0, await origin.TerminateAsync(TimeSpan.FromSeconds(15)));
            await origin.DisposeAsync();
        }

        // Origin gone: every VOD object the edge fetched is still served (fresh for 300 s, then stale-if-error=86400),
        // the index too (stale-if-error=86400), while a live request fails fast with a 502 problem.
        foreach (var file in files)
        {
            using var r = await edge.Http.GetAsync($"vod/{id}/{file}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(await VodPresentations.Ladder.Value, file[3..])), await r.Content.ReadAsByteArrayAsync());
        }

        await Task.Delay(1100);
        foreach (var index in (string[])["index.m3u8", "index.mpd"])
        {
            using var stale = await edge.Http.GetAsync($"vod/{id}/{index}");
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal("STALE", stale.Headers.GetValues("X-Cache").Single());
        }

        var offline = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{edge.BaseUrl}/vod/{id}/index.m3u8", "-map", "0", "-f", "null", "-");
        Assert.True(offline.ExitCode == 0 && offline.Stderr.Trim().Length == 0, "playing from the edge alone: " + offline.Stderr);

        var watch = Stopwatch.StartNew();
        using (var live = await edge.Http.GetAsync("live/somestream/index.m3u8"))
        {
            Assert.True(live.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout, live.StatusCode.ToString());
            Assert.Equal("application/problem+json", live.Content.Headers.ContentType!.MediaType);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"live 502/504 took {watch.Elapsed}");
    }

    private static async Task<double> SumAsync(Daemon daemon, string name)
    {
        var text = await daemon.Http.GetStringAsync("metrics");
        return text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>hls.js and dash.js in headless Chromium play a VOD through an edge.</summary>
[Collection(BrowserCollection.Name)]
public sealed class VodBrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Hls_js_and_dash_js_play_a_vod_through_the_edge()
    {
        Node.RequireDependencies();
        await using var origin = await Daemon.StartAsync(VodPresentations.OriginArgs);
        await using var edge = await Daemon.StartAsync(["--upstream", origin.BaseUrl]);
        var (id, _) = await VodPresentations.PublishAsync(origin);
        foreach (var (player, index) in new[] { ("hls", "index.m3u8"), ("dash", "index.mpd") })
        {
            var run = await Node.RunAsync("play.mjs", Long, player, $"{edge.BaseUrl}/vod/{id}/{index}", "3");
            output.WriteLine($"{player}: exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
            Assert.True(line is not null, $"{player}: no JSON line: {run.Stdout} {run.Stderr}");
            var result = JsonDocument.Parse(line!).RootElement;
            Assert.True(result.GetProperty("fatal").GetInt32() == 0, $"{player}: fatal errors: {line}");
            Assert.True(result.GetProperty("started").GetBoolean(), $"{player}: playback never started: {line}");
            Assert.True(result.GetProperty("videoFrames").GetInt32() > 0, $"{player}: no frames: {line}");
            Assert.True(result.GetProperty("audioBytes").GetInt64() > 0, $"{player}: no audio: {line}");
            Assert.True(run.ExitCode == 0, $"{player}: exit {run.ExitCode}: {line} {run.Stderr}");
        }

        Assert.True(await edge.MetricAsync("streamverse_edge_requests_total", "result=\"miss\"") > 0);
    }
}
