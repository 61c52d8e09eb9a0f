using System.Security.Cryptography;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests.Edge;

/// <summary>
/// RFC 8216bis §6.2.5.1 delta updates (issue 17 defect 8): once segments are old enough to skip, a playlist asked for
/// with <c>_HLS_skip=YES</c> or <c>v2</c> carries EXT-X-SKIP whichever path answers it: the origin's fast lane and routed
/// handler, and an edge's fast lane and routed handler (one parser of the directive, HlsSkipDirective). Before that the
/// full playlist answers (ContinuityTests).
/// </summary>
public sealed class DeltaUpdateTests
{
    /// <summary>A client whose connection the lane handed to Kestrel at its first request (/healthz): the routed path from then on.</summary>
    private static async Task<HttpClient> RoutedClientAsync(Daemon daemon)
    {
        var routed = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(daemon.BaseUrl + "/"),
        };
        (await routed.GetAsync("healthz")).EnsureSuccessStatusCode();
        return routed;
    }

    [Fact]
    public async Task Delta_update_requests_carry_EXT_X_SKIP_at_the_origin_and_through_the_edge()
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        // 1 s segments (ffmpeg's GOP is 25 frames at 25 fps): CAN-SKIP-UNTIL is 6 s, so segments are skippable within ~8 s.
        await using var origin = await Daemon.StartAsync(["--stream", $"cam={key}", "--StreamVerse:Segmenter:TargetDuration", "00:00:01"]);
        await using var edge = await Daemon.StartAsync(["--upstream", origin.BaseUrl]);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 20);
        using var originLane = new HttpClient { BaseAddress = new Uri(origin.BaseUrl + "/") };
        using var originRouted = await RoutedClientAsync(origin);
        using var edgeLane = new HttpClient { BaseAddress = new Uri(edge.BaseUrl + "/") };
        using var edgeRouted = await RoutedClientAsync(edge);

        await Publishers.WaitForAsync(originLane, "live/cam/video.m3u8", TimeSpan.FromSeconds(20));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(250))
        {
            if ((await originLane.GetStringAsync("live/cam/video.m3u8?_HLS_skip=YES")).Contains("#EXT-X-SKIP:", StringComparison.Ordinal))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no segment became old enough to skip");
        }

        foreach (var (name, http) in new[] { ("origin lane", originLane), ("origin routed", originRouted), ("edge lane", edgeLane), ("edge routed", edgeRouted) })
        {
            foreach (var query in new[] { "_HLS_skip=YES", "_HLS_skip=v2" })
            {
                var delta = await http.GetStringAsync($"live/cam/video.m3u8?{query}");
                var skipped = System.Text.RegularExpressions.Regex.Match(delta, "#EXT-X-SKIP:SKIPPED-SEGMENTS=([0-9]+)\n");
                Assert.True(skipped.Success && int.Parse(skipped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, $"{name} ?{query}:\n{delta}");
            }

            // Any other value is a request for the full playlist.
            Assert.DoesNotContain("#EXT-X-SKIP", await http.GetStringAsync("live/cam/video.m3u8?_HLS_skip=no"));
        }
    }
}
