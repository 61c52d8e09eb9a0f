using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Http.FastLane;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Http.FastLane;

/// <summary>The edge's lane router over a real <see cref="EdgeCache"/> and <see cref="UpstreamClient"/>, with a Kestrel origin on loopback.</summary>
public sealed class EdgeFastLaneRouterTests : IAsyncLifetime
{
    private const string Mpd = "<?xml version=\"1.0\"?>\n<MPD type=\"dynamic\" xmlns=\"urn:mpeg:dash:schema:mpd:2011\"><Period/></MPD>\n";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sv-edge-lane-" + Guid.NewGuid().ToString("N"));
    private WebApplication _origin = null!;
    private int _originRequests;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _origin = builder.Build();
        _origin.MapGet("/live/cam/s1/video_1.m4s", async context =>
        {
            Interlocked.Increment(ref _originRequests);
            context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            context.Response.Headers.ETag = "\"seg-1\"";
            context.Response.ContentType = "video/mp4";
            await context.Response.Body.WriteAsync(new byte[10_000]);
        });
        _origin.MapGet("/live/cam/index.mpd", async context =>
        {
            context.Response.Headers.CacheControl = "public, max-age=1";
            context.Response.ContentType = "application/dash+xml";
            await context.Response.WriteAsync(Mpd);
        });
        _origin.MapGet("/live/gone/video.m3u8", async context =>
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsync("{\"status\":404,\"detail\":\"no such stream or object\"}");
        });
        await _origin.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string OriginUrl => _origin.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private sealed class Edge(EdgeCache cache, UpstreamClient upstream, EdgeFastLaneRouter router) : IDisposable
    {
        public EdgeFastLaneRouter Router { get; } = router;

        public void Dispose()
        {
            upstream.Dispose();
            cache.Dispose();
        }
    }

    private Edge NewEdge(string upstreamUrl)
    {
        var edgeOptions = Options.Create(new EdgeOptions { Upstream = upstreamUrl, ConnectTimeoutSeconds = 1 });
        var cache = new EdgeCache(_dir, 64 << 20, 256 << 20, NullLogger<EdgeCache>.Instance);
        var upstream = new UpstreamClient(edgeOptions, TimeProvider.System, NullLogger<UpstreamClient>.Instance);
        var limitsOptions = Options.Create(new LimitsOptions());
        var limits = new DeliveryLimits(limitsOptions, new ViewerTierSelector(limitsOptions), TimeProvider.System);
        var playback = new EdgePlaybackCheck(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), TimeProvider.System);
        var handler = new EdgeDelivery.Handler(cache, upstream, limits, TimeProvider.System, playback);
        return new Edge(cache, upstream, new EdgeFastLaneRouter(cache, handler, TimeProvider.System, compressPlaylists: true));
    }

    private static bool Route(EdgeFastLaneRouter router, string path, out ValueTask<FastLaneAnswer> answer, string query = "", bool fromEdge = false, bool isHead = false) =>
        router.TryRoute(new FastLaneRequest(Encoding.ASCII.GetBytes(path), Encoding.ASCII.GetBytes(query), "edge.example:8080"u8, fromEdge, null, isHead), default, out answer);

    [Fact]
    public async Task A_miss_waits_in_the_lane_for_one_fetch_and_the_next_request_is_a_hit_that_allocates_nothing()
    {
        using var edge = NewEdge(OriginUrl);
        Assert.True(Route(edge.Router, "/live/cam/s1/video_1.m4s", out var pending));
        var miss = await pending;
        Assert.Equal("X-Cache: MISS\r\n", Encoding.ASCII.GetString(miss.Extra!));
        Assert.Equal(10_000, miss.Body!.Length);
        Assert.Equal("\"seg-1\"", miss.Body.ETag);
        Assert.Equal("Cache-Control: public, max-age=31536000, immutable\r\n", Encoding.ASCII.GetString(miss.CacheControl));
        Assert.Equal(DeliveryMetrics.Kind.Segment, miss.Kind);
        Assert.False(miss.Compress);
        Assert.Equal(0, miss.Age);

        Assert.True(Route(edge.Router, "/live/cam/s1/video_1.m4s", out var hit));
        Assert.True(hit.IsCompletedSuccessfully);
        var hitAnswer = await hit;
        Assert.Equal("X-Cache: HIT\r\n", Encoding.ASCII.GetString(hitAnswer.Extra!));
        Assert.Same(miss.Body, hitAnswer.Body);
        Assert.Equal(1, _originRequests);

        // Any query on a segment is ignored, as by the routed handler: the same cached object.
        Assert.True(Route(edge.Router, "/live/cam/s1/video_1.m4s", out var withQuery, query: "player=1"));
        Assert.Same(miss.Body, (await withQuery).Body);

        // The lowest of three attempts of 1,000 hits: a CI run once saw 6,432 bytes in one attempt (something not per hit;
        // not identified), while one object per hit is at least 24,000 bytes in every attempt (as it was before EdgeCache
        // read memory records synchronously).
        var path = "/live/cam/s1/video_1.m4s"u8.ToArray();
        var lowest = long.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                edge.Router.TryRoute(new FastLaneRequest(path, default, "edge.example"u8, false, null), default, out var again);
                Assert.True(again.IsCompletedSuccessfully);
            }

            lowest = Math.Min(lowest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(lowest < 1000, $"{lowest} bytes allocated over 1,000 hits");
        Assert.Equal(1, _originRequests);
    }

    [Fact]
    public async Task A_live_mpd_gets_the_edges_clock_for_its_viewers_and_none_for_a_further_edge()
    {
        using var edge = NewEdge(OriginUrl);
        Assert.True(Route(edge.Router, "/live/cam/index.mpd", out var first));
        var viewer = await first;
        Assert.Equal(DeliveryMetrics.Kind.Playlist, viewer.Kind);
        Assert.True(viewer.Compress);
        Assert.Contains("<UTCTiming ", Text(viewer.Body!));
        Assert.Contains("http://edge.example:8080/time", Text(viewer.Body!));

        Assert.True(Route(edge.Router, "/live/cam/index.mpd", out var chained, fromEdge: true));
        Assert.Equal(Mpd, Text((await chained).Body!));
    }

    [Fact]
    public async Task The_origins_own_404_is_passed_on_uncached_and_a_failed_fetch_is_a_502_problem()
    {
        using (var edge = NewEdge(OriginUrl))
        {
            Assert.True(Route(edge.Router, "/live/gone/video.m3u8", out var pending));
            var answer = await pending;
            Assert.Null(answer.Body);
            var problem = answer.Problem!;
            Assert.Equal(404, problem.Status);
            Assert.Equal("Not Found", problem.Title);
            Assert.Equal("application/problem+json", problem.RawContentType);
            Assert.Equal("{\"status\":404,\"detail\":\"no such stream or object\"}", Encoding.ASCII.GetString(problem.RawBody!));
            Assert.Equal("Cache-Control: no-store\r\n", Encoding.ASCII.GetString(problem.CacheControl));
        }

        // A port nothing listens on: refused.
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var closed = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using (var edge = NewEdge($"http://127.0.0.1:{closed}"))
        {
            Assert.True(Route(edge.Router, "/vod/v1/index.m3u8", out var pending));
            var problem = (await pending).Problem!;
            Assert.Equal(502, problem.Status);
            Assert.Equal("Bad Gateway", problem.Title);
            Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.6.3", problem.Type);
            Assert.Null(problem.RawBody);
        }
    }

    [Theory]
    [InlineData("/live/t/abc/cam/s1/video_1.m4s", "")]
    [InlineData("/vod/t/abc/v1/index.m3u8", "")]
    [InlineData("/time", "")]
    [InlineData("/metrics", "")]
    [InlineData("/live/cam/vi~deo.m3u8", "")]
    [InlineData("/live/cam/video.m3u8", "_HLS_msn=5&token=x")]
    [InlineData("/live/cam/video.m3u8", "CMCD=br%3D1&token=x")]
    [InlineData("/live/cam/video.m3u8", "_HLS_msn=5&_HLS_msn=6")]
    [InlineData("/live/cam/video.m3u8", "_HLS_msn=")]
    [InlineData("/live/cam/video.m3u8", "_HLS_msn=-1")]
    public void What_the_routed_handler_must_answer_is_handed_over(string path, string query)
    {
        using var edge = NewEdge(OriginUrl);
        Assert.False(Route(edge.Router, path, out _, query));
        Assert.Equal(0, _originRequests);
    }

    [Theory]
    [InlineData("/live/cam/video.m3u8", "", "/live/cam/video.m3u8", false)]
    [InlineData("/live/cam/s/video_1.m4s", "_HLS_msn=1", "/live/cam/s/video_1.m4s", false)]
    [InlineData("/live/cam/video.m3u8", "_HLS_skip=YES", "/live/cam/video.m3u8?_HLS_skip=YES", false)]
    [InlineData("/live/cam/video.m3u8", "_HLS_skip=YES&_HLS_part=2&_HLS_msn=40", "/live/cam/video.m3u8?_HLS_msn=40&_HLS_part=2&_HLS_skip=YES", true)]
    [InlineData("/live/cam/video.m3u8", "_HLS_msn=40", "/live/cam/video.m3u8?_HLS_msn=40", true)]
    // CMCD (CTA-5004) differs per viewer and request: it is neither keyed nor a reason to hand a playlist over.
    [InlineData("/live/cam/video.m3u8", "CMCD=bl%3D21300%2Csid%3D%22a%22", "/live/cam/video.m3u8", false)]
    [InlineData("/live/cam/video.m3u8", "CMCD=sid%3D%22b%22%2Cmtp%3D900&_HLS_msn=40", "/live/cam/video.m3u8?_HLS_msn=40", true)]
    [InlineData("/live/cam/s/video_1.m4s", "CMCD=br%3D800", "/live/cam/s/video_1.m4s", false)]
    public void The_cache_key_is_the_routed_handlers(string path, string query, string key, bool blocking)
    {
        Span<byte> buffer = stackalloc byte[1024];
        Assert.True(EdgeFastLaneRouter.TryKey(Encoding.ASCII.GetBytes(path), Encoding.ASCII.GetBytes(query), buffer, out var length, out var isBlocking));
        Assert.Equal(key, Encoding.ASCII.GetString(buffer[..length]));
        Assert.Equal(blocking, isBlocking);

        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.QueryString = query.Length == 0 ? QueryString.Empty : new QueryString("?" + query);
        Assert.Equal(key, EdgeDelivery.Handler.CacheKey(context.Request, out var routedBlocking));
        Assert.Equal(blocking, routedBlocking);
    }

    private static string Text(StoredObject obj)
    {
        var bytes = new byte[obj.Length];
        var at = 0;
        foreach (var slice in obj.Slices(0, obj.Length))
        {
            slice.Span.CopyTo(bytes.AsSpan(at));
            at += slice.Length;
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
