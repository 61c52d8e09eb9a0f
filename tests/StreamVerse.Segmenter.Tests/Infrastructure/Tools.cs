using System.Collections.Concurrent;
using StreamVerse.Tests.Shared;

namespace StreamVerse.Segmenter.Tests.Infrastructure;

/// <summary>Runs ffmpeg/ffprobe and produces FLV fixtures once per test run.</summary>
internal static class Tools
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Fixtures = new();
    // Shared across runs: fixtures are deterministic, and reusing them keeps the suite fast.
    private static readonly string FixtureDirectory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "streamverse-segmenter-fixtures")).FullName;

    public static ToolResult Run(string tool, params string[] args) => Run(TimeSpan.FromSeconds(60), tool, args);

    /// <summary>Runs a tool; on timeout it is killed and the result has exit code -1 and whatever it printed.</summary>
    public static ToolResult Run(TimeSpan timeout, string tool, params string[] args) => TestProcesses.Run(timeout, tool, args);

    /// <summary>video: "25" (25 fps, -g 25), "30g50" (30 fps, -g 50), "none" (audio only), "crop" (318x178, 1 s).</summary>
    public static string Fixture(string variant, int seconds = 6) =>
        Fixtures.GetOrAdd($"{variant}-{seconds}", key => new Lazy<string>(() => Create(variant, seconds, key))).Value;

    private static string Create(string variant, int seconds, string key)
    {
        var path = Path.Combine(FixtureDirectory, key + ".flv");
        if (File.Exists(path))
        {
            return path;
        }

        var temp = Path.Combine(FixtureDirectory, $"{key}.{Guid.NewGuid():N}.flv");
        var args = new List<string> { "-v", "error", "-y" };
        var (size, rate, gop) = variant switch
        {
            "30g50" => ("320x240", 30, 50),
            "crop" => ("318x178", 25, 25),
            _ => ("320x240", 25, 25),
        };
        if (variant != "none")
        {
            args.AddRange(["-f", "lavfi", "-i", $"testsrc2=size={size}:rate={rate}"]);
        }

        args.AddRange(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", seconds.ToString()]);
        if (variant != "none")
        {
            args.AddRange(["-c:v", "libx264", "-bf", "2", "-g", gop.ToString(), "-preset", "ultrafast"]);
        }
        else
        {
            args.Add("-vn");
        }

        args.AddRange(["-c:a", "aac", "-f", "flv", temp]);
        var result = Run("ffmpeg", [.. args]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("ffmpeg failed: " + result.StdErr);
        }

        File.Move(temp, path, overwrite: true);
        return path;
    }
}
