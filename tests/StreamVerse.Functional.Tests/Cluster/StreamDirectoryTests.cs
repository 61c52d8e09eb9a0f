using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.Functional.Tests.Cluster;

/// <summary>
/// Two origins and an edge sharing the test Redis (<c>./setup.sh deps</c>) as one cluster with a stream directory: a stream
/// published on one origin plays through the other and through the edge, and moves when its publisher goes elsewhere.
/// </summary>
public sealed partial class StreamDirectoryTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static string Redis => TestEnvFile.Reader("/var/lib/streamverse-test/redis.env", "Redis")("STREAMVERSE_TEST_REDIS");

    /// <summary>The arguments of one cluster node: the shared Redis under this test's own prefix, a short lease.</summary>
    internal static string[] Node(string prefix, int? advertisedPort) =>
    [
        "--StreamVerse:ControlPlane:Redis:Configuration", Redis,
        "--StreamVerse:ControlPlane:Redis:ChannelPrefix", prefix,
        "--StreamVerse:Cluster:LeaseSeconds", "3",
        .. advertisedPort is { } port ? (string[])["--StreamVerse:Cluster:AdvertisedUrl", $"http://127.0.0.1:{port}"] : [],
    ];

    [Fact]
    public async Task A_stream_published_on_origin_A_plays_through_origin_B_and_an_edge_and_follows_its_publisher_to_B()
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var prefix = "sv-test-" + Guid.NewGuid().ToString("N")[..12];
        var (portA, portB) = (Daemon.FreePort(), Daemon.FreePort());
        await using var a = await Daemon.StartAsync(["--stream", $"cam={key}", .. Node(prefix, portA)], httpPort: portA);
        await using var b = await Daemon.StartAsync(["--stream", $"cam={key}", .. Node(prefix, portB)], httpPort: portB);
        await using var edge = await Daemon.StartAsync(["--upstream", b.BaseUrl, .. Node(prefix, null)]);
        using var onA = Publishers.Ffmpeg(a.RtmpUrl(key), seconds: 60);

        // B holds nothing of "cam": what it serves comes from A, with no redirect (HttpClient and ffmpeg would follow one,
        // so the status of the first answer is checked too).
        var master = await Publishers.WaitForAsync(b.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(30));
        Assert.Contains("#EXT-X-STREAM-INF", master);
        using (var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }))
        using (var first = await noRedirects.GetAsync(b.BaseUrl + "/live/cam/video.m3u8"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        foreach (var node in new[] { b, edge })
        {
            var play = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{node.BaseUrl}/live/cam/index.m3u8", "-t", "2", "-f", "null", "-");
            Assert.True(play.ExitCode == 0 && play.Stderr.Trim().Length == 0, play.Stderr + node.Output);
        }

        // An LL-HLS blocking reload passes through B to A: asked for the next segment, B answers once A has it.
        var playlist = await b.Http.GetStringAsync("live/cam/video.m3u8");
        var next = long.Parse(MediaSequence().Match(playlist).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + Extinf().Matches(playlist).Count;
        using (var blocked = await b.Http.GetAsync($"live/cam/video.m3u8?_HLS_msn={next}"))
        {
            Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
            var body = await blocked.Content.ReadAsStringAsync();
            Assert.Equal(next, long.Parse(MediaSequence().Match(body).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + Extinf().Matches(body).Count - 1);
            Assert.Equal("no-cache", blocked.Headers.CacheControl!.ToString());
        }

        // The publisher comes back on B (a new publish takes the name over): A, told by the directory, ends its session and
        // drops its publisher; A and the edge now serve B's session.
        using var onB = Publishers.Ffmpeg(b.RtmpUrl(key), seconds: 30);
        await onA.WaitAsync(TimeSpan.FromSeconds(20)); // ended by A (its 60 s are far from over), else a TimeoutException
        var segmentOnB = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            var fromB = await b.Http.GetStringAsync("live/cam/video.m3u8");
            using var fromA = await a.Http.GetAsync("live/cam/video.m3u8");
            segmentOnB = SegmentUri().Matches(fromB).LastOrDefault()?.Value ?? "";
            if (segmentOnB.Length > 0 && fromA.IsSuccessStatusCode && (await fromA.Content.ReadAsStringAsync()).Contains(segmentOnB, StringComparison.Ordinal))
            {
                break;
            }

            segmentOnB = "";
        }

        Assert.True(segmentOnB.Length > 0, "origin A never served the session published on B: " + a.Output);
        var viaEdge = await Publishers.WaitForAsync(edge.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(10));
        Assert.Contains(segmentOnB[..segmentOnB.IndexOf('/', StringComparison.Ordinal)], viaEdge, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"#EXT-X-MEDIA-SEQUENCE:(\d+)")]
    private static partial Regex MediaSequence();

    [GeneratedRegex("#EXTINF:")]
    private static partial Regex Extinf();

    [GeneratedRegex(@"(?m)^[a-z0-9]+/video_\d+\.m4s$")]
    private static partial Regex SegmentUri();
}
