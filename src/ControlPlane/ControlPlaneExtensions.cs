using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Captions;
using StreamVerse.ControlPlane.Categories;
using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Images;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Operations;
using StreamVerse.ControlPlane.Mail;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Reactions;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.StreamKeys;
using StreamVerse.ControlPlane.Subscriptions;
using StreamVerse.ControlPlane.Tags;
using StreamVerse.ControlPlane.Uploads;
using StreamVerse.ControlPlane.Users;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane;

/// <summary>The control plane's composition: the Origin calls <see cref="AddControlPlane"/>, <see cref="UseControlPlane"/> and <see cref="MapControlPlane"/>.</summary>
internal static class ControlPlaneExtensions
{
    public const string ApiPrefix = "/api/v1";

    public static IServiceCollection AddControlPlane(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ControlPlaneOptions>()
            .Bind(configuration.GetSection(ControlPlaneOptions.Section))
            .Configure(o => o.DataPath = configuration["StreamVerse:Data"] ?? o.DataPath)
            .Configure(o => o.DeletedVideoRetention =
                (configuration.GetValue<TimeSpan?>("StreamVerse:Segmenter:RecordingRetention") ?? ControlPlaneOptions.RecordingRetentionDefault) + TimeSpan.FromDays(1))
            .ValidateDataAnnotations()
            .Validate(o => o.LoginFailureWindow > TimeSpan.Zero, "StreamVerse:ControlPlane:LoginFailureWindow must be positive")
            .Validate(o => o.RegistrationWindow >= TimeSpan.FromSeconds(1) && o.RegistrationWindow <= TimeSpan.FromDays(7),
                "StreamVerse:ControlPlane:RegistrationWindow must be between 00:00:01 and 7.00:00:00")
            .Validate(o => string.IsNullOrWhiteSpace(o.BootstrapAdminEmail) || EmailAddress.Normalise(o.BootstrapAdminEmail, out _) is not null,
                "StreamVerse:ControlPlane:BootstrapAdminEmail must be an e-mail address (local-part@domain, at most 254 characters)")
            .Validate(o => o.CacheRefreshInterval >= TimeSpan.FromMilliseconds(100), "StreamVerse:ControlPlane:CacheRefreshInterval must be at least 00:00:00.1")
            .Validate(o => o.VodCatalogTtl >= TimeSpan.Zero && o.VodCatalogTtl <= TimeSpan.FromMinutes(5), "StreamVerse:ControlPlane:VodCatalogTtl must be between 00:00:00 and 00:05:00")
            .ValidateOnStart();
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.Section))
            .Validate(o => o.IsKnownProvider, "StreamVerse:ControlPlane:Database:Provider must be sqlite or postgres")
            .Validate(o => o.Kind != DatabaseProvider.Postgres || !string.IsNullOrEmpty(o.ConnectionString),
                "StreamVerse:ControlPlane:Database:ConnectionString is required when Provider is postgres")
            .ValidateOnStart();
        services.AddOptions<JwtOptions>()
            .Bind(configuration.GetSection(JwtOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.AccessTokenLifetime >= TimeSpan.FromSeconds(10) && o.AccessTokenLifetime <= TimeSpan.FromHours(1),
                "StreamVerse:ControlPlane:Jwt:AccessTokenLifetime must be between 00:00:10 and 01:00:00")
            .Validate(o => o.SessionLifetime > o.AccessTokenLifetime, "StreamVerse:ControlPlane:Jwt:SessionLifetime must exceed AccessTokenLifetime")
            .Validate(o => o.SigningKey is null || KeyMaterial.TryDecode(o.SigningKey, out _),
                "StreamVerse:ControlPlane:Jwt:SigningKey must be " + KeyMaterial.Format)
            .ValidateOnStart();
        services.AddOptions<PlaybackOptions>()
            .Bind(configuration.GetSection(PlaybackOptions.Section))
            .Validate(o => o.TokenLifetime >= TimeSpan.FromSeconds(10), "StreamVerse:ControlPlane:Playback:TokenLifetime must be at least 00:00:10")
            .Validate(o => o.MaxTokenLifetime >= o.TokenLifetime && o.MaxTokenLifetime <= TimeSpan.FromDays(7),
                "StreamVerse:ControlPlane:Playback:MaxTokenLifetime must be between TokenLifetime and 7.00:00:00")
            .Validate(o => o.SigningKey is null || KeyMaterial.TryDecode(o.SigningKey, out _),
                "StreamVerse:ControlPlane:Playback:SigningKey must be " + KeyMaterial.Format)
            .ValidateOnStart();

        services.AddOptions<UploadOptions>()
            .Bind(configuration.GetSection(UploadOptions.Section))
            .Validate(o => o.MaxSize >= 1, "StreamVerse:ControlPlane:Uploads:MaxSize must be at least 1")
            .Validate(o => o.MaxSinglePutBytes >= 1, "StreamVerse:ControlPlane:Uploads:MaxSinglePutBytes must be at least 1")
            .Validate(o => o.Expiry >= TimeSpan.FromSeconds(1), "StreamVerse:ControlPlane:Uploads:Expiry must be at least 00:00:01")
            .Validate(o => o.CleanupInterval >= TimeSpan.FromMilliseconds(100), "StreamVerse:ControlPlane:Uploads:CleanupInterval must be at least 00:00:00.1")
            .Validate(o => o.LockTimeout >= TimeSpan.Zero, "StreamVerse:ControlPlane:Uploads:LockTimeout must not be negative")
            .Validate(o => o.MaxConcurrentPerAccount >= 0, "StreamVerse:ControlPlane:Uploads:MaxConcurrentPerAccount must not be negative")
            .Validate(o => o.MaxBytesPerDay >= 0, "StreamVerse:ControlPlane:Uploads:MaxBytesPerDay must not be negative")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Database>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<RegistrationThrottle>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<SessionRevocations>();
        services.AddSingleton<Sessions>();
        services.AddSingleton<RoleStore>();
        services.AddBlobStorage(configuration);
        services.AddChannels(configuration);
        services.AddImages(configuration);
        services.AddSingleton<ProtectedVideos>();
        services.AddSingleton<PlaybackRevocations>();
        services.AddSingleton<EdgeInvalidations>();
        services.AddSingleton<PlaybackTokens>();
        services.AddSingleton<OwnerThumbnails>();
        services.AddSingleton<VideoMedia>();
        services.AddSingleton<PlaybackGate>();
        services.AddSingleton<VodCatalog>();
        services.AddCaptions(configuration);
        services.AddStreamKeys();
        services.AddHostedService<ControlPlaneCacheRefresher>();

        // After the refresher: it applies the migrations in its StartAsync, and hosted services start in order.
        services.AddSingleton<UploadStore>();
        services.AddHostedService<UploadCleaner>();
        services.AddScheduledPublishing(configuration);

        // The transcode queue; the host provides IVideoTranscoder (the Origin: over MediaCore). Registered after
        // the refresher, whose start applies the migrations the worker needs.
        services.AddOptions<JobOptions>().Bind(configuration.GetSection(JobOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<JobOptions>, JobOptionsValidator>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<LocalJobs>();
        services.AddSingleton<VideoJobQueue>();
        services.AddSingleton<IVideoJobQueue>(sp => sp.GetRequiredService<VideoJobQueue>());
        services.AddHostedService<JobWorker>();
        services.AddEvents(configuration).AddSubscriptions(configuration).AddReactions(configuration); // after the refresher (migrations)
        Comments.CommentServices.AddComments(services, configuration);
        services.AddMail(configuration);
        Discovery.DiscoveryServices.AddDiscovery(services, configuration);
        Notifications.NotificationServices.AddNotifications(services, configuration);
        Chat.ChatServices.AddChat(Realtime.RealtimeServices.AddRealtime(services, configuration), configuration);
        Cluster.ClusterServices.AddCluster(services, configuration);
        Moderation.ModerationServices.AddModeration(services, configuration);
        Ads.AdServices.AddAds(services, configuration);
        Payments.PaymentServices.AddPayments(services, configuration);
        Analytics.AnalyticsServices.AddAnalytics(services, configuration);

        // Requests carry only what a caller may set: unknown and server-owned fields are refused by name
        // (RequestBodyErrors), never dropped in silence.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ControlPlaneJsonContext.Default);
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        });
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<RequestBodyErrors>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuthorizationProblems>();
        services.AddProblemDetails();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<AccessTokens, SessionRevocations, RoleStore>((o, tokens, revoked, roles) =>
            {
                o.MapInboundClaims = false;
                o.IncludeErrorDetails = false;
                o.TokenValidationParameters = tokens.ValidationParameters();
                o.Events = new JwtBearerEvents
                {
                    // RFC 9700 / our sessions: a token outlives nothing that ended its session.
                    OnTokenValidated = async context =>
                    {
                        var sid = context.Principal?.FindFirst(ClaimNames.Session)?.Value;
                        if (sid is null || revoked.IsRevoked(sid))
                        {
                            context.Fail("session revoked");
                            return;
                        }

                        // Admin rights are what the database says now, not what the token said when it was issued
                        // (RoleStore): a demoted admin's token must not reach an admin endpoint, nor pass as an
                        // admin in an owner-or-admin check, in any process.
                        if (context.Principal!.FindFirst(ClaimNames.Role)?.Value == Roles.Admin
                            && !await roles.IsAdminAsync(context.Principal.FindFirst(ClaimNames.Subject)?.Value ?? "", context.HttpContext.RequestAborted).ConfigureAwait(false))
                        {
                            context.Fail("no longer an admin");
                        }
                    },
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.User, p => p.RequireAuthenticatedUser().RequireClaim(ClaimNames.Session))
            .AddPolicy(Policies.Creator, p => p.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.Creator, Roles.Admin))
            .AddPolicy(Policies.Moderator, p => p.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.Moderator, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.Admin));

        services.AddOpenApi("v1", o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new() { Title = "StreamVerse control plane", Version = "v1" };
                document.Components ??= new();
                document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme
                {
                    Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "Access token from POST /api/v1/auth/login or /refresh (RFC 9068 at+jwt, HS256).",
                };
                return Task.CompletedTask;
            });

            // Endpoints with a policy: the bearer requirement, and the 401/403 problem answers the pipeline gives.
            o.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new Microsoft.OpenApi.OpenApiSecurityRequirement
                    {
                        [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("bearer", context.Document)] = [],
                    });
                    operation.Responses ??= new();
                    operation.Responses.TryAdd("401", new Microsoft.OpenApi.OpenApiResponse { Description = "No valid access token" });
                    operation.Responses.TryAdd("403", new Microsoft.OpenApi.OpenApiResponse { Description = "The token's role or the resource's owner does not allow this" });
                }

                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>Problem details for bare status codes (401/403/404 from auth and routing), then authentication and authorization.</summary>
    public static WebApplication UseControlPlane(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    internal static bool IsAllowedOrigin(string[] allowed, string origin)
    {
        foreach (var candidate in allowed)
        {
            if (string.Equals(candidate.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static IEndpointRouteBuilder MapControlPlane(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptionsMonitor<ControlPlaneOptions>>();
        var api = endpoints.MapGroup(ApiPrefix).RequireCors(policy =>
        {
            // Bearer tokens, no cookies: no credentials mode, so no CSRF surface.
            // HEAD and the tus headers: browser tus clients (tus-js-client, Uppy) read offsets and the Location.
            // The allowed origins are read per request, so StreamVerse:ControlPlane:CorsOrigins changes live (dynamic
            // configuration); compared as WithOrigins does (scheme://host[:port], case-insensitive, no trailing slash).
            policy.SetIsOriginAllowed(origin => IsAllowedOrigin(options.CurrentValue.CorsOrigins, origin))
                .WithMethods("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
                .WithHeaders(["Authorization", "Content-Type", .. TusProtocol.RequestHeaders])
                .WithExposedHeaders(["Location", "Retry-After", .. TusProtocol.ResponseHeaders])
                .SetPreflightMaxAge(TimeSpan.FromHours(1));
        }).RefuseUnknownQueryParameters();
        api.MapAuth();
        api.MapAccountMail();
        api.MapMe();
        api.MapUsers();
        api.MapCategories();
        api.MapChannels();
        api.MapVideos();
        api.MapCaptions();
        api.MapTags();
        api.MapStreamKeys();
        api.MapPlayback();
        api.MapUploads();
        api.MapJobs();
        api.MapOperations();
        api.MapSubscriptions().MapReactions();
        Comments.CommentEndpoints.MapComments(api);
        Discovery.DiscoveryServices.MapDiscovery(api);
        Notifications.NotificationEndpoints.MapNotifications(api);
        Chat.ChatEndpoints.MapChat(api);
        Realtime.RealtimeServices.MapRealtime(endpoints);
        Moderation.ModerationEndpoints.MapModeration(api);
        Ads.AdEndpoints.MapAds(api);
        Payments.PaymentServices.MapPayments(api);
        Analytics.AnalyticsEndpoints.MapAnalytics(api);
        endpoints.MapEdgeInvalidations();

        endpoints.MapOpenApi("/openapi/{documentName}.json");
        endpoints.MapScalarApiReference("/docs", o => o.WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        return endpoints;
    }
}
