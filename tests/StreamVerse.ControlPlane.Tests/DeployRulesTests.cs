using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// deploy/prometheus and deploy/grafana: the rules pass <c>promtool check rules</c> and their unit tests, and every
/// metric a rule or a dashboard names is on a real <c>/metrics</c> (an origin and an edge in this process, after a
/// publish, playback through the edge, a refused publish and a refused token); a histogram by its _bucket/_sum/_count.
/// </summary>
public sealed partial class DeployRulesTests : IClassFixture<SqliteApp>
{
    private readonly SqliteApp _app;

    public DeployRulesTests(SqliteApp app) => _app = app;

    private static string Deploy => Path.Combine(RepoRoot(), "deploy");

    [Fact]
    public async Task Promtool_checks_and_unit_tests_the_rules()
    {
        var dir = Path.Combine(Deploy, "prometheus");
        var (code, output) = await RunAsync("promtool", dir, "check", "rules", "streamverse.rules.yml");
        Assert.True(code == 0, output);
        (code, output) = await RunAsync("promtool", dir, "test", "rules", "tests/streamverse.rules.test.yml");
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Every_metric_in_the_dashboards_and_rules_exists()
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(Deploy, "grafana"), "*.json").Append(Path.Combine(Deploy, "prometheus", "streamverse.rules.yml")))
        {
            foreach (Match m in MetricName().Matches(await File.ReadAllTextAsync(file)))
            {
                used.Add(m.Value);
            }
        }

        Assert.Contains("streamverse_edge_requests_total", used);
        var exposed = await ActivityAndScrapeAsync();
        var missing = used.Where(name => !exposed.Contains(name)).ToList();
        Assert.True(missing.Count == 0, "not on /metrics: " + string.Join(", ", missing));
    }

    /// <summary>The names on /metrics after some activity; a histogram also under its _bucket, _sum and _count series.</summary>
    private async Task<HashSet<string>> ActivityAndScrapeAsync()
    {
        var data = Directory.CreateTempSubdirectory("sv-edge-").FullName;
        var port = FreePort();
        await using var edge = OriginHost.Build(["--data", data, "--http", $"127.0.0.1:{port}", "--upstream", _app.BaseUrl]);
        await edge.StartAsync();
        try
        {
            using var edgeHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var key = "metrics-" + Guid.NewGuid().ToString("N")[..8];

            // A refused publish (no such key), then a real one with a control-plane stream key.
            var creator = await _app.NewUserAsync("creator");
            var channel = await _app.NewChannelAsync(creator);
            var streamKey = (await _app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created)).GetProperty("key").GetString()!;
            using (var refused = Ffmpeg($"rtmp://127.0.0.1:{_app.RtmpPort}/live/{key}", 1))
            {
                await refused.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }

            using var publisher = Ffmpeg($"rtmp://127.0.0.1:{_app.RtmpPort}/live/{streamKey}", 6);
            string? video = null;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (video is null || !(await edgeHttp.GetAsync($"live/{video}/index.m3u8")).IsSuccessStatusCode)
            {
                Assert.True(DateTime.UtcNow < deadline, "the stream never played through the edge");
                var keys = await _app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken);
                video = keys.GetProperty("items")[0].GetProperty("liveVideoId") is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
                await Task.Delay(200);
            }

            // Twice through the edge (a miss, then a hit), once refused for a bad token at the origin.
            foreach (var path in new[] { $"live/{video}/index.m3u8", $"live/{video}/index.m3u8" })
            {
                using var r = await edgeHttp.GetAsync(path);
            }

            using var denied = await _app.Http.GetAsync($"live/t/not-a-token/{video}/index.m3u8");

            await publisher.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var text = await _app.Http.GetStringAsync("metrics");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    names.Add(parts[2]);
                    if (parts[3] == "histogram")
                    {
                        names.UnionWith([parts[2] + "_bucket", parts[2] + "_sum", parts[2] + "_count"]);
                    }
                }
                else if (line.Length > 0 && line[0] != '#')
                {
                    names.Add(line[..line.IndexOfAny(['{', ' '])]);
                }
            }

            return names;
        }
        finally
        {
            await edge.StopAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>A metric a rule or panel names: not a recording rule's name (those have colons).</summary>
    [GeneratedRegex(@"(?<![:\w])(?:streamverse|process)_[a-z0-9_]+(?![:\w])")]
    private static partial Regex MetricName();

    private static Process Ffmpeg(string url, int seconds)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[]
        {
            "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-g", "25", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url,
        })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string directory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = directory };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (p.ExitCode, await o + await e);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamVerse.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("StreamVerse.sln not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
