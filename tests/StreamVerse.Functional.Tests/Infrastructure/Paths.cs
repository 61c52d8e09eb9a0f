namespace StreamVerse.Functional.Tests.Infrastructure;

public static class Paths
{
    public static string RepoRoot { get; } = FindRoot();

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

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StreamVerse.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("StreamVerse.sln not found above " + AppContext.BaseDirectory);
    }
}
