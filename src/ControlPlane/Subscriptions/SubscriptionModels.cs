using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Subscriptions;

/// <summary>Bell levels: which of a channel's news reach the subscriber (the stored text).</summary>
internal static class Bell
{
    /// <summary>Everything the channel does that notifies.</summary>
    public const string All = "all";

    /// <summary>New videos and going live (the default).</summary>
    public const string Highlights = "highlights";

    /// <summary>Nothing: subscribed (the channel is in "my subscriptions"), but silent.</summary>
    public const string None = "none";

    public static bool IsValid(string? b) => b is All or Highlights or None;
}

/// <summary><c>PUT /api/v1/channels/{id}/subscription</c>: the body is optional; a bell left out keeps the current one
/// (<c>highlights</c> for a new subscription).</summary>
internal sealed record SubscribeRequest(string? Bell);

/// <summary>The validated command: the bell to set, or null to keep.</summary>
internal sealed record Subscribe(string? Bell)
{
    public static Subscribe? Validate(SubscribeRequest? r, Validation v)
    {
        var bell = r?.Bell?.Trim();
        if (bell is not null && !Subscriptions.Bell.IsValid(bell))
        {
            v.Add("bell", "must be all, highlights or none");
        }

        return v.IsValid ? new Subscribe(bell) : null;
    }
}

/// <summary>One of the caller's subscriptions.</summary>
/// <param name="Bell"><c>all</c>, <c>highlights</c> (new videos and going live) or <c>none</c>.</param>
/// <param name="SubscriberCount">The channel's subscribers now (this one included).</param>
internal sealed record SubscriptionResponse(string ChannelId, string ChannelName, string Bell, DateTimeOffset SubscribedAt, long SubscriberCount);

/// <summary>A subscriber of a channel, as its owner sees them (not their bell: that is the subscriber's business).</summary>
internal sealed record SubscriberResponse(string UserId, string Handle, string DisplayName, DateTimeOffset SubscribedAt);

/// <summary>An account subscribed to a channel (a new subscription; a bell change is not one).</summary>
internal sealed record ChannelSubscribed(string ChannelId, string SubscriberId, string Bell, DateTimeOffset SubscribedAt) : IDomainEvent
{
    public string SubjectId => ChannelId;
}

internal static class SubscriptionServices
{
    public static IServiceCollection AddSubscriptions(this IServiceCollection services, IConfiguration configuration)
    {
        _ = configuration; // no options yet; the signature is every feature's
        services.AddEvent<ChannelSubscribed>("subscriptions.channel-subscribed.v1");
        services.AddSingleton<SubscriptionStore>();
        return services;
    }
}
