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
        var poster = video.ThumbnailUrl == PosterPath(video.Id);
        if ((!poster && video.Captions.Length == 0) || !Visibility.NeedsToken(video.Visibility))
        {
            return video;
        }

        // Issued now, like every token (an issue time of 0 would be void under any withdrawal the account ever had,
        // e.g. the role change that made it a creator).
        var now = time.GetUtcNow();
        var token = tokens.Issue(video.Id, now + options.Value.TokenLifetime, callerId, clientIp: null, issued: now);
        return video with
        {
            ThumbnailUrl = poster ? $"/vod/t/{token}/{video.Id}/poster.jpg" : video.ThumbnailUrl,
            StoryboardUrl = video.StoryboardUrl is { } storyboard ? $"/vod/t/{token}/{storyboard["/vod/".Length..]}" : null,
            Captions = [.. video.Captions.Select(c => c with { Url = $"/vod/t/{token}/{c.Url["/vod/".Length..]}" })],
        };
    }

    public static string PosterPath(string videoId) => $"/vod/{videoId}/poster.jpg";
}
