using System.Text.Json.Nodes;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// The web app's typed client is generated (src/Web/scripts/gen-api.mjs, at every build) from src/Web/openapi.json:
/// that file must be the document the daemon serves, or the app would be built against an API that is not there.
/// </summary>
[Collection("sqlite")]
public sealed class WebClientTests(SqliteApp app)
{
    [Fact]
    public async Task Committed_openapi_json_is_the_document_the_daemon_serves()
    {
        var served = JsonNode.Parse(await app.Http.GetStringAsync("openapi/v1.json"))!.AsObject();
        served.Remove("servers");
        var path = Path.Combine(TestProcesses.RepoRoot, "src", "Web", "openapi.json");
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        if (!JsonNode.DeepEquals(served, committed))
        {
            var fresh = Path.Combine(Path.GetTempPath(), "streamverse-openapi.json");
            await File.WriteAllTextAsync(fresh, served.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            Assert.Fail($"src/Web/openapi.json is not the served document: cp {fresh} {path} (or in src/Web: node scripts/gen-api.mjs http://127.0.0.1:PORT against a running daemon), then rebuild the app");
        }
    }
}
