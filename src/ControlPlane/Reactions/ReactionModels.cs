using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Reactions;

/// <summary>Reaction kinds (the stored text).</summary>
internal static class ReactionKind
{
    public const string Like = "like";
    public const string Dislike = "dislike";

    public static bool IsValid(string? k) => k is Like or Dislike;
}

/// <summary><c>PUT /api/v1/videos/{id}/reaction</c>.</summary>
/// <param name="Reaction"><c>like</c> or <c>dislike</c> (clearing is <c>DELETE</c>).</param>
internal sealed record ReactionRequest(string? Reaction);

internal sealed record SetReaction(string Kind)
{
    public static SetReaction? Validate(ReactionRequest? r, Validation v)
    {
        var kind = r?.Reaction?.Trim();
        if (kind is null)
        {
            v.Add("reaction", "is required (like or dislike; DELETE clears it)");
        }
        else if (!ReactionKind.IsValid(kind))
        {
            v.Add("reaction", "must be like or dislike");
        }

        return v.IsValid ? new SetReaction(kind!) : null;
    }
}

/// <summary>The caller's reaction to a video and the video's counts as the caller may see them.</summary>
/// <param name="Reaction"><c>like</c>, <c>dislike</c>, or null (none).</param>
/// <param name="LikeCount">Null when the creator disabled reactions (the owner and admins always see it).</param>
/// <param name="DislikeCount">Null when the creator hides it or disabled reactions (the owner and admins always see it).</param>
internal sealed record ReactionResponse(string? Reaction, long? LikeCount, long? DislikeCount, bool ReactionsEnabled);

internal static class ReactionServices
{
    public static IServiceCollection AddReactions(this IServiceCollection services, IConfiguration configuration)
    {
        _ = configuration; // no options yet; the signature is every feature's
        services.AddSingleton<ReactionStore>();
        return services;
    }
}
