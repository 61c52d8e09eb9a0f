using System.Text;

namespace StreamVerse.ControlPlane.Videos;

internal static class Visibility
{
    public const string Public = "public";
    public const string Unlisted = "unlisted";
    public const string Private = "private";
    public const string Premium = "premium";

    public static bool IsValid(string? v) => v is Public or Unlisted or Private or Premium;

    /// <summary>Private and premium videos play only with a playback token.</summary>
    public static bool NeedsToken(string v) => v is Private or Premium;
}

internal static class VideoStatus
{
    public const string Draft = "draft";
    public const string Processing = "processing";
    public const string Ready = "ready";
    public const string Failed = "failed";
    public const string Live = "live";
    public const string Ended = "ended";

    public static bool IsValid(string? s) => s is Draft or Processing or Ready or Failed or Live or Ended;
}

/// <summary>What a creator sets when creating a video; the rest (status, duration, thumbnail, counts) is the server's.</summary>
internal sealed record CreateVideoRequest(
    string? ChannelId, string? Title, string? Description, string[]? Tags, long? CategoryId, string? Language, string? Visibility);

/// <summary>What a creator may change on a video: a field left out keeps its value.</summary>
/// <param name="ReactionsEnabled">False: viewers can no longer like or dislike it, and its counts are shown to its owner only.</param>
/// <param name="DislikeCountHidden">True: its dislike count is shown to its owner only.</param>
internal sealed record UpdateVideoRequest(
    string? Title, string? Description, string[]? Tags, long? CategoryId, string? Language, string? Visibility,
    bool? ReactionsEnabled = null, bool? DislikeCountHidden = null);

/// <param name="PlaybackPath">HLS: <c>/vod/{id}/index.m3u8</c> once a presentation is published (the fast-start
/// preview counts), otherwise the live path <c>/live/{id}/index.m3u8</c>.</param>
/// <param name="DashPath">The same for DASH (<c>index.mpd</c>).</param>
/// <param name="ProcessingProgress">Percent of the current transcode (0..100), null when none ran.</param>
/// <param name="FailureReason">Why processing failed (readable), "cancelled", or null.</param>
/// <param name="StoryboardUrl">The seek-preview track of the current presentation (WebVTT whose cues point into a JPEG
/// sprite with <c>#xywh=</c>, as hls.js/Video.js/Vidstack thumbnails read it), or null while there is none (no full
/// ladder yet, audio only).</param>
/// <param name="LikeCount">Likes (exact); null to viewers when the creator disabled reactions.</param>
/// <param name="DislikeCount">Dislikes (exact); null to viewers when the creator hides it or disabled reactions.</param>
/// <param name="ReactionsEnabled">Whether viewers may like or dislike it (<c>PUT /api/v1/videos/{id}/reaction</c>).</param>
/// <param name="DislikeCountHidden">Whether the creator hides the dislike count from viewers.</param>
/// <param name="CommentPolicy">enabled, disabled or held (comments wait for the owner's approval); new videos take their channel's.</param>
/// <param name="CommentCount">Published, undeleted comments and replies; null for a caller who may not read them (a premium video, to an account without premium).</param>
/// <param name="AudioTracks">The audio renditions of the current presentation, in the source's order (empty for live
/// videos and before a presentation exists).</param>
/// <param name="Captions">The caption tracks, by language (uploaded, or taken from the source's text subtitles); the
/// manifests list them as HLS subtitle renditions and DASH text adaptation sets.</param>
/// <param name="PremiereAt">The instant of the video's premiere (its scheduled first showing), kept after it: viewers of the premiere play from
/// (now - premiereAt), and its chat's media time counts from it. Null for a video that had none.</param>
/// <param name="PublishAt">When a private or unlisted video becomes public by itself (<c>PUT /videos/{id}/schedule</c>), or null.</param>
internal sealed record Video(
    string Id, string ChannelId, string OwnerId, string Title, string Description, string[] Tags, long? CategoryId,
    string? Language, string Visibility, string Status, double? DurationSeconds, string? ThumbnailUrl, long ViewCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string PlaybackPath, string DashPath, double? ProcessingProgress, string? FailureReason,
    string? StoryboardUrl, long? LikeCount, long? DislikeCount, bool ReactionsEnabled, bool DislikeCountHidden,
    string CommentPolicy, long? CommentCount, IReadOnlyList<AudioTrack> AudioTracks, Captions.CaptionInfo[] Captions,
    DateTimeOffset? PublishAt = null, DateTimeOffset? PremiereAt = null);

/// <summary>One audio rendition a player can switch to.</summary>
/// <param name="Language">RFC 5646 tag from the source stream's language tag ("en", "fr"), "und" when it has none.</param>
/// <param name="Name">The stream's title tag, else the language's English name ("Audio" when undetermined).</param>
/// <param name="Default">The rendition players start with: the source's default stream, else its first.</param>
internal sealed record AudioTrack(string Language, string Name, bool Default);

internal sealed record VideoPage(List<Video> Items, string? NextCursor);

internal static class TagRules
{
    public const int MaxLength = 50;
    public const int MaxPerVideo = 20;

    /// <summary>Trim, lower-case, collapse runs of whitespace to one space; empty means "no tag".</summary>
    public static string Normalise(string tag)
    {
        var sb = new StringBuilder(tag.Length);
        var space = false;
        foreach (var c in tag.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                sb.Append(' ');
                space = false;
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }
}
