using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests;

/// <summary>
/// The HTTP/1.1 fast lane against the routed path of the same daemon: every object a player polls is answered the
/// same way (status, headers but Date and CORS, body) whether it came from the lane (no Origin header) or through
/// Kestrel's HTTP layer, routing and CORS (with one); and what the lane does not answer still gets the routed answer.
/// </summary>
public sealed class FastLaneTests
{
    private static readonly string[] Ignored = ["Date", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"];

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

    [Fact]
    public async Task The_lane_answers_exactly_as_the_routed_path()
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        Assert.Contains("fast lane on", daemon.Output);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 20);
        // Two clients, so a connection of the lane's is never one the routed requests handed over.
        using var lane = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl + "/") };
        using var routed = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl + "/") };
        routed.DefaultRequestHeaders.Add("Origin", "https://player.example");

        var playlist = await Publishers.WaitForAsync(lane, "live/cam/video.m3u8", TimeSpan.FromSeconds(20));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            playlist = await lane.GetStringAsync("live/cam/video.m3u8");
            if (Regex.Matches(playlist, @"^\w+/video_\d+\.m4s$", RegexOptions.Multiline).Count >= 2)
            {
                break;
            }
        }

        var segment = Regex.Matches(playlist, @"^(\w+)/video_(\d+)\.m4s$", RegexOptions.Multiline)[^1];
        var session = segment.Groups[1].Value;
        var msn = long.Parse(segment.Groups[2].Value);
        var part = Regex.Match(playlist, @"#EXT-X-PART:[^\n]*URI=""(\w+/video_\d+\.\d+\.m4s)""").Groups[1].Value;
        var audio = Regex.Match(await lane.GetStringAsync("live/cam/audio.m3u8"), @"^\w+/audio_\d+\.m4s$", RegexOptions.Multiline).Value;
        Assert.NotEmpty(part);
        Assert.NotEmpty(audio);

        var laneBefore = await daemon.MetricAsync("streamverse_http_fast_lane_responses_total");
        var laneRequests = 0;
        async Task Same(HttpMethod method, string path, Action<HttpRequestHeaders>? headers = null, int expectedStatus = 200)
        {
            // Playlists move on with the stream: compare a pair taken within one playlist version.
            for (var attempt = 0; ; attempt++)
            {
                var a = await SendAsync(lane, method, path, headers);
                laneRequests++;
                var b = await SendAsync(routed, method, path, headers);
                if (attempt < 5 && a.Headers != b.Headers && (path.Contains(".m3u8", StringComparison.Ordinal) || path.Contains(".mpd", StringComparison.Ordinal)))
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

        await Same(HttpMethod.Get, "live/cam/index.m3u8");
        await Same(HttpMethod.Get, "live/cam/index.mpd");
        await Same(HttpMethod.Get, "live/cam/index.mpd", h => h.Via.Add(new ViaHeaderValue("1.1", "streamverse-edge")));
        await Same(HttpMethod.Get, "live/cam/video.m3u8");
        await Same(HttpMethod.Get, "live/cam/audio.m3u8", h => h.AcceptEncoding.ParseAdd("gzip"));
        await Same(HttpMethod.Get, "live/cam/video.m3u8", h => h.AcceptEncoding.ParseAdd("br"));
        await Same(HttpMethod.Get, $"live/cam/video.m3u8?_HLS_msn={msn}&_HLS_part=0&_HLS_skip=YES");
        await Same(HttpMethod.Get, $"live/cam/{session}/video_init.mp4");
        await Same(HttpMethod.Get, $"live/cam/{session}/audio_init.mp4");
        await Same(HttpMethod.Get, $"live/cam/{segment.Value}");
        await Same(HttpMethod.Get, $"live/cam/{part}");
        await Same(HttpMethod.Get, $"live/cam/{audio}");
        await Same(HttpMethod.Head, $"live/cam/{part}");
        await Same(HttpMethod.Get, $"live/cam/{part}", h => h.Range = new RangeHeaderValue(10, 99), expectedStatus: 206);
        await Same(HttpMethod.Get, $"live/cam/{part}", h => h.Range = new RangeHeaderValue(10_000_000, null), expectedStatus: 416);
        var etag = (await lane.GetAsync($"live/cam/{part}")).Headers.ETag!;
        laneRequests++;
        await Same(HttpMethod.Get, $"live/cam/{part}", h => h.IfNoneMatch.Add(etag), expectedStatus: 304);
        Assert.Equal(laneBefore + laneRequests, await daemon.MetricAsync("streamverse_http_fast_lane_responses_total"));

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
        foreach (var field in new[] { "type", "title", "status", "detail" })
        {
            Assert.Equal(
                System.Text.Json.JsonDocument.Parse(await missingRouted.Content.ReadAsStringAsync()).RootElement.GetProperty(field).ToString(),
                System.Text.Json.JsonDocument.Parse(await missingLane.Content.ReadAsStringAsync()).RootElement.GetProperty(field).ToString());
        }

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
