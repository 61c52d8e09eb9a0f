using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Captions;

/// <summary>Registers the captions feature (event ids 5000-5099).</summary>
internal static class CaptionServices
{
    public static IServiceCollection AddCaptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CaptionOptions>().Bind(configuration.GetSection(CaptionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CaptionOptions>, CaptionOptionsValidator>();
        services.AddSingleton<SourceCaptions>();
        return services;
    }
}
