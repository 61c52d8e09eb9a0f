using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>Config section <c>StreamVerse:ControlPlane:Chat</c>.</summary>
internal sealed class ChatOptions
{
    public const string Section = "StreamVerse:ControlPlane:Chat";

    /// <summary>Longest chat message in characters (Unicode scalar values), 1-2000. Default 500 (Twitch and YouTube: 500, 200).</summary>
    public int MaxLength { get; set; } = 500;

    /// <summary>Messages a socket receives when it joins a chat (the newest, oldest first), 0-200. Default 50.</summary>
    public int HistorySize { get; set; } = 50;

    /// <summary>Messages one account may send per <see cref="RateWindow"/> on one daemon, in all chats together, 1-10000. Default 5.</summary>
    public int AccountMessagesPerWindow { get; set; } = 5;

    /// <summary>Messages one client address (an IPv6 /64) may send per <see cref="RateWindow"/> on one daemon, 1-100000. Default 20.</summary>
    public int AddressMessagesPerWindow { get; set; } = 20;

    /// <summary>The rate limits' fixed window, 00:00:01-01:00:00. Default 00:00:10.</summary>
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Entries of a channel's blocked-words list, 0-1000. Default 200.</summary>
    public int MaxBlockedWords { get; set; } = 200;
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class ChatOptionsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions o)
    {
        var errors = new List<string>();
        if (o.MaxLength is < 1 or > 2000)
        {
            errors.Add(ChatOptions.Section + ":MaxLength must be between 1 and 2000");
        }

        if (o.HistorySize is < 0 or > 200)
        {
            errors.Add(ChatOptions.Section + ":HistorySize must be between 0 and 200");
        }

        if (o.AccountMessagesPerWindow is < 1 or > 10_000)
        {
            errors.Add(ChatOptions.Section + ":AccountMessagesPerWindow must be between 1 and 10000");
        }

        if (o.AddressMessagesPerWindow is < 1 or > 100_000)
        {
            errors.Add(ChatOptions.Section + ":AddressMessagesPerWindow must be between 1 and 100000");
        }

        if (o.RateWindow < TimeSpan.FromSeconds(1) || o.RateWindow > TimeSpan.FromHours(1))
        {
            errors.Add(ChatOptions.Section + ":RateWindow must be between 00:00:01 and 01:00:00");
        }

        if (o.MaxBlockedWords is < 0 or > 1000)
        {
            errors.Add(ChatOptions.Section + ":MaxBlockedWords must be between 0 and 1000");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class ChatServices
{
    /// <summary>Chat: options, store, the send/join service the socket calls, and the rate limits. Endpoints: <see cref="ChatEndpoints.MapChat"/>.</summary>
    public static IServiceCollection AddChat(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChatOptions>().Bind(configuration.GetSection(ChatOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>();
        services.AddSingleton<ChatStore>();
        services.AddSingleton<ChatRateLimits>();
        services.AddSingleton<ChatService>();
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<ILiveMediaClock, NoLiveMediaClock>(services);
        return services;
    }
}
