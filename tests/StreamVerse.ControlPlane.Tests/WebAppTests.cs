using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The daemon serving the web app's static export at / (src/Origin/Web), against <see cref="TestWebExport"/>.</summary>
[Collection("sqlite")]
public sealed class WebAppTests(SqliteApp app)
{
    [Fact]
    public async Task Root_is_the_app_page_with_its_security_headers_and_no_cache()
    {
        using var r = await app.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        Assert.Contains("home page", await r.Content.ReadAsStringAsync());
        Assert.True(r.Headers.CacheControl?.NoCache);
        var csp = r.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains($"script-src 'self' '{TestWebExport.Hash}';", csp);
        Assert.DoesNotContain("'unsafe-inline' ", csp.Split("style-src")[0]);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("object-src 'none'", csp);
        Assert.Equal("DENY", r.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("strict-origin-when-cross-origin", r.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task Hashed_assets_are_immutable_for_a_year_and_build_payloads_revalidate()
    {
        using var asset = await app.Http.GetAsync("/_next/static/chunks/app-0a1b2c.js");
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", asset.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", asset.Headers.GetValues("X-Content-Type-Options").Single());

        using var payload = await app.Http.GetAsync("/watch.txt?_rsc=abc");
        Assert.Equal(HttpStatusCode.OK, payload.StatusCode);
        Assert.True(payload.Headers.CacheControl?.NoCache);

        // Revalidation by ETag: a page that did not change is a 304.
        using var page = await app.Http.GetAsync("/watch");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/watch");
        again.Headers.IfNoneMatch.Add(page.Headers.ETag!);
        using var notModified = await app.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    /// <summary>The embed page, under any id, is the one page other origins may frame; its neighbours by name are not.</summary>
    [Theory]
    [InlineData("/embed")]
    [InlineData("/embed/01JABCDEF")]
    public async Task The_embed_page_alone_may_be_framed_by_any_origin(string path)
    {
        using var r = await app.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("embed page", await r.Content.ReadAsStringAsync());
        var csp = r.Headers.GetValues("Content-Security-Policy").Single();
        Assert.EndsWith("frame-ancestors *", csp);
        Assert.Contains($"script-src 'self' '{TestWebExport.Hash}';", csp);
        Assert.False(r.Headers.Contains("X-Frame-Options"));

        using var other = await app.Http.GetAsync("/embedded");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Contains("frame-ancestors 'none'", other.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", other.Headers.GetValues("X-Frame-Options").Single());
    }

    [Theory]
    [InlineData("/watch", "watch page")]
    [InlineData("/watch/", "watch page")]
    [InlineData("/watch/01JABCDEF", "watch page")]
    public async Task App_routes_and_paths_under_them_are_the_route_page(string path, string page)
    {
        using var r = await app.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains(page, await r.Content.ReadAsStringAsync());
        Assert.True(r.Headers.Contains("Content-Security-Policy"));
    }

    [Theory]
    [InlineData("/no/such/page")]
    [InlineData("//")]
    [InlineData("//watch-nothing/x")]
    [InlineData("//v%0Aod/x/v1/360p_1.m4s/")] // CI: a mutated playback path was the home page with a 200
    public async Task An_unknown_app_path_is_the_apps_404_page_with_status_404(string path)
    {
        using var r = await app.Http.GetAsync(new Uri(app.Http.BaseAddress!.GetLeftPart(UriPartial.Authority) + path));
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Contains("not found page", await r.Content.ReadAsStringAsync());
        Assert.True(r.Headers.Contains("Content-Security-Policy"));
    }

    [Theory]
    [InlineData("/api/v1/no-such-thing")]
    [InlineData("/live/nothing/index.m3u8")]
    [InlineData("/vod/nothing/index.m3u8")]
    [InlineData("/internal/nothing")]
    [InlineData("/metrics/nothing")]
    [InlineData("/time/x")]
    public async Task Reserved_prefixes_are_never_answered_by_the_app(string path)
    {
        using var r = await app.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.DoesNotContain("page", await r.Content.ReadAsStringAsync());
        Assert.False(r.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public async Task Api_health_and_metrics_keep_their_own_answers()
    {
        Assert.Equal("ok", await app.Http.GetStringAsync("/healthz"));
        using var videos = await app.Http.GetAsync("/api/v1/videos");
        Assert.Equal("application/json", videos.Content.Headers.ContentType?.MediaType);
        Assert.False(videos.Headers.Contains("Content-Security-Policy"));
        using var metrics = await app.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.DoesNotContain("home page", await metrics.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Only_get_and_head_reach_the_app()
    {
        using var post = await app.Http.PostAsync("/watch", new StringContent("x"));
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        using var head = await app.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }
}

/// <summary>Without the app's build the daemon starts and serves the API and media; / is a plain 404.</summary>
public sealed class WebAppMissingTests : IAsyncLifetime
{
    private readonly NoWebBuildApp _app = new();

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task The_daemon_starts_without_the_build_and_keeps_its_api()
    {
        Assert.Equal("ok", await _app.Http.GetStringAsync("/healthz"));
        using var videos = await _app.Http.GetAsync("/api/v1/videos");
        Assert.Equal(HttpStatusCode.OK, videos.StatusCode);
        using var root = await _app.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.NotFound, root.StatusCode);
        Assert.False(root.Headers.Contains("Content-Security-Policy"));
    }

    private sealed class NoWebBuildApp : ControlPlaneApp
    {
        public override string Provider => "sqlite";

        protected override IEnumerable<string> ExtraArgs => ["--StreamVerse:Web:Root", Path.Combine(DataDir, "no-build-here")];
    }
}
