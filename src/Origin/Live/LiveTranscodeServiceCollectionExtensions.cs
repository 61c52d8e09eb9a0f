namespace StreamVerse.Origin.Live;

internal static class LiveTranscodeServiceCollectionExtensions
{
    /// <summary>Binds and validates <c>StreamVerse:Live:Transcode</c> at start (a bad key stops the daemon, naming it).</summary>
    public static IServiceCollection AddLiveTranscode(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LiveTranscodeOptions>()
            .Bind(configuration.GetSection(LiveTranscodeOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return services;
    }
}
