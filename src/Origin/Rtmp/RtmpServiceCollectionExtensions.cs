using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace StreamVerse.Origin.Rtmp;

public static class RtmpServiceCollectionExtensions
{
    /// <summary>
    /// Registers the RTMP ingest: <see cref="RtmpOptions"/> (section <c>StreamVerse:Rtmp</c>, validated at start),
    /// the configuration-backed <see cref="IStreamKeyResolver"/> (section <c>StreamVerse:Streams</c>, added with
    /// TryAdd so the control plane's resolver replaces it) and metrics. The host registers the
    /// <see cref="ILivePublishTarget"/> that receives the media (the segmenter).
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
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<RtmpOptions>>(new StaticStreamKeyValidator(configuration));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStreamKeyResolver>(sp => new ConfigurationStreamKeyResolver(
            configuration, sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<RtmpOptions>>()));
        services.TryAddSingleton(_ => new RtmpMetrics(Metrics.DefaultFactory));
        services.TryAddSingleton<RtmpPublishers>();
        services.TryAddSingleton<PublishBackoff>();
        services.TryAddSingleton<RtmpConnectionHandler>();
        return services;
    }
}
