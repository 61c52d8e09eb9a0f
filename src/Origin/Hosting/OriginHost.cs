using Microsoft.AspNetCore.HttpOverrides;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;
using StreamVerse.ControlPlane;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.MediaCore;
using StreamVerse.Origin.Audience;
using StreamVerse.Origin.Configuration;
using StreamVerse.Origin.Logging;
using Microsoft.Extensions.Logging.Console;
using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Cluster;
using StreamVerse.Origin.Http.FastLane;
using StreamVerse.Origin.Limits;
using StreamVerse.Origin.Live;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Srt;
using StreamVerse.Origin.Vod;
using StreamVerse.Origin.Web;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Hosting;

/// <summary>Composes the daemon: Kestrel endpoints, the media path, the control plane, metrics and health.</summary>
internal static partial class OriginHost
{
    public const string LogFormatKey = "StreamVerse:LogFormat";

    /// <param name="args">The daemon's command line.</param>
    /// <param name="configureServices">Runs after every registration, before the container is built: the seam tests use to swap a
    /// collaborator (for example a recording <c>IVideoJobQueue</c>). The executable passes none.</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // Flags are mapped below; keep ASP.NET's own command-line provider out of the way.
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Layers, last wins: appsettings.json, the environment, the dynamic layer (the --config file under etcd's keys,
        // both watched), the flags. The dynamic layer's settings come from the layers below it and the flags.
        var flags = CommandLine.Parse(args);
        var dynamicSettings = DynamicConfigurationSettings.Read(key => flags.TryGetValue(key, out var value) ? value : builder.Configuration[key]);
        var dynamicSource = dynamicSettings.Any ? new DynamicConfigurationSource(dynamicSettings) : null;
        if (dynamicSource is not null)
        {
            ((IConfigurationBuilder)builder.Configuration).Add(dynamicSource);
        }

        ((IConfigurationBuilder)builder.Configuration).Add(new FlagsConfigurationSource(flags));

        builder.Host.UseSystemd();
        // Every log line carries the trace of the request or job it belongs to (W3C trace id), and the scopes ASP.NET and
        // the daemon open (request id and path, RTMP connection, transcode job and video).
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        switch (builder.Configuration[LogFormatKey])
        {
            case null or "" or "text":
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    o.UseUtcTimestamp = true;
                });
                builder.Logging.AddConsoleFormatter<TextRedactingConsoleFormatter, ConsoleFormatterOptions>();
                builder.Logging.AddConsole(o => o.FormatterName = TextRedactingConsoleFormatter.FormatterName);
                break;
            case "json":
                // One JSON object per line: Timestamp, EventId, LogLevel, Category, Message, State (the message's
                // named values) and Scopes (RequestId, TraceId, SpanId, VideoId, ...), for a log shipper (deploy/logging).
                builder.Logging.AddJsonConsole(o =>
                {
                    o.IncludeScopes = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    o.UseUtcTimestamp = true;
                    o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
                });
                builder.Logging.AddConsoleFormatter<JsonRedactingConsoleFormatter, ConsoleFormatterOptions>();
                builder.Logging.AddConsole(o => o.FormatterName = JsonRedactingConsoleFormatter.FormatterName);
                break;
            default:
                throw new OptionsValidationException(LogFormatKey, typeof(OriginOptions),
                    [$"{LogFormatKey} (--log-format) must be text or json, not '{builder.Configuration[LogFormatKey]}'"]);
        }

        builder.Services.AddOptions<OriginOptions>()
            .Bind(builder.Configuration.GetSection(OriginOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var origin = builder.Configuration.GetSection(OriginOptions.Section).Get<OriginOptions>() ?? new OriginOptions();
        // Edge mode (--upstream): a pull-through cache of another daemon; no ingest, no segmenter.
        var edge = !string.IsNullOrEmpty(builder.Configuration[EdgeOptions.UpstreamKey]);
        var httpEndPoint = OriginOptions.ParseEndPoint(origin.Http, "StreamVerse:Http");
        var rtmpEndPoint = edge ? null : OriginOptions.ParseEndPoint(origin.Rtmp, "StreamVerse:Rtmp");
        var httpsEndPoint = string.IsNullOrEmpty(origin.Https) ? null : OriginOptions.ParseEndPoint(origin.Https, "StreamVerse:Https");
        var rtmpsEndPoint = edge || string.IsNullOrEmpty(origin.Rtmps) ? null : OriginOptions.ParseEndPoint(origin.Rtmps, "StreamVerse:Rtmps");
        var certificate = httpsEndPoint is null && rtmpsEndPoint is null ? null : LoadCertificate(origin);
        const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (origin.InlineSocketCompletions && Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            // One thread-pool hop less per socket read and write; must be set before the first socket is used.
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        var dataPath = Path.GetFullPath(origin.Data);
        Directory.CreateDirectory(dataPath);

        // The recordings of live streams live under --data unless an operator points them elsewhere.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [SegmenterOptions.Section + ":" + nameof(SegmenterOptions.RecordingsPath)] =
                builder.Configuration[SegmenterOptions.Section + ":" + nameof(SegmenterOptions.RecordingsPath)]
                ?? Path.Combine(dataPath, "live"),
        });

        var limits = builder.Configuration.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new LimitsOptions();
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = origin.InlineScheduling);
        builder.Services.AddSingleton<EpollFrontOffers>();
        if (Libc.Supported && builder.Configuration.GetValue<int?>(DeliveryOptions.Section + ":" + nameof(DeliveryOptions.EventLoops)) is not 0)
        {
            // Kestrel's socket transport, with the fast lane's endpoint on event loops of its own.
            builder.Services.RemoveAll<IConnectionListenerFactory>();
            builder.Services.AddSingleton<IConnectionListenerFactory, EpollFrontTransport>();
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            LimitsServiceCollectionExtensions.Apply(kestrel.Limits, limits);
            // Cleartext: HTTP/1.1 (Kestrel negotiates HTTP/2 only through TLS ALPN, see Https).
            kestrel.Listen(httpEndPoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseFastLane(edge);
            });
            if (rtmpEndPoint is not null)
            {
                kestrel.Listen(rtmpEndPoint, listen =>
                {
                    if (origin.InlineScheduling)
                    {
                        // Demuxing and packaging a publisher's media run on the pool, never in the way of other I/O.
                        listen.Use(ThreadPoolInput.Middleware);
                    }

                    listen.UseConnectionHandler<RtmpConnectionHandler>();
                });
            }

            if (rtmpsEndPoint is not null)
            {
                kestrel.Listen(rtmpsEndPoint, listen =>
                {
                    if (origin.InlineScheduling)
                    {
                        // Outside TLS, as for HTTPS: decryption and the session both run on the pool.
                        listen.Use(ThreadPoolInput.Middleware);
                    }

                    // The same RTMP sessions inside TLS; the handshake is bounded by Kestrel's TLS handshake timeout.
                    listen.UseHttps(certificate!);
                    listen.UseConnectionHandler<RtmpConnectionHandler>();
                });
            }

            if (httpsEndPoint is not null)
            {
                kestrel.Listen(httpsEndPoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    if (origin.InlineScheduling)
                    {
                        // Outside TLS: decryption, HTTP/2 framing and the pipeline all run on the pool.
                        listen.Use(ThreadPoolInput.Middleware);
                    }

                    listen.UseHttps(certificate!);
                });
            }
        });

        builder.Services.AddLimits(builder.Configuration);
        builder.Services.AddLiveDelivery(builder.Configuration);
        builder.Services.AddCluster(builder.Configuration, edge);
        builder.Services.AddAudience();
        if (edge)
        {
            // An edge caches what the origin serves; ingest and the control plane live at the origin.
            builder.Services.AddEdge(builder.Configuration, dataPath);
        }
        else
        {
            builder.Services.AddSegmenter(builder.Configuration);
            builder.Services.AddControlPlane(builder.Configuration);

            // The media path meets the control plane through narrow interfaces: publish keys, the end of a publish,
            // running publishes (ended on revocation, their health), the playback check, the VOD catalog and the live
            // media time (chat).
            builder.Services.AddLiveTranscode(builder.Configuration);
            builder.Services.AddSingleton<ILivePublishTarget, ControlPlanePublishTarget>();
            builder.Services.AddSingleton(sp => new ConfigurationStreamKeyResolver(
                builder.Configuration, sp.GetRequiredService<IOptionsMonitor<RtmpOptions>>()));
            builder.Services.AddSingleton<IStreamKeyResolver, CompositeStreamKeyResolver>();
            builder.Services.AddSingleton<ControlPlaneLivePublishers>();
            builder.Services.AddSingleton<StreamVerse.ControlPlane.StreamKeys.ILivePublishers>(sp => sp.GetRequiredService<ControlPlaneLivePublishers>());
            builder.Services.AddSingleton<StreamVerse.ControlPlane.StreamKeys.ILiveHealth>(sp => sp.GetRequiredService<ControlPlaneLivePublishers>());
            builder.Services.AddSingleton<IPlaybackAuthorizer, ControlPlanePlaybackAuthorizer>();
            builder.Services.AddSingleton<IVodCatalog, ControlPlaneVodCatalog>();
            builder.Services.AddSingleton<StreamVerse.ControlPlane.Chat.ILiveMediaClock, SegmenterLiveMediaClock>();
            builder.Services.AddVodDelivery();
            builder.Services.AddRtmp(builder.Configuration);
            builder.Services.AddSrt(builder.Configuration);

            // Uploaded videos: the control plane's job queue transcodes through MediaCore.
            builder.Services.AddMediaCore();
            builder.Services.AddSingleton<IVideoTranscoder, MediaCoreVideoTranscoder>();
            builder.Services.AddSingleton<StreamVerse.ControlPlane.Images.IStillImages, MediaCoreStillImages>();
            builder.Services.AddWebApp(builder.Configuration);
        }

        // Only our own metrics and the process/runtime collectors: the meter adapter would republish
        // ASP.NET's meters under names that do not follow Prometheus conventions.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true });

        configureServices?.Invoke(builder.Services);

        // Last, so it sees every options class registered above (tests' substitutes included).
        builder.Services.AddSingleton(ValidatedOptionsTypes.From(builder.Services));
        builder.Services.AddSingleton<ConfigurationGuard>();
        builder.Services.AddSingleton<StreamVerse.ControlPlane.Operations.IConfigurationView, EffectiveConfigurationView>();
        var trustedProxies = origin.ParseTrustedProxies();
        var app = builder.Build();

        // Every metric is on /metrics from the first scrape (zeros rather than absent series), so dashboards and alert
        // rules (deploy/) see a daemon before its first VOD request, 429 or configuration change.
        foreach (var holder in new[] { typeof(VodMetrics), typeof(LimitsMetrics), typeof(ConfigurationGuard) })
        {
            System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(holder.TypeHandle);
        }

        if (dynamicSource?.Provider is { } dynamicProvider)
        {
            app.Services.GetRequiredService<ConfigurationGuard>().Attach(dynamicProvider);
        }

        if (trustedProxies.Count > 0)
        {
            // First: the rate limiter, the login throttle and token checks read the client address this sets.
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
                ForwardLimit = null,
            };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in trustedProxies)
            {
                forwarded.KnownIPNetworks.Add(network);
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.UseLimits();

        // Before routing and everything else that reads a path: a playback path in any spelling but the canonical one is
        // refused here, so routing (case-insensitive), the handlers, the edge's cache and the token rules never disagree
        // about what it is (PlaybackPath).
        app.UsePlaybackPaths();
        app.UseDeliveryObservations();
        if (!edge)
        {
            // Before routing, so the playlists it answers skip route matching too; CORS (which needs the matched
            // endpoint for the API's policy) and everything else follow routing as before.
            app.UseLivePlaylistFastPath();
        }

        app.UseRouting();

        app.UseLiveDelivery();
        if (!edge)
        {
            app.UseControlPlane();
        }

        app.MapGet("/healthz", () => TypedResults.Text("ok"));
        app.MapMetrics("/metrics");
        if (edge)
        {
            app.MapEdge();
        }
        else
        {
            app.MapLiveDelivery();
            app.MapVodDelivery();
            app.MapControlPlane();

            // After routing, before the endpoints run: the web app answers the GET/HEAD requests no endpoint matched.
            app.UseWebApp();
        }

        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("StreamVerse.Origin");
        app.Lifetime.ApplicationStarted.Register(() => Log.Listening(log, httpEndPoint.ToString(), httpsEndPoint?.ToString() ?? "off", rtmpEndPoint?.ToString() ?? "off", rtmpsEndPoint?.ToString() ?? "off", edge ? "edge of " + builder.Configuration[EdgeOptions.UpstreamKey] : "origin", dataPath));
        return app;
    }

    private static X509Certificate2 LoadCertificate(OriginOptions origin)
    {
        if (string.IsNullOrEmpty(origin.CertificatePath) || string.IsNullOrEmpty(origin.CertificateKeyPath))
        {
            throw new OptionsValidationException("StreamVerse:CertificatePath", typeof(OriginOptions),
                ["StreamVerse:Https and StreamVerse:Rtmps need StreamVerse:CertificatePath and StreamVerse:CertificateKeyPath (PEM files)"]);
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(origin.CertificatePath, origin.CertificateKeyPath);
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new OptionsValidationException("StreamVerse:CertificatePath", typeof(OriginOptions),
                [$"StreamVerse:CertificatePath/CertificateKeyPath: cannot load the certificate: {e.Message}"]);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "StreamVerse listening http={Http} https={Https} rtmp={Rtmp} rtmps={Rtmps} mode={Mode} data={Data}")]
        public static partial void Listening(ILogger logger, string http, string https, string rtmp, string rtmps, string mode, string data);
    }
}
