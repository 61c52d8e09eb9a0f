using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace StreamVerse.Origin.Rtmp;

public static class RtmpServiceCollectionExtensions
{
    /// <summary>
    /// Registers the RTMP ingest: <see cref="RtmpOptions"/> (section <c>StreamVerse:Rtmp</c>, validated at start),
    /// the configuration-backed <see cref="IStreamKeyResolver"/> (section <c>StreamVerse:Streams</c>), metrics,
    /// and a discarding <see cref="ILivePublishTarget"/>. Resolver and target are added with TryAdd, so
    /// registrations made before or after this call (TryAdd skips, a later Add wins) replace them.
    /// Listen with <c>listenOptions.UseConnectionHandler&lt;RtmpConnectionHandler&gt;()</c>.
    /// </summary>
    public static IServiceCollection AddRtmp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<RtmpOptions>()
            .Bind(configuration.GetSection(RtmpOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStreamKeyResolver>(sp => new ConfigurationStreamKeyResolver(
            configuration, sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<RtmpOptions>>()));
        services.TryAddSingleton<ILivePublishTarget, DiscardingLivePublishTarget>();
        services.TryAddSingleton(_ => new RtmpMetrics(Metrics.DefaultFactory));
        services.TryAddSingleton<RtmpConnectionHandler>();
        return services;
    }
}
