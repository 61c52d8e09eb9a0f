using System.Globalization;
using System.Net;

// The "plain Kestrel endpoint" peer of bench/edge/run.sh: the smallest ASP.NET Core app that serves files' bytes from
// memory (read once at start) with a Content-Type and Content-Length, no routing table, no middleware, no metrics,
// no ETag. Whatever the StreamVerse origin loses to it is our pipeline's cost; whatever it loses to nginx is Kestrel's.
// usage: StreamVerse.PlainKestrel <127.0.0.1:port> <directory>   (serves GET /<file name> for every file in it)
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: StreamVerse.PlainKestrel <127.0.0.1:port> <directory>");
    return 2;
}

var files = Directory.EnumerateFiles(args[1]).ToDictionary(
    f => "/" + Path.GetFileName(f),
    f => (Body: File.ReadAllBytes(f), Type: f.EndsWith(".m3u8", StringComparison.Ordinal) ? "application/vnd.apple.mpegurl" : "video/mp4"),
    StringComparer.Ordinal);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPEndPoint.Parse(args[0]));
});
var app = builder.Build();
app.Run(async context =>
{
    if (!files.TryGetValue(context.Request.Path.Value ?? string.Empty, out var file))
    {
        context.Response.StatusCode = 404;
        return;
    }

    context.Response.ContentType = file.Type;
    context.Response.ContentLength = file.Body.Length;
    await context.Response.Body.WriteAsync(file.Body);
});
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"serving {files.Count} file(s) on {args[0]}"));
await app.RunAsync();
return 0;
