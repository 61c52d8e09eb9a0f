using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Limits;

internal static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LimitsOptions>()
            .Bind(configuration.GetSection(LimitsOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IDeliveryTierSelector, ViewerTierSelector>();
        services.AddSingleton<DeliveryLimits>();

        var limits = configuration.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new LimitsOptions();
        if (limits.RequestsPerSecondPerIp > 0)
        {
            services.AddRateLimiter(o =>
            {
                o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                {
                    var ip = context.Connection.RemoteIpAddress ?? IPAddress.None;
                    // Health checks and scrapes must not be starved by a viewer sharing the scraper's address.
                    if (context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/metrics"))
                    {
                        return RateLimitPartition.GetNoLimiter(IPAddress.None);
                    }

                    return RateLimitPartition.GetTokenBucketLimiter(ip, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limits.EffectiveBurst,
                        TokensPerPeriod = limits.RequestsPerSecondPerIp,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
                });
                o.OnRejected = async (rejected, ct) =>
                {
                    var context = rejected.HttpContext;
                    var retry = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after)
                        ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds))
                        : 1;
                    context.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
                    context.Response.Headers.CacheControl = "no-store";
                    LimitsMetrics.Rejected();
                    await TypedResults.Problem(
                        detail: "too many requests from this address; retry after the given seconds",
                        statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context).ConfigureAwait(false);
                };
            });
        }

        return services;
    }

    public static WebApplication UseLimits(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.RequestsPerSecondPerIp > 0)
        {
            app.UseRateLimiter();
        }

        return app;
    }

    /// <summary>Applies the connection limits and timeouts to Kestrel.</summary>
    public static void Apply(KestrelServerLimits kestrel, LimitsOptions limits)
    {
        kestrel.MaxConcurrentConnections = limits.MaxConnections > 0 ? limits.MaxConnections : null;
        var upgraded = limits.MaxUpgradedConnections ?? limits.MaxConnections;
        kestrel.MaxConcurrentUpgradedConnections = upgraded > 0 ? upgraded : null;
        kestrel.KeepAliveTimeout = TimeSpan.FromSeconds(limits.KeepAliveTimeoutSeconds);
        kestrel.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersTimeoutSeconds);
    }
}
