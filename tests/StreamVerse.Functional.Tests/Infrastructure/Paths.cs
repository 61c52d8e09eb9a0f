using StreamVerse.Tests.Shared;

namespace StreamVerse.Functional.Tests.Infrastructure;

public static class Paths
{
    public static string RepoRoot => TestProcesses.RepoRoot;

    /// <summary>The daemon built by <c>dotnet build -c Release</c> (the same build the README runs).</summary>
    public static string OriginDll
    {
        get
        {
#if DEBUG
            const string Configuration = "Debug";
#else
            const string Configuration = "Release";
#endif
            var dll = Path.Combine(RepoRoot, "src", "Origin", "bin", Configuration, "net10.0", "StreamVerse.Origin.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("build the solution first", dll);
        }
    }
}
