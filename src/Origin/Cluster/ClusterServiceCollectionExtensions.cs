using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Cluster;
using StreamVerse.ControlPlane.Realtime;
using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Cluster;

internal static class ClusterServiceCollectionExtensions
{
    /// <summary>
    /// The stream directory (<c>StreamVerse:Cluster:*</c>), inert without Redis. An origin registers its live streams and
    /// relays the ones other origins hold; an edge, which runs no control plane, gets the shared Redis connection here and
    /// reads the directory for live paths.
    /// </summary>
    public static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration, bool edge)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();
        services.AddSingleton<StreamDirectory>();
        if (edge)
        {
            services.AddOptions<RedisOptions>().Bind(configuration.GetSection(RedisOptions.Section)).ValidateOnStart();
            services.AddSingleton<IValidateOptions<RedisOptions>, RealtimeOptionsValidator>();
            services.TryAddSingleton<ClusterRedis>();
            return services;
        }

        // Relays use the edge's client and its StreamVerse:Edge timeouts and size cap (no upstream: each names its owner).
        services.AddOptions<EdgeOptions>().Bind(configuration.GetSection(EdgeOptions.Section));
        services.TryAddSingleton<UpstreamClient>();
        services.AddSingleton<ClusterLiveProxy>();
        services.AddHostedService<StreamLeaseKeeper>();
        return services;
    }
}
