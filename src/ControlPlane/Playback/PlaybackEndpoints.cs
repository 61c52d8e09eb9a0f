using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Playback;

internal sealed record PlaybackTokenRequest(bool? BindToIp);

/// <param name="PosterUrl">The video's poster under the token (<c>/vod/t/{token}/{id}/poster.jpg</c>), or null when it has none.</param>
internal sealed record PlaybackTokenResponse(string Token, DateTimeOffset ExpiresAt, string HlsUrl, string DashUrl, string VodHlsUrl, string VodDashUrl, string? PosterUrl);

/// <summary>
/// <c>POST /api/v1/videos/{id}/playback-token</c>: a signed, expiring token for one video, carried as a path
/// prefix (<c>/live/t/{token}/{id}/index.m3u8</c>) so players resolve every relative URI of the playlist under it
/// unchanged. Who gets one: the owner and admins always; for a premium video, any account with the premium flag;
/// for public and unlisted videos anyone signed in (they play without one too, at the default bandwidth tier; a
/// premium account's token plays them at the premium tier).
/// A token lives as long as its video needs (<see cref="PlaybackOptions.LifetimeFor"/>; <see cref="PlaybackOptions.TokenLifetime"/>
/// for a live stream, whose player asks again before <c>expiresAt</c> and continues under the new prefix); a viewer
/// who loses access before then is cut off by <see cref="PlaybackRevocations"/>.
/// </summary>
internal static class PlaybackEndpoints
{
    public static RouteGroupBuilder MapPlayback(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/videos/{id}/playback-token").WithTags("Playback").RequireAuthorization(Policies.User);
        group.MapPost("", IssueAsync).Produces<PlaybackTokenResponse>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> IssueAsync(string id, PlaybackTokenRequest? request, HttpContext context, Database database, PlaybackTokens tokens,
        IOptions<PlaybackOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);

        // Issued as of now, before anything is read: a revocation written after this instant voids the token even if
        // this request read the video or account before the revocation's commit. (What is left: a request that starts
        // between a revocation's statement and its commit, a few milliseconds of one transaction.)
        var issued = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await VideoEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (video is null || (video.Visibility == Visibility.Private && !caller.OwnsOrAdmin(video.OwnerId)))
        {
            return Problems.NotFound("video");
        }

        // The account's premium flag as of now rides in the token: it admits premium videos and picks the viewer's
        // bandwidth tier at the origin and edges (StreamVerse:Limits:PremiumTier) for the token's lifetime.
        var premium = (await MeEndpoints.FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false))?.Premium == true;
        if (video.Visibility == Visibility.Premium && !caller.OwnsOrAdmin(video.OwnerId) && !premium)
        {
            return Problems.Forbidden("This video needs a premium account.");
        }

        // Hidden or removed by a moderator (Moderation/): the origin plays it to nobody, so no token either; it does not
        // exist for anyone but its owner and admins.
        if (await Moderation.AccountStanding.IsModeratedAsync(db, video.Id, cancellationToken).ConfigureAwait(false))
        {
            return caller.OwnsOrAdmin(video.OwnerId) ? Problems.Forbidden("A moderator hid or removed this video.") : Problems.NotFound("video");
        }

        // Age-restricted (Moderation/): a token only for an account that attested being an adult; the origin refuses
        // the video without one.
        if (!caller.OwnsOrAdmin(video.OwnerId) && await Moderation.AccountStanding.IsAgeRestrictedAsync(db, video.Id, cancellationToken).ConfigureAwait(false)
            && !await Moderation.AccountStanding.IsAdultAsync(db, caller.Id, cancellationToken).ConfigureAwait(false))
        {
            return Moderation.AccountStanding.AgeRestricted();
        }

        var expires = issued + options.Value.LifetimeFor(video.DurationSeconds);
        var token = tokens.Issue(video.Id, expires, caller.Id, request?.BindToIp == true ? context.Connection.RemoteIpAddress : null, premium, issued);
        return TypedResults.Ok(new PlaybackTokenResponse(token, expires, $"/live/t/{token}/{video.Id}/index.m3u8", $"/live/t/{token}/{video.Id}/index.mpd",
            $"/vod/t/{token}/{video.Id}/index.m3u8", $"/vod/t/{token}/{video.Id}/index.mpd",
            OwnerThumbnails.UnderToken(video, token)));
    }
}
