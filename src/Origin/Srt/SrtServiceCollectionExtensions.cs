using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Srt;

public static class SrtServiceCollectionExtensions
{
    /// <summary>
    /// Registers the SRT ingest: <see cref="SrtOptions"/> (section <c>StreamVerse:Srt</c>, validated at start) and its
    /// listener, which binds only when <c>StreamVerse:Srt:Listen</c> is set. Shares the RTMP ingest's stream keys,
    /// publish target and running-publish registry (<c>AddRtmp</c> registers those).
    /// </summary>
    public static IServiceCollection AddSrt(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SrtOptions>().Bind(configuration.GetSection(SrtOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SrtOptions>, SrtOptionsValidator>();
        services.AddSingleton<SrtIngest>();
        services.AddHostedService(sp => sp.GetRequiredService<SrtIngest>());
        return services;
    }
}
