using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace StreamVerse.Origin.Web;

/// <summary>
/// The web app's static export (src/Web), indexed once at start and served at <c>/</c> for the GET and HEAD requests
/// no endpoint matched: the API, media, <c>/healthz</c>, <c>/metrics</c> and the rest keep their own routes, and an
/// unknown path under one of their prefixes stays a plain 404 rather than a page. Only files found at start are
/// served (no path from a request ever reaches the file system). Routing of the app's own paths:
/// <list type="bullet">
/// <item><c>/</c> is <c>index.html</c>, <c>/watch</c> is <c>watch.html</c> (Next's export without trailing slashes);</item>
/// <item>an unknown path falls back to the longest route it starts with (<c>/watch/ID</c> to <c>/watch</c>), else
/// <c>404.html</c> with status 404.</item>
/// </list>
/// Caching: <c>/_next/static/</c> holds content-hashed names, immutable for a year; everything else (HTML, the RSC
/// <c>.txt</c> payloads that client navigation fetches) changes with each build and is <c>no-cache</c> (revalidated
/// by ETag). Security: each HTML page gets a Content-Security-Policy whose <c>script-src</c> allows only our own
/// files and the SHA-256 of the inline scripts the build emitted (<c>csp-hashes.json</c>, written by
/// scripts/csp-hashes.mjs), so an injected inline script does not run; pages cannot be framed (CSP
/// <c>frame-ancestors 'none'</c>, <c>X-Frame-Options: DENY</c>) except the embed page.
/// </summary>
internal sealed partial class WebApp
{
    /// <summary>Path prefixes the app never answers: their own endpoints do, or nothing does (a 404, not a page).</summary>
    private static readonly string[] Reserved = ["/api", "/live", "/vod", "/internal", "/healthz", "/metrics", "/time", "/openapi", "/docs"];

    /// <summary>Pages other sites may frame: the player embed, once it exists.</summary>
    private static readonly string[] Embeddable = ["/embed"];

    private const string ImmutableCache = "public, max-age=31536000, immutable";

    private readonly FrozenDictionary<string, WebFile> _files;
    private readonly WebFile? _notFound;

    private WebApp(FrozenDictionary<string, WebFile> files)
    {
        _files = files;
        _notFound = files.GetValueOrDefault("/404");
    }

    public int Count => _files.Count;

    /// <summary>Indexes <paramref name="root"/>; null when it does not exist or has no <c>index.html</c>.</summary>
    public static WebApp? Load(string root, ILogger log)
    {
        if (!File.Exists(Path.Combine(root, "index.html")))
        {
            return null;
        }

        var hashes = ReadHashes(root, log);
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".txt"] = "text/x-component";
        var files = new Dictionary<string, WebFile>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative == "csp-hashes.json" || relative.StartsWith('.'))
            {
                // The CSP's input and setup.sh's build stamp: not part of the site.
                continue;
            }

            var info = new FileInfo(path);
            var etag = new EntityTagHeaderValue("\"" + info.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "-" +
                info.LastWriteTimeUtc.Ticks.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\"");
            var contentType = types.TryGetContentType(path, out var t) ? t : "application/octet-stream";
            if (relative.EndsWith(".html", StringComparison.Ordinal))
            {
                var route = "/" + relative[..^".html".Length];
                route = route == "/index" ? "/" : route.EndsWith("/index", StringComparison.Ordinal) ? route[..^"/index".Length] : route;
                var csp = ContentSecurityPolicy(hashes.GetValueOrDefault(relative, []), Embeddable.Any(e => Under(route, e)));
                files[route] = new WebFile(path, "text/html; charset=utf-8", etag, info.LastWriteTimeUtc, "no-cache", csp, Framable: csp.Contains("frame-ancestors *", StringComparison.Ordinal));
            }
            else
            {
                var immutable = relative.StartsWith("_next/static/", StringComparison.Ordinal);
                files["/" + relative] = new WebFile(path, contentType, etag, info.LastWriteTimeUtc, immutable ? ImmutableCache : "no-cache", null, false);
            }
        }

        return new WebApp(files.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>The CSP of one page: nothing inline but the build's own scripts, by hash.</summary>
    internal static string ContentSecurityPolicy(IEnumerable<string> scriptHashes, bool embeddable)
    {
        var sb = new StringBuilder("default-src 'self'; script-src 'self'");
        foreach (var h in scriptHashes)
        {
            sb.Append(" '").Append(h).Append('\'');
        }

        // Styles: Tailwind is one file; 'unsafe-inline' covers the style attributes React writes (the storyboard
        // thumbnail's position). Styles cannot run script. hls.js runs its transmuxer in a blob: worker and plays
        // through MediaSource (blob: media).
        sb.Append("; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; ")
            .Append("worker-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors ")
            .Append(embeddable ? "*" : "'none'");
        return sb.ToString();
    }

    private static Dictionary<string, string[]> ReadHashes(string root, ILogger log)
    {
        var file = Path.Combine(root, "csp-hashes.json");
        try
        {
            using var stream = File.OpenRead(file);
            return JsonSerializer.Deserialize(stream, WebJsonContext.Default.DictionaryStringStringArray) ?? [];
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            // Without the hashes the pages' inline scripts are blocked (the app does not start): say why.
            Log.NoScriptHashes(log, file, e.Message);
            return [];
        }
    }

    private static bool Under(string path, string prefix) =>
        path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && (path.Length == prefix.Length || path[prefix.Length] == '/');

    /// <summary>The file for a request path: exact, else the longest app route it starts with, else null.</summary>
    internal WebFile? Find(string path, out bool notFound)
    {
        notFound = false;
        if (Reserved.Any(r => Under(path, r)))
        {
            return null;
        }

        if (_files.TryGetValue(path, out var file) || (path.Length > 1 && path.EndsWith('/') && _files.TryGetValue(path.TrimEnd('/'), out file)))
        {
            return file;
        }

        // Routes only (cut > 1): the root is no route to fall back to, or "//anything" would be the home page with a 200.
        for (var cut = path.LastIndexOf('/'); cut > 1; cut = path.LastIndexOf('/', cut - 1))
        {
            if (_files.TryGetValue(path[..cut], out file) && file.ContentType.StartsWith("text/html", StringComparison.Ordinal))
            {
                return file;
            }
        }

        notFound = true;
        return _notFound;
    }

    /// <summary>The answer to a GET or HEAD no endpoint matched, or null to leave it to the rest of the pipeline.</summary>
    public IResult? Serve(HttpContext context)
    {
        var file = Find(context.Request.Path.Value ?? "/", out var notFound);
        if (file is null)
        {
            return null;
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
        headers.CacheControl = file.CacheControl;
        if (file.Csp is not null)
        {
            headers.ContentSecurityPolicy = file.Csp;
            if (!file.Framable)
            {
                headers.XFrameOptions = "DENY";
            }
        }

        if (notFound)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Results.Stream(File.OpenRead(file.PhysicalPath), file.ContentType);
        }

        return TypedResults.PhysicalFile(file.PhysicalPath, file.ContentType, lastModified: file.LastModified, entityTag: file.ETag);
    }

    internal sealed record WebFile(string PhysicalPath, string ContentType, EntityTagHeaderValue ETag, DateTimeOffset LastModified,
        string CacheControl, string? Csp, bool Framable);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5802, Level = LogLevel.Warning, Message = "Web app: cannot read {File} ({Reason}): its pages' inline scripts are blocked; rebuild src/Web (npm run build)")]
        public static partial void NoScriptHashes(ILogger logger, string file, string reason);
    }
}
