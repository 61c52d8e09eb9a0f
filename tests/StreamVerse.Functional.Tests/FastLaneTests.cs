using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests;

/// <summary>
/// The HTTP/1.1 fast lane against the routed path of the same daemon: every object a player polls is answered the
/// same way (status, headers but Date, body, CORS headers included) whether it came from the lane or through
/// Kestrel's HTTP layer, routing and CORS (a connection whose first request the lane handed over); and what the lane
/// does not answer still gets the routed answer.
/// </summary>
public sealed class FastLaneTests
{
    private static readonly string[] Ignored = ["Date"];

    /// <summary>
    /// A browser-like client (it sends <c>Origin</c>) on one connection that the lane handed to Kestrel at its first
    /// request (<c>/healthz</c>, which the lane does not answer): every request after that takes the routed path.
    /// </summary>
    private static async Task<HttpClient> RoutedClientAsync(Daemon daemon)
    {
        var routed = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(daemon.BaseUrl + "/"),
        };
        routed.DefaultRequestHeaders.Add("Origin", "https://player.example");
        (await routed.GetAsync("healthz")).EnsureSuccessStatusCode();
        return routed;
    }

    /// <summary>A browser-like client whose connections the lane keeps.</summary>
    private static HttpClient LaneClient(Daemon daemon)
    {
        var lane = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl + "/") };
        lane.DefaultRequestHeaders.Add("Origin", "https://player.example");
        return lane;
    }

    private sealed record Answer(int Status, string Headers, byte[] Body);

    private static async Task<Answer> SendAsync(HttpClient http, HttpMethod method, string path, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        headers?.Invoke(request.Headers);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        var all = response.Headers.Concat(response.Content.Headers)
            .Where(h => !Ignored.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
            .Select(h => h.Key.ToLowerInvariant() + ": " + string.Join(",", h.Value))
            .Order(StringComparer.Ordinal);
        return new Answer((int)response.StatusCode, string.Join("\n", all), body);
    }

    /// <summary>One request through the lane (no Origin) and the same through the routed path (with one), compared.</summary>
    private sealed record Pair(HttpClient Lane, HttpClient Routed, int Retries, Func<string, Answer, Answer, bool> RetryWhen)
    {
        public int LaneRequests { get; set; }

        public async Task SameAsync(HttpMethod method, string path, Action<HttpRequestHeaders>? headers = null, int expectedStatus = 200)
        {
            for (var attempt = 0; ; attempt++)
            {
                var a = await SendAsync(Lane, method, path, headers);
                LaneRequests++;
                var b = await SendAsync(Routed, method, path, headers);
                if (attempt < Retries && RetryWhen(path, a, b))
                {
                    continue;
                }

                Assert.Equal(expectedStatus, a.Status);
                Assert.Equal(b.Status, a.Status);
                Assert.Equal(b.Headers, a.Headers);
                Assert.Equal(b.Body, a.Body);
                return;
            }
        }
    }

    /// <summary>The video playlist once it lists two whole segments (or after 30 s, whatever it lists then).</summary>
    private static async Task<string> PlaylistWithTwoSegmentsAsync(HttpClient http)
    {
        var playlist = await Publishers.WaitForAsync(http, "live/cam/video.m3u8", TimeSpan.FromSeconds(20));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            playlist = await http.GetStringAsync("live/cam/video.m3u8");
            if (Regex.Matches(playlist, @"^\w+/video_\d+\.m4s$", RegexOptions.Multiline).Count >= 2)
            {
                break;
            }
        }

        return playlist;
    }

    /// <summary>Two RFC 9457 problems agree on everything but their traceId.</summary>
    private static async Task SameProblemAsync(HttpResponseMessage expected, HttpResponseMessage actual)
    {
        using var a = System.Text.Json.JsonDocument.Parse(await expected.Content.ReadAsStringAsync());
        using var b = System.Text.Json.JsonDocument.Parse(await actual.Content.ReadAsStringAsync());
        foreach (var field in new[] { "type", "title", "status", "detail" })
        {
            Assert.Equal(a.RootElement.GetProperty(field).ToString(), b.RootElement.GetProperty(field).ToString());
        }
    }

    /// <param name="inline">
    /// With StreamVerse:InlineScheduling the lane answers on the socket engine's threads and everything else (the
    /// handed-over connections, the RTMP publisher) reads through ThreadPoolInput: the same answers either way.
    /// </param>
    /// <param name="loops">
    /// The lane's endpoint on the epoll event loops (the default on Linux) or on Kestrel's socket transport alone
    /// (StreamVerse:Delivery:EventLoops 0): the same answers either way.
    /// </param>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task The_lane_answers_exactly_as_the_routed_path(bool inline, bool loops)
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}", "--StreamVerse:InlineScheduling", inline ? "true" : "false",
            "--StreamVerse:Delivery:EventLoops", loops ? "2" : "0"]);
        Assert.Contains("fast lane on", daemon.Output);
        Assert.Equal(loops, daemon.Output.Contains("epoll event loops", StringComparison.Ordinal));
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 20);
        using var lane = LaneClient(daemon);
        using var routed = await RoutedClientAsync(daemon);

        var playlist = await PlaylistWithTwoSegmentsAsync(lane);

        var segment = Regex.Matches(playlist, @"^(\w+)/video_(\d+)\.m4s$", RegexOptions.Multiline)[^1];
        var session = segment.Groups[1].Value;
        var msn = long.Parse(segment.Groups[2].Value);
        var part = Regex.Match(playlist, @"#EXT-X-PART:[^\n]*URI=""(\w+/video_\d+\.\d+\.m4s)""").Groups[1].Value;
        var audio = Regex.Match(await lane.GetStringAsync("live/cam/audio.m3u8"), @"^\w+/audio_\d+\.m4s$", RegexOptions.Multiline).Value;
        Assert.NotEmpty(part);
        Assert.NotEmpty(audio);

        var laneBefore = await daemon.MetricAsync("streamverse_http_fast_lane_responses_total");
        // Playlists move on with the stream: compare a pair taken within one playlist version.
        var pair = new Pair(lane, routed, Retries: 5, (path, a, b) => a.Headers != b.Headers && (path.Contains(".m3u8", StringComparison.Ordinal) || path.Contains(".mpd", StringComparison.Ordinal)));
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.m3u8");
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.mpd");
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.mpd", h => h.Via.Add(new ViaHeaderValue("1.1", "streamverse-edge")));
        await pair.SameAsync(HttpMethod.Get, "live/cam/video.m3u8");
        await pair.SameAsync(HttpMethod.Get, "live/cam/audio.m3u8", h => h.AcceptEncoding.ParseAdd("gzip"));
        await pair.SameAsync(HttpMethod.Get, "live/cam/video.m3u8", h => h.AcceptEncoding.ParseAdd("br"));
        await pair.SameAsync(HttpMethod.Get, $"live/cam/video.m3u8?_HLS_msn={msn}&_HLS_part=0&_HLS_skip=YES");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{session}/video_init.mp4");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{session}/audio_init.mp4");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{segment.Value}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{part}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{audio}");
        await pair.SameAsync(HttpMethod.Head, $"live/cam/{part}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{part}", h => h.Range = new RangeHeaderValue(10, 99), expectedStatus: 206);
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{part}", h => h.Range = new RangeHeaderValue(10_000_000, null), expectedStatus: 416);
        var etag = (await lane.GetAsync($"live/cam/{part}")).Headers.ETag!;
        pair.LaneRequests++;
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{part}", h => h.IfNoneMatch.Add(etag), expectedStatus: 304);
        Assert.Equal(laneBefore + pair.LaneRequests, await daemon.MetricAsync("streamverse_http_fast_lane_responses_total"));

        // An LL-HLS blocking reload for a part not made yet: held by the lane until it exists, never cacheable.
        var next = Regex.Match(await lane.GetStringAsync("live/cam/video.m3u8"), @"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=""\w+/video_(\d+)\.(\d+)\.m4s""");
        Assert.True(next.Success);
        var blocking = await lane.GetAsync($"live/cam/video.m3u8?_HLS_msn={next.Groups[1].Value}&_HLS_part={next.Groups[2].Value}");
        Assert.Equal(HttpStatusCode.OK, blocking.StatusCode);
        Assert.Equal("no-cache", blocking.Headers.CacheControl!.ToString());
        Assert.Contains($"video_{next.Groups[1].Value}.{next.Groups[2].Value}.m4s", await blocking.Content.ReadAsStringAsync());

        // A stream that does not exist (a player polling before the publisher starts): the lane's own 404, shaped as
        // the routed one, and the connection stays in the lane.
        var missingLane = await lane.GetAsync("live/nobody/video.m3u8");
        var missingRouted = await routed.GetAsync("live/nobody/video.m3u8");
        Assert.Equal(HttpStatusCode.NotFound, missingLane.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missingRouted.StatusCode);
        Assert.Equal("application/problem+json", missingLane.Content.Headers.ContentType!.MediaType);
        await SameProblemAsync(missingRouted, missingLane);

        // What the lane leaves to the routed path is answered as before: a bad reload (400), a tokenised path without
        // a valid token (403); each hands its connection to Kestrel.
        using var fresh = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl + "/") };
        var handOversBefore = await daemon.MetricAsync("streamverse_http_fast_lane_handovers_total");
        var bad = await fresh.GetAsync("live/cam/video.m3u8?_HLS_msn=x");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await fresh.GetAsync($"live/t/abc/cam/{part}")).StatusCode);
        Assert.True(await daemon.MetricAsync("streamverse_http_fast_lane_handovers_total") > handOversBefore);

        // A real player through the lane: ffmpeg reads the live HLS stream (it sends no Origin).
        var play = await Tool.RunAsync("ffmpeg", TimeSpan.FromSeconds(60), "-hide_banner", "-nostdin", "-v", "error", "-i", $"{daemon.BaseUrl}/live/cam/index.m3u8", "-t", "3", "-f", "null", "-");
        Assert.True(play.ExitCode == 0 && play.Stderr.Trim().Length == 0, play.Stderr);

        // The recording: once the stream ended, its media files come from disk through the lane's open-file cache
        // (sendfile), answered as the routed handler's physical-file result answers them.
        publisher.Dispose();
        var recording = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline && !recording.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal); await Task.Delay(200))
        {
            recording = await fresh.GetStringAsync("live/cam/video.m3u8");
        }

        Assert.Contains("#EXT-X-ENDLIST", recording);
        var first = Regex.Match(recording, @"^\w+/video_\d+\.m4s$", RegexOptions.Multiline).Value;
        var init = Regex.Match(recording, @"#EXT-X-MAP:URI=""([^""]+)""").Groups[1].Value;
        Assert.NotEmpty(first);
        Assert.NotEmpty(init);
        // The routed handler reads a recording's playlists from disk once; from then on the lane answers them from its
        // cache while the files stay as they were. The segmenter may still rewrite one just after the end (a new mtime:
        // the lane hands that request, and its connection, over), so: warm the routed cache, then probe on a new
        // connection until the lane answers all four from it.
        string[] recordingPlaylists = ["video.m3u8", "index.m3u8", "audio.m3u8", "index.mpd"];
        HttpClient? recordingLane = null;
        for (var settle = DateTime.UtcNow.AddSeconds(15); ; await Task.Delay(300))
        {
            foreach (var playlistFile in recordingPlaylists)
            {
                (await fresh.GetAsync($"live/cam/{playlistFile}")).EnsureSuccessStatusCode();
            }

            recordingLane?.Dispose();
            recordingLane = LaneClient(daemon);
            var probeBefore = await daemon.MetricAsync("streamverse_http_fast_lane_responses_total");
            foreach (var playlistFile in recordingPlaylists)
            {
                (await recordingLane.GetAsync($"live/cam/{playlistFile}")).EnsureSuccessStatusCode();
            }

            if (await daemon.MetricAsync("streamverse_http_fast_lane_responses_total") - probeBefore == recordingPlaylists.Length)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < settle, "the lane never answered the recording's playlists from the routed handler's cache");
        }

        using var settledLane = recordingLane;
        pair = pair with { Lane = settledLane };
        var recordedBefore = await daemon.MetricAsync("streamverse_http_fast_lane_responses_total");
        pair.LaneRequests = 0;
        await pair.SameAsync(HttpMethod.Get, "live/cam/video.m3u8");
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.m3u8");
        await pair.SameAsync(HttpMethod.Get, "live/cam/audio.m3u8", h => h.AcceptEncoding.ParseAdd("gzip"));
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.mpd");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{first}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{first}");
        await pair.SameAsync(HttpMethod.Head, $"live/cam/{first}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{init}");
        Assert.Equal(recordedBefore + pair.LaneRequests, await daemon.MetricAsync("streamverse_http_fast_lane_responses_total"));
        // Conditional and range requests for a file on disk are the routed handler's (its date comparisons): the lane
        // hands such a connection over, and the answers stay the same.
        var recorded = (await lane.GetAsync($"live/cam/{first}")).Content.Headers.LastModified!.Value;
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{first}", h => h.IfModifiedSince = recorded, expectedStatus: 304);
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{first}", h => h.Range = new RangeHeaderValue(0, 99), expectedStatus: 206);
    }

    [Fact]
    public async Task An_edge_lane_answers_exactly_as_the_edge_routed_path()
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using var edge = await Daemon.StartAsync(["--upstream", origin.BaseUrl]);
        Assert.Contains("answered from the edge cache ahead of routing", edge.Output);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 20);
        using var lane = LaneClient(edge);
        using var routed = await RoutedClientAsync(edge);

        var playlist = await PlaylistWithTwoSegmentsAsync(lane);

        var segment = Regex.Matches(playlist, @"^(\w+)/video_(\d+)\.m4s$", RegexOptions.Multiline)[^1];
        var session = segment.Groups[1].Value;
        var part = Regex.Match(playlist, @"#EXT-X-PART:[^\n]*URI=""(\w+/video_\d+\.\d+\.m4s)""").Groups[1].Value;
        Assert.NotEmpty(part);

        var laneBefore = await edge.MetricAsync("streamverse_http_fast_lane_responses_total");
        // The first request of an object may be the miss that fills the cache (X-Cache: MISS, then HIT); playlists
        // expire within a second and Age moves on the second: compare a pair taken within one cached copy.
        var pair = new Pair(lane, routed, Retries: 8, (_, a, b) => a.Headers != b.Headers || !a.Body.SequenceEqual(b.Body));
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.m3u8");
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.mpd");
        await pair.SameAsync(HttpMethod.Get, "live/cam/index.mpd", h => h.Via.Add(new ViaHeaderValue("1.1", "streamverse-edge")));
        await pair.SameAsync(HttpMethod.Get, "live/cam/video.m3u8", h => h.AcceptEncoding.ParseAdd("br"));
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{session}/video_init.mp4");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{segment.Value}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{segment.Value}?player=1");
        await pair.SameAsync(HttpMethod.Head, $"live/cam/{part}");
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{part}", h => h.Range = new RangeHeaderValue(10, 99), expectedStatus: 206);
        var etag = (await lane.GetAsync($"live/cam/{part}")).Headers.ETag!;
        pair.LaneRequests++;
        await pair.SameAsync(HttpMethod.Get, $"live/cam/{part}", h => h.IfNoneMatch.Add(etag), expectedStatus: 304);
        Assert.Equal(laneBefore + pair.LaneRequests, await edge.MetricAsync("streamverse_http_fast_lane_responses_total"));

        // A hit on an object in memory says so; the MPD points this edge's viewers at its own clock.
        using (var hit = await lane.GetAsync($"live/cam/{segment.Value}"))
        {
            Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
            Assert.True(long.Parse(hit.Headers.GetValues("Age").Single()) >= 0);
        }

        Assert.Contains($"value=\"http://127.0.0.1:{edge.HttpPort}/time\"", await lane.GetStringAsync("live/cam/index.mpd"));

        // A blocking reload through the edge's lane: the edge waits on the origin and passes the answer on, uncached.
        var next = Regex.Match(await lane.GetStringAsync("live/cam/video.m3u8"), @"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=""\w+/video_(\d+)\.(\d+)\.m4s""");
        Assert.True(next.Success);
        using (var blocking = await lane.GetAsync($"live/cam/video.m3u8?_HLS_msn={next.Groups[1].Value}&_HLS_part={next.Groups[2].Value}"))
        {
            Assert.Equal(HttpStatusCode.OK, blocking.StatusCode);
            Assert.Equal("no-cache", blocking.Headers.CacheControl!.ToString());
            Assert.Contains($"video_{next.Groups[1].Value}.{next.Groups[2].Value}.m4s", await blocking.Content.ReadAsStringAsync());
        }

        // The origin's own 404 for a stream it does not have is passed on by both paths, as it was, never stored;
        // and the lane keeps the connection (no hand-over).
        var handOvers = await edge.MetricAsync("streamverse_http_fast_lane_handovers_total");
        using var missingLane = await lane.GetAsync("live/nobody/video.m3u8");
        using var missingRouted = await routed.GetAsync("live/nobody/video.m3u8");
        Assert.Equal(HttpStatusCode.NotFound, missingLane.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missingRouted.StatusCode);
        Assert.Equal("no-store", missingLane.Headers.CacheControl!.ToString());
        Assert.Equal(missingRouted.Content.Headers.ContentType, missingLane.Content.Headers.ContentType);
        Assert.Equal("no such stream or object", System.Text.Json.JsonDocument.Parse(await missingLane.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
        Assert.Equal(handOvers, await edge.MetricAsync("streamverse_http_fast_lane_handovers_total"));

        // A player through the edge's lane.
        var play = await Tool.RunAsync("ffmpeg", TimeSpan.FromSeconds(60), "-hide_banner", "-nostdin", "-v", "error", "-i", $"{edge.BaseUrl}/live/cam/index.m3u8", "-t", "3", "-f", "null", "-");
        Assert.True(play.ExitCode == 0 && play.Stderr.Trim().Length == 0, play.Stderr);

        // With the publisher gone and the origin stopped, a failed fetch is the edge's own 502 in both paths.
        Assert.Equal(0, await publisher.WaitAsync(TimeSpan.FromSeconds(60)));
        await origin.DisposeAsync();
        using var downLane = await lane.GetAsync("live/other/video.m3u8");
        using var downRouted = await routed.GetAsync("live/other/video.m3u8");
        Assert.Equal(HttpStatusCode.BadGateway, downLane.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, downRouted.StatusCode);
        await SameProblemAsync(downRouted, downLane);
    }

    [Fact]
    public async Task The_lane_stays_off_when_a_limit_needs_the_routed_path()
    {
        await using var limited = await Daemon.StartAsync(["--StreamVerse:Limits:RequestsPerSecondPerIp", "50"]);
        Assert.Contains("fast lane off", limited.Output);
        Assert.Contains("RequestsPerSecondPerIp", limited.Output);
        await using var off = await Daemon.StartAsync(["--StreamVerse:Delivery:FastLane", "false"]);
        Assert.Contains("StreamVerse:Delivery:FastLane is false", off.Output);
    }
}
