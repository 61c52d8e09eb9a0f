using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Channels;

/// <summary>
/// Config section <c>StreamVerse:ControlPlane:Channels</c>. Every account may own channels (self-service); a plain
/// account ("user" role) owns at most <see cref="MaxPerAccount"/>. The creator role, which an admin assigns, lifts
/// that limit (a vetted account), and admins have none.
/// </summary>
internal sealed class ChannelOptions
{
    public const string Section = "StreamVerse:ControlPlane:Channels";

    /// <summary>Channels a plain account may own; 0 = only creators and admins own channels (the behaviour before self-service).</summary>
    public int MaxPerAccount { get; set; } = 3;
}

internal sealed class ChannelOptionsValidator : IValidateOptions<ChannelOptions>
{
    public ValidateOptionsResult Validate(string? name, ChannelOptions options) =>
        options.MaxPerAccount is < 0 or > 10_000
            ? ValidateOptionsResult.Fail($"{ChannelOptions.Section}:MaxPerAccount must be between 0 and 10000")
            : ValidateOptionsResult.Success;
}

internal static class ChannelServices
{
    public static IServiceCollection AddChannels(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChannelOptions>().Bind(configuration.GetSection(ChannelOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChannelOptions>, ChannelOptionsValidator>();
        return services;
    }
}
