using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>Config section <c>StreamVerse:ControlPlane:Ads</c>.</summary>
internal sealed class AdOptions
{
    public const string Section = "StreamVerse:ControlPlane:Ads";

    /// <summary>
    /// Mid-roll spacing of a VOD video whose owner set no cue points: a break every this long (none at or after the
    /// end). Default 00:10:00; 00:00:00 = no mid-rolls without cue points. At least 00:00:10 otherwise.
    /// </summary>
    public TimeSpan MidRollInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The tracking and viewer-hash key (<see cref="Auth.KeyMaterial.Format"/>); unset: <c>{data}/keys/ads.key</c>, made at first start.</summary>
    public string? SigningKey { get; set; }
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class AdOptionsValidator : IValidateOptions<AdOptions>
{
    public ValidateOptionsResult Validate(string? name, AdOptions o)
    {
        if (o.MidRollInterval != TimeSpan.Zero && (o.MidRollInterval < TimeSpan.FromSeconds(10) || o.MidRollInterval > TimeSpan.FromDays(1)))
        {
            return ValidateOptionsResult.Fail(AdOptions.Section + ":MidRollInterval must be 00:00:00 (none) or between 00:00:10 and 1.00:00:00");
        }

        return o.SigningKey is not null && !Auth.KeyMaterial.TryDecode(o.SigningKey, out _)
            ? ValidateOptionsResult.Fail(AdOptions.Section + ":SigningKey must be " + Auth.KeyMaterial.Format)
            : ValidateOptionsResult.Success;
    }
}

internal static class AdServices
{
    /// <summary>Ads: options, key, store, exemptions, the impression event and the JSON of its types. Endpoints: <see cref="AdEndpoints.MapAds"/>.</summary>
    public static IServiceCollection AddAds(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdOptions>().Bind(configuration.GetSection(AdOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdOptions>, AdOptionsValidator>();
        services.AddSingleton<AdSigner>();
        services.AddSingleton<AdStore>();
        services.AddSingleton<IAdExemptions, EntitledAdExemptions>();
        services.AddEvent("ads.ad-impression-recorded.v1", AdsJsonContext.Default.AdImpressionRecorded);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(AdsJsonContext.Default));
        return services;
    }
}
