using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests.Edge;

/// <summary>
/// An edge daemon in front of a test origin (Kestrel on loopback, in this process) whose headers no StreamVerse origin
/// sends: freshness lifetimes no clock holds, a Cache-Control or an ETag longer than a response head. Each object is
/// asked for once through the fast lane and once through the routed path (a connection the lane handed over), and both
/// answer it, the first time (a miss) and the next (from the cache).
/// </summary>
public sealed class MisbehavingOriginTests : IAsyncLifetime
{
    private static readonly string LongEtag = "\"" + new string('e', 5000) + "\"";

    private WebApplication _origin = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _origin = builder.Build();
        _origin.MapGet("/vod/v/{name}", async (HttpContext context, string name) =>
        {
            var headers = context.Response.Headers;
            headers.CacheControl = name.Split('-')[0] switch
            {
                "maxage" => "public, max-age=99999999999999",
                "stale" => "public, max-age=10, stale-if-error=99999999999999",
                "longcc" => "public, max-age=60, x=\"" + new string('a', 5000) + "\"",
                _ => "public, max-age=60",
            };
            headers.ETag = name.StartsWith("longetag", StringComparison.Ordinal) ? LongEtag : "\"" + name + "\"";
            context.Response.ContentType = "application/vnd.apple.mpegurl";
            await context.Response.WriteAsync("#EXTM3U\n#" + name + "\n");
        });
        await _origin.StartAsync();
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private string OriginUrl => _origin.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>A client on one connection that the lane handed to Kestrel at its first request (<c>/healthz</c>, which the lane does not answer).</summary>
    private static async Task<HttpClient> RoutedClientAsync(Daemon edge)
    {
        var routed = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(edge.BaseUrl + "/"),
        };
        (await routed.GetAsync("healthz")).EnsureSuccessStatusCode();
        return routed;
    }

    /// <summary>Asks for <paramref name="path"/> twice on a new connection: the lane answers it, or hands it to the routed path itself.</summary>
    private static async Task<(HttpResponseMessage Miss, HttpResponseMessage Hit)> TwiceAsync(HttpClient? client, Daemon edge, string path)
    {
        using var lane = client is null ? new HttpClient { BaseAddress = new Uri(edge.BaseUrl + "/") } : null;
        var http = client ?? lane!;
        var miss = await http.GetAsync(path);
        var hit = await http.GetAsync(path);
        return (miss, hit);
    }

    private static async Task AssertServedAsync(HttpResponseMessage response, string name, string? xCache)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("#EXTM3U\n#" + name + "\n", await response.Content.ReadAsStringAsync());
        if (xCache is not null)
        {
            Assert.Equal(xCache, response.Headers.GetValues("X-Cache").Single());
        }
    }

    [Fact]
    public async Task Freshness_lifetimes_beyond_any_clock_are_stored_capped_on_both_paths()
    {
        await using var edge = await Daemon.StartAsync(["--upstream", OriginUrl]);
        using var routed = await RoutedClientAsync(edge);
        foreach (var kind in new[] { "maxage", "stale" })
        {
            foreach (var (client, name) in new[] { ((HttpClient?)null, kind + "-lane.m3u8"), (routed, kind + "-routed.m3u8") })
            {
                var (miss, hit) = await TwiceAsync(client, edge, "vod/v/" + name);
                await AssertServedAsync(miss, name, "MISS");
                await AssertServedAsync(hit, name, "HIT");
            }
        }

        Assert.DoesNotContain("Unhandled exception", edge.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cache_control_or_etag_longer_than_a_response_head_is_answered_on_both_paths()
    {
        await using var edge = await Daemon.StartAsync(["--upstream", OriginUrl]);
        using var routed = await RoutedClientAsync(edge);
        foreach (var (client, name) in new[] { ((HttpClient?)null, "longcc-lane.m3u8"), (routed, "longcc-routed.m3u8") })
        {
            var (miss, hit) = await TwiceAsync(client, edge, "vod/v/" + name);
            await AssertServedAsync(miss, name, "MISS");
            await AssertServedAsync(hit, name, "HIT");
            // Passed on as the edge understood it, not as sent.
            Assert.Equal("max-age=60", miss.Headers.CacheControl!.ToString());
            Assert.Equal("max-age=60", hit.Headers.CacheControl!.ToString());
        }

        // An ETag is the object's validator and is passed on whole: the lane leaves such an answer to the routed path.
        var handedOver = await edge.MetricAsync("streamverse_http_fast_lane_handovers_total");
        foreach (var (client, name) in new[] { ((HttpClient?)null, "longetag-lane.m3u8"), (routed, "longetag-routed.m3u8") })
        {
            var (miss, hit) = await TwiceAsync(client, edge, "vod/v/" + name);
            // Handed over, the request is looked up again by the routed path, after the lane's fetch stored it: a HIT.
            await AssertServedAsync(miss, name, client is null ? null : "MISS");
            await AssertServedAsync(hit, name, "HIT");
            Assert.Equal(LongEtag, miss.Headers.ETag!.ToString());
        }

        Assert.Equal(1, await edge.MetricAsync("streamverse_http_fast_lane_handovers_total") - handedOver);
    }
}
