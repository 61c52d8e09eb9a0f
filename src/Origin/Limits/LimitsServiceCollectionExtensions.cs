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

        // Always in the pipeline, so StreamVerse:Limits:RequestsPerSecondPerIp and RequestBurstPerIp change while the daemon
        // runs (dynamic configuration): the limits in force are read per request and are part of the partition key, so a
        // change starts fresh buckets; 0 is no limiter at all (one partition lookup per request).
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, RatePartition>(context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptionsMonitor<LimitsOptions>>().CurrentValue;
                // Health checks and scrapes must not be starved by a viewer sharing the scraper's address.
                if (limits.RequestsPerSecondPerIp <= 0
                    || context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/metrics"))
                {
                    return RateLimitPartition.GetNoLimiter(default(RatePartition));
                }

                var key = new RatePartition(context.Connection.RemoteIpAddress ?? IPAddress.None, limits.RequestsPerSecondPerIp, limits.EffectiveBurst);
                return RateLimitPartition.GetTokenBucketLimiter(key, k => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = k.Burst,
                    TokensPerPeriod = k.PerSecond,
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

        return services;
    }

    public static WebApplication UseLimits(this WebApplication app)
    {
        app.UseRateLimiter();
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

/// <summary>A token bucket per address and per limit in force.</summary>
internal readonly record struct RatePartition(IPAddress? Address, int PerSecond, int Burst);
