using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StreamVerse.Segmenter.Recording;

namespace StreamVerse.Segmenter.Live;

public static class SegmenterServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="SegmenterOptions"/> from <c>StreamVerse:Segmenter</c> (validated at start), and registers
    /// <see cref="TimeProvider.System"/> (unless one is registered), the <see cref="LiveStreamRegistry"/> and the
    /// recording retention cleaner.
    /// </summary>
    public static IServiceCollection AddSegmenter(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SegmenterOptions>()
            .Bind(configuration.GetSection(SegmenterOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<LiveOptions>()
            .Bind(configuration.GetSection(LiveOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<LiveOptions>, LiveOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LiveStreamRegistry>();
        services.AddHostedService<RecordingRetentionCleaner>();
        return services;
    }
}
