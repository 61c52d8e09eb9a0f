namespace StreamVerse.Origin.Web;

/// <summary><c>StreamVerse:Web</c>: the web app (src/Web's static export) served at <c>/</c>.</summary>
internal sealed class WebAppOptions
{
    public const string Section = "StreamVerse:Web";

    /// <summary>
    /// The export's directory (<c>src/Web/out</c> after <c>npm run build</c>). Empty: <c>web/</c> next to the binary,
    /// else the nearest <c>src/Web/out</c> above it (a checkout's build). A directory that does not exist is not an
    /// error: the daemon serves the API and media without the app and says so once.
    /// </summary>
    public string? Root { get; set; }

    /// <summary>The directory to serve, or null when there is none.</summary>
    public string? Resolve()
    {
        if (!string.IsNullOrEmpty(Root))
        {
            return Path.GetFullPath(Root);
        }

        var beside = Path.Combine(AppContext.BaseDirectory, "web");
        if (Directory.Exists(beside))
        {
            return beside;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var export = Path.Combine(dir.FullName, "src", "Web", "out");
            if (Directory.Exists(export))
            {
                return export;
            }
        }

        return null;
    }
}
