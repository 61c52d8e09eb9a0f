using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Web;

/// <summary>Registers and maps the web app (see <see cref="WebApp"/>).</summary>
internal static partial class WebAppServices
{
    public static IServiceCollection AddWebApp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebAppOptions>().Bind(configuration.GetSection(WebAppOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebAppOptions>, WebAppOptionsValidator>();
        return services;
    }

    /// <summary>A root that is a file is a mistake worth stopping for; one that does not exist (yet) is not.</summary>
    private sealed class WebAppOptionsValidator : IValidateOptions<WebAppOptions>
    {
        public ValidateOptionsResult Validate(string? name, WebAppOptions options) =>
            !string.IsNullOrEmpty(options.Root) && File.Exists(options.Root)
                ? ValidateOptionsResult.Fail($"{WebAppOptions.Section}:Root must be a directory (the web app's export, src/Web/out), not a file: {options.Root}")
                : ValidateOptionsResult.Success;
    }

    /// <summary>
    /// Serves the app for requests no endpoint answers. Without an export the daemon still starts
    /// (API and media only) and says so once.
    /// </summary>
    public static void UseWebApp(this WebApplication app)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("StreamVerse.Origin.Web");
        var root = app.Services.GetRequiredService<IOptions<WebAppOptions>>().Value.Resolve();
        var site = root is null ? null : WebApp.Load(root, log);
        if (site is null)
        {
            Log.NoWebApp(log, root ?? "src/Web/out");
            return;
        }

        Log.Serving(log, root!, site.Count);

        // A middleware after routing rather than a fallback endpoint: a catch-all endpoint would take part in endpoint
        // selection (content-type and method policies), and would turn the 404/405/415 answers of the API's own
        // routes into pages. Here the app sees only GET and HEAD requests no endpoint matched.
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is not null || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
            {
                return next(context);
            }

            return site.Serve(context) is { } result ? result.ExecuteAsync(context) : next(context);
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5800, Level = LogLevel.Information, Message = "Web app: serving {Root} at / ({Files} files)")]
        public static partial void Serving(ILogger logger, string root, int files);

        [LoggerMessage(EventId = 5801, Level = LogLevel.Warning, Message = "Web app: no build at {Root} (no index.html): serving the API and media only; build it with `npm ci && npm run build` in src/Web or set StreamVerse:Web:Root")]
        public static partial void NoWebApp(ILogger logger, string root);
    }
}

[JsonSerializable(typeof(Dictionary<string, string[]>))]
internal sealed partial class WebJsonContext : JsonSerializerContext;
