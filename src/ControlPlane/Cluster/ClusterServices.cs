namespace StreamVerse.ControlPlane.Cluster;

/// <summary>
/// What daemons sharing PostgreSQL and Redis agree on through Redis: the one shared connection (<see cref="ClusterRedis"/>,
/// configured by <c>StreamVerse:ControlPlane:Redis:*</c>, validated by the Realtime feature that owns that section) and the
/// revocations pushed at once (<see cref="RevocationFeed"/>). Without Redis both are inert and a daemon behaves as alone.
/// Logging event ids 7000-7099.
/// </summary>
internal static class ClusterServices
{
    public static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration)
    {
        _ = configuration;
        services.AddSingleton<ClusterRedis>();
        services.AddHostedService<RevocationFeed>();
        return services;
    }
}
