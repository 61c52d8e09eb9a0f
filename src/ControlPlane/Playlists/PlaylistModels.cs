using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Discovery;

namespace StreamVerse.ControlPlane.Playlists;

internal static class PlaylistVisibility
{
    public const string Public = "public";
    public const string Unlisted = "unlisted";
    public const string Private = "private";

    public static bool IsValid(string? v) => v is Public or Unlisted or Private;
}

/// <param name="Visibility">public (listed on the owner's channels), unlisted (anyone with the link) or private (default).</param>
internal sealed record CreatePlaylistRequest(string? Title, string? Description, string? Visibility);

/// <summary>A field left out keeps its value.</summary>
internal sealed record UpdatePlaylistRequest(string? Title, string? Description, string? Visibility);

internal sealed record PlaylistFields(string? Title, string? Description, string? Visibility)
{
    public const int MaxTitle = 150;
    public const int MaxDescription = 5000;

    public static PlaylistFields? Validate(string? title, string? description, string? visibility, bool create, Validation v)
    {
        var t = create ? v.Text("title", title, 1, MaxTitle) : title is null ? null : v.Text("title", title, 1, MaxTitle);
        var d = v.OptionalText("description", description, MaxDescription);
        var vis = visibility ?? (create ? PlaylistVisibility.Private : null);
        if (vis is not null && !PlaylistVisibility.IsValid(vis))
        {
            v.Add("visibility", "must be public, unlisted or private");
        }

        return v.IsValid ? new PlaylistFields(t, d, vis) : null;
    }
}

/// <param name="VideoId">A video the caller may watch.</param>
internal sealed record AddPlaylistItemRequest(string? VideoId);

/// <param name="Before">Put the item before this video of the playlist; null or absent: at the end.</param>
internal sealed record MovePlaylistItemRequest(string? Before);

/// <param name="ItemCount">The items the caller may watch (a video that became private is not counted for others).</param>
internal sealed record PlaylistResponse(string Id, string OwnerId, string Title, string Description, string Visibility, long ItemCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>An item of a playlist, in the playlist's order.</summary>
internal sealed record PlaylistItem(VideoCard Video, DateTimeOffset AddedAt);

internal static class PlaylistServices
{
    public static IServiceCollection AddPlaylists(this IServiceCollection services)
    {
        services.AddSingleton<PlaylistStore>();
        return services;
    }
}
