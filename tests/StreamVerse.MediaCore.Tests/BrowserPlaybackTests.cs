using System.Diagnostics;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.MediaCore.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// The ladder's output played by real browser players: hls.js and dash.js in headless Chromium
/// (tests/browser/play.mjs), and the HLS playlists checked by tests/browser/lint-hls.mjs (hls-parser strict +
/// RFC 8216bis rules). The folder is served as it is, the way a CDN or the origin would serve it.
/// </summary>
public sealed class BrowserPlaybackTests
{
    internal static readonly string BrowserDir = FindBrowserDir();

    [Fact]
    public async Task Hls_js_dash_js_play_the_ladder_and_the_playlists_lint_clean()
    {
        var source = Tools.Clip("browser-src.mp4",
        [
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        ]);
        var output = Path.Combine(Tools.TempRoot, "browser-out");
        var options = new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(2), Preset = "veryfast" };
        var result = await new Transcoder().TranscodeAsync(source, output, options, null, CancellationToken.None);

        using var server = StartServer(result.OutputDirectory, out var baseUrl);
        try
        {
            var lint = Node("lint-hls.mjs", baseUrl + result.MasterPlaylist);
            Assert.True(lint.ExitCode == 0, lint.StdOut + lint.StdErr);

            var hls = Node("play.mjs", "hls", baseUrl + result.MasterPlaylist, "3");
            Assert.True(hls.ExitCode == 0, hls.StdOut + hls.StdErr);
            Assert.Contains("\"levels\":2", hls.StdOut, StringComparison.Ordinal);
            Assert.Contains("\"audioTracks\":1", hls.StdOut, StringComparison.Ordinal);

            var dash = Node("play.mjs", "dash", baseUrl + result.DashManifest, "3");
            Assert.True(dash.ExitCode == 0, dash.StdOut + dash.StdErr);
            Assert.Contains("\"levels\":2", dash.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            server.Kill();
        }
    }

    internal static ToolResult Node(string script, params string[] args) => Tools.Run("node", [Path.Combine(BrowserDir, script), .. args]);

    /// <summary>node with environment variables (NAME=value) set for the script.</summary>
    internal static ToolResult NodeWith(string[] environment, string script, params string[] args) =>
        Tools.Run("env", [.. environment, "node", Path.Combine(BrowserDir, script), .. args]);

    internal static Process StartServer(string directory, out string baseUrl)
    {
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(BrowserDir, "dev", "serve-static.mjs"));
        psi.ArgumentList.Add(directory);
        psi.ArgumentList.Add("0");
        var process = Process.Start(psi)!;
        baseUrl = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("serve-static.mjs printed no URL");
        return process;
    }

    private static string FindBrowserDir()
    {
        var browser = Path.Combine(TestProcesses.RepoRoot, "tests", "browser");
        foreach (var package in (string[])["hls.js", "dashjs", "playwright-core", "hls-parser"])
        {
            if (!Directory.Exists(Path.Combine(browser, "node_modules", package)))
            {
                throw new InvalidOperationException($"{browser}/node_modules/{package} is missing: run ./setup.sh deps (npm ci in tests/browser)");
            }
        }

        return browser;
    }
}
