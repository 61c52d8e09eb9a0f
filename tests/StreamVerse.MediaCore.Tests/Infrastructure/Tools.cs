using System.Collections.Concurrent;
using StreamVerse.Tests.Shared;

namespace StreamVerse.MediaCore.Tests.Infrastructure;

/// <summary>Runs real tools (gcc, pkg-config, ffmpeg, ffprobe) and makes tiny media fixtures once per run.</summary>
internal static class Tools
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Fixtures = new();

    public static string TempRoot { get; } = Directory.CreateTempSubdirectory("sv-media-tests-").FullName;

    public static ToolResult Run(string tool, params string[] args)
    {
        var result = TestProcesses.Run(TimeSpan.FromMinutes(2), tool, args);
        return result.ExitCode == -1 && result.StdErr.StartsWith("timed out", StringComparison.Ordinal)
            ? throw new TimeoutException($"{tool} timed out")
            : result;
    }

    public static ToolResult MustRun(string tool, params string[] args)
    {
        var r = Run(tool, args);
        Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)} failed ({r.ExitCode}): {r.StdErr}");
        return r;
    }

    /// <summary>An ffmpeg-made clip, created once per test run under a name; <paramref name="args"/> go between -y and the output.</summary>
    public static string Clip(string name, params string[] args) =>
        Fixtures.GetOrAdd(name, n => new Lazy<string>(() =>
        {
            var path = Path.Combine(TempRoot, n);
            MustRun("ffmpeg", ["-v", "error", "-y", .. args, path]);
            return path;
        })).Value;
}
