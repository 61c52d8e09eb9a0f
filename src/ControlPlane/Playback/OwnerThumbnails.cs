using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>
/// A private or premium video's poster, storyboard and captions play only under a playback token, like its segments; its owner
/// (or an admin) reading the video gets their paths under a token issued to them, so the studio shows the pictures
/// instead of a 403. Other viewers never read such a video's resource without an entitlement (private is 404), and get the poster
/// under the token <c>POST /videos/{id}/playback-token</c> gives them (<c>posterUrl</c>).
/// </summary>
internal sealed class OwnerThumbnails(PlaybackTokens tokens, IOptions<PlaybackOptions> options, TimeProvider time)
{
    public Video ForOwner(Video video, string callerId)
    {
        if ((!IsDelivered(video) && video.Captions.Length == 0) || !Visibility.NeedsToken(video.Visibility))
        {
            return video;
        }

        // Issued now, like every token (an issue time of 0 would be void under any withdrawal the account ever had,
        // e.g. the role change that made it a creator).
        var now = time.GetUtcNow();
        var token = tokens.Issue(video.Id, now + options.Value.TokenLifetime, callerId, clientIp: null, issued: now);
        return video with
        {
            ThumbnailUrl = UnderToken(video, token) ?? video.ThumbnailUrl,
            StoryboardUrl = video.StoryboardUrl is { } storyboard ? $"/vod/t/{token}/{storyboard["/vod/".Length..]}" : null,
            Captions = [.. video.Captions.Select(c => c with { Url = $"/vod/t/{token}/{c.Url["/vod/".Length..]}" })],
        };
    }

    /// <summary>Whether the video's thumbnail is served by VOD delivery (its poster, or a custom one stored beside its presentations).</summary>
    public static bool IsDelivered(Video video) => video.ThumbnailUrl is { } url && url.StartsWith($"/vod/{video.Id}/", StringComparison.Ordinal);

    /// <summary>The video's delivered thumbnail under <paramref name="token"/>, or null when it has none.</summary>
    public static string? UnderToken(Video video, string token) =>
        IsDelivered(video) ? $"/vod/t/{token}/{video.ThumbnailUrl!["/vod/".Length..]}" : null;

    public static string PosterPath(string videoId) => $"/vod/{videoId}/poster.jpg";
}
