using Microsoft.AspNetCore.Builder;

namespace StreamVerse.Origin.Hosting;

internal static class OriginHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        return app;
    }
}
