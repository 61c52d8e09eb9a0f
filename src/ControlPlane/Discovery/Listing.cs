using System.Data.Common;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Discovery;

/// <summary>
/// The one place that says which videos a list may show: every feed, search result, suggestion, count, history,
/// watch-later and playlist query of discovery writes one of these predicates over <c>videos v JOIN channels c</c>.
/// A new reason to hide a video (moderation's "removed", "age-restricted") is added here and reaches every list.
/// </summary>
internal static class Listing
{
    /// <summary>
    /// Listed to anyone (feeds, search, suggestions, channel pages): public and playable (<see cref="VideoEndpoints.PlayableSql"/>),
    /// so private, unlisted, premium, drafts, uploads still processing their first presentation and failed ones never show.
    /// </summary>
    public const string Listed = $"(v.visibility = 'public' AND {VideoEndpoints.PlayableSql})";

    /// <summary>
    /// Watchable by the account <c>@me</c> (its history, watch later, a playlist it looks at), as <see cref="VideoAccess"/>
    /// decides for one video: playable and public or unlisted, premium for a premium account, or its own video whatever
    /// its state. A video that became private after it was saved drops out of every such list (and out of its counts).
    /// </summary>
    public const string WatchableByMe =
        $"""
        (c.owner_id = @me OR ({VideoEndpoints.PlayableSql} AND (v.visibility IN ('public', 'unlisted')
            OR (v.visibility = 'premium' AND EXISTS (SELECT 1 FROM users pu WHERE pu.id = @me AND pu.premium AND pu.deleted_at IS NULL)))))
        """;

    /// <summary>When a video entered the lists: its first publication, else (a fast-start preview not yet "ready") its creation.</summary>
    public const string ListedAt = "COALESCE(v.published_at, v.created_at)";

    /// <summary>The columns of a <see cref="VideoCard"/>, read by <see cref="ReadCard"/> from ordinal <c>first</c>.</summary>
    public const string CardColumns =
        $"""
        v.id, v.channel_id, c.name, v.title, v.thumbnail_url, v.custom_thumbnail_key, v.duration_seconds, v.status, v.language,
        v.category_id, {ListedAt}, v.like_count, v.reactions_enabled, v.comment_count
        """;

    public const int CardColumnCount = 14;

    public static VideoCard ReadCard(DbDataReader r, Dialect d, int first = 0) => new(
        r.GetString(first), r.GetString(first + 1), r.GetString(first + 2), r.GetString(first + 3),
        r.IsDBNull(first + 5) ? (r.IsDBNull(first + 4) ? null : r.GetString(first + 4)) : "/" + r.GetString(first + 5),
        r.IsDBNull(first + 6) ? null : r.GetDouble(first + 6),
        r.GetString(first + 7) == VideoStatus.Live,
        r.IsDBNull(first + 8) ? null : r.GetString(first + 8),
        r.IsDBNull(first + 9) ? null : r.GetInt64(first + 9),
        d.ReadTimestamp(r, first + 10),
        r.GetBoolean(first + 12) ? r.GetInt64(first + 11) : null,
        r.GetInt64(first + 13));
}

/// <summary>A video as lists show it.</summary>
/// <param name="ThumbnailUrl">The creator's chosen picture, else the generated poster, else null.</param>
/// <param name="Live">Broadcasting now (its playback path is the live one).</param>
/// <param name="ListedAt">When it was first published (for a fast-start preview not yet finished: its creation).</param>
/// <param name="LikeCount">Null when the creator disabled reactions.</param>
internal sealed record VideoCard(string Id, string ChannelId, string ChannelName, string Title, string? ThumbnailUrl, double? DurationSeconds,
    bool Live, string? Language, long? CategoryId, DateTimeOffset ListedAt, long? LikeCount, long CommentCount);
