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

namespace StreamVerse.Origin.Tests.Edge;

/// <summary>The edge's upstream client against a real HTTP server (Kestrel on loopback) that honours If-None-Match.</summary>
public sealed class RevalidationTests : IAsyncLifetime
{
    private WebApplication _server = null!;
    private volatile string _etag = "\"v1\"";
    private int _requests;
    private int _conditional;
    private int _notModified;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.MapGet("/vod/x/index.m3u8", async context =>
        {
            Interlocked.Increment(ref _requests);
            var etag = _etag;
            context.Response.Headers.ETag = etag;
            var ifNoneMatch = context.Request.Headers.IfNoneMatch.ToString();
            if (ifNoneMatch.Length > 0)
            {
                Interlocked.Increment(ref _conditional);
            }

            if (ifNoneMatch == etag)
            {
                Interlocked.Increment(ref _notModified);
                context.Response.Headers.CacheControl = "public, max-age=7, stale-if-error=60";
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            context.Response.Headers.CacheControl = "public, max-age=1";
            context.Response.ContentType = "application/vnd.apple.mpegurl";
            await context.Response.WriteAsync("#EXTM3U\n" + etag + "\n");
        });
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string BaseUrl => _server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    [Fact]
    public async Task An_expired_entry_is_revalidated_and_a_304_refreshes_it_without_a_body()
    {
        using var client = new UpstreamClient(Options.Create(new EdgeOptions { Upstream = BaseUrl }), TimeProvider.System, NullLogger<UpstreamClient>.Instance);
        var first = await client.FetchAsync("vod/x/index.m3u8", blocking: false);
        Assert.Equal(200, first.Status);
        Assert.False(first.Revalidated);
        Assert.Equal("\"v1\"", first.Entry!.ETag);
        Assert.Equal(1000, first.Entry.FreshUntilMs - first.Entry.FetchedAtMs);

        var second = await client.FetchAsync("vod/x/index.m3u8", blocking: false, stale: first.Entry);
        Assert.True(second.Revalidated);
        Assert.True(second.Storable);
        Assert.Same(first.Entry.Body, second.Entry!.Body);
        Assert.Equal("\"v1\"", second.Entry.ETag);
        Assert.Equal(first.Entry.ContentType, second.Entry.ContentType);
        // The 304's Cache-Control replaces the stored one (RFC 9111 §4.3.4): 7 s fresh, then 60 s stale-if-error.
        Assert.Equal("public, max-age=7, stale-if-error=60", second.Entry.CacheControl);
        Assert.Equal(7000, second.Entry.FreshUntilMs - second.Entry.FetchedAtMs);
        Assert.Equal(67000, second.Entry.StaleUntilMs - second.Entry.FetchedAtMs);
        Assert.Equal((2, 1, 1), (_requests, _conditional, _notModified));

        // Changed at the origin: the conditional request gets the new body, not a 304.
        _etag = "\"v2\"";
        var third = await client.FetchAsync("vod/x/index.m3u8", blocking: false, stale: second.Entry);
        Assert.False(third.Revalidated);
        Assert.Equal("\"v2\"", third.Entry!.ETag);
        Assert.Equal("#EXTM3U\n\"v2\"\n", Encoding.UTF8.GetString(third.Entry.Body));
        Assert.Equal((3, 2, 1), (_requests, _conditional, _notModified));
    }

    [Fact]
    public async Task Blocking_requests_are_never_conditional()
    {
        using var client = new UpstreamClient(Options.Create(new EdgeOptions { Upstream = BaseUrl }), TimeProvider.System, NullLogger<UpstreamClient>.Instance);
        var first = await client.FetchAsync("vod/x/index.m3u8", blocking: false);
        var blocking = await client.FetchAsync("vod/x/index.m3u8", blocking: true, stale: first.Entry);
        Assert.False(blocking.Revalidated);
        Assert.Equal(0, _conditional);
    }
}
