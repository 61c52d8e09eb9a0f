using System.Diagnostics;
using StreamVerse.ControlPlane.Tests.Infrastructure;

using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The generated OpenAPI document, checked by an independent validator (@apidevtools/swagger-parser).</summary>
[Collection("sqlite")]
public sealed class OpenApiTests(SqliteApp app)
{

    [Fact]
    public async Task Document_is_valid_openapi_per_swagger_parser()
    {
        var tool = Path.Combine(TestProcesses.RepoRoot, "tests", "controlplane-openapi");
        Assert.True(Directory.Exists(Path.Combine(tool, "node_modules", "@apidevtools")), "run ./setup.sh deps (npm ci in tests/controlplane-openapi)");
        var psi = new ProcessStartInfo("node") { WorkingDirectory = tool, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("validate.mjs");
        psi.ArgumentList.Add(app.BaseUrl + "/openapi/v1.json");
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(node.ExitCode == 0, await stderr + await stdout);
        Assert.StartsWith("valid StreamVerse control plane 3.1", await stdout);
    }

    [Fact]
    public async Task Document_describes_every_api_endpoint_with_bearer_security_where_needed()
    {
        var doc = await app.JsonAsync(HttpMethod.Get, "openapi/v1.json");
        var paths = doc.GetProperty("paths");
        foreach (var (path, method) in new[] { ("/api/v1/auth/login", "post"), ("/api/v1/me", "delete"), ("/api/v1/videos/{id}/playback-token", "post"), ("/api/v1/channels/{channelId}/stream-keys/{keyId}/rotate", "post"), ("/api/v1/users/{id}/role", "put") })
        {
            Assert.True(paths.GetProperty(path).TryGetProperty(method, out _), $"{method} {path}");
        }

        Assert.True(paths.GetProperty("/api/v1/me").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/api/v1/auth/login").GetProperty("post").TryGetProperty("security", out _));
        Assert.Equal("bearer", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.False(paths.TryGetProperty("/live/{name}/{path}", out _));
    }

    [Fact]
    public async Task Scalar_ui_is_served_at_docs()
    {
        using var r = await app.Http.GetAsync("docs/v1");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("text/html", r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Cors_allows_only_the_configured_origins_on_the_api()
    {
        foreach (var (origin, allowed) in new[] { ("https://app.test.invalid", true), ("https://evil.test.invalid", false) })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "api/v1/me");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "PATCH");
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            using var r = await app.Http.SendAsync(preflight);
            Assert.Equal(allowed, r.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) && v.Single() == origin);
        }
    }
}
