using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Videos;

/// <summary>What an endpoint about a video needs of its caller.</summary>
internal enum VideoNeed
{
    /// <summary>May watch it: its owner and admins always; others only a playable video that is not private, and a premium video only with a premium account.</summary>
    Watch,

    /// <summary>Owns it or is an admin (a watcher who does not is refused with 403; anyone else sees 404).</summary>
    Manage,
}

/// <summary>
/// One video as one caller may use it, loaded once per request by <see cref="LoadAsync"/> in the order load, hide,
/// permission (building-features.md §3.4): a video the caller may not watch does not exist for them (404 on every
/// endpoint under it, so nothing under a private or premium video leaks, not even whether it has comments); one they
/// may watch but not manage answers 403 where managing is needed. Feature policy (comments enabled?) is the caller's
/// next check.
/// </summary>
/// <param name="CallerId">The caller's account id; "" when anonymous.</param>
/// <param name="Manages">The caller owns the video or is an admin.</param>
/// <param name="IsOwner">The caller owns the video (an admin is not its owner: a creator heart is the owner's own).</param>
internal sealed record VideoAccess(string VideoId, string OwnerId, string Visibility, string CommentPolicy, string? PinnedCommentId,
    string CallerId, bool Manages, bool IsOwner)
{
    // One row: the video, its owner, whether anything plays, its pinned comment and the caller's premium flag ("" matches
    // no account). The pin counts only while its comment is published and undeleted: a pin that raced a delete (the pin's
    // check read the comment just before the delete committed) is then no pin, whatever order the two committed in.
    private const string Select =
        $"""
        SELECT v.id, c.owner_id, v.visibility, CASE WHEN {VideoEndpoints.PlayableSql} THEN 1 ELSE 0 END, v.comment_policy,
               (SELECT pc.id FROM comments pc WHERE pc.id = v.pinned_comment_id AND pc.status = 'published' AND pc.deleted_at IS NULL),
               (SELECT CASE WHEN u.premium THEN 1 ELSE 0 END FROM users u WHERE u.id = @me AND u.deleted_at IS NULL),
               CASE WHEN v.age_restricted THEN 1 ELSE 0 END,
               (SELECT CASE WHEN u.adult_attested_at IS NOT NULL THEN 1 ELSE 0 END FROM users u WHERE u.id = @me AND u.deleted_at IS NULL)
        FROM videos v JOIN channels c ON c.id = v.channel_id
        WHERE v.id = @id
        """;

    /// <summary>The access, or the problem to answer instead (404 "video" when the caller may not watch it, 403 when <paramref name="need"/> is more).</summary>
    public static async Task<(VideoAccess? Access, IResult? Problem)> LoadAsync(DbSession db, string videoId, Caller? caller, VideoNeed need,
        CancellationToken cancellationToken)
    {
        var me = caller?.Id ?? "";
        var row = await db.SingleAsync(Select, [("id", videoId), ("me", me)], (r, _) => new
        {
            OwnerId = r.GetString(1),
            Visibility = r.GetString(2),
            Playable = Convert.ToInt64(r.GetValue(3), System.Globalization.CultureInfo.InvariantCulture) == 1,
            Policy = r.GetString(4),
            Pinned = r.IsDBNull(5) ? null : r.GetString(5),
            Premium = !r.IsDBNull(6) && Convert.ToInt64(r.GetValue(6), System.Globalization.CultureInfo.InvariantCulture) == 1,
            AgeRestricted = Convert.ToInt64(r.GetValue(7), System.Globalization.CultureInfo.InvariantCulture) == 1,
            Adult = !r.IsDBNull(8) && Convert.ToInt64(r.GetValue(8), System.Globalization.CultureInfo.InvariantCulture) == 1,
        }, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return (null, Problems.NotFound("video"));
        }

        var manages = caller is not null && caller.OwnsOrAdmin(row.OwnerId);
        var watches = manages
            || (row.Playable && row.Visibility != Videos.Visibility.Private && (row.Visibility != Videos.Visibility.Premium || row.Premium));
        if (!watches)
        {
            return (null, Problems.NotFound("video"));
        }

        // Age-restricted (Moderation/): only signed-in accounts that attested being adults, besides its managers.
        if (row.AgeRestricted && !manages && !row.Adult)
        {
            return (null, Moderation.AccountStanding.AgeRestricted());
        }

        if (need == VideoNeed.Manage && !manages)
        {
            return (null, Problems.Forbidden("Only the video's owner or an admin may do this."));
        }

        var access = new VideoAccess(videoId, row.OwnerId, row.Visibility, row.Policy, row.Pinned, me, manages,
            string.Equals(me, row.OwnerId, StringComparison.Ordinal));
        return (access, null);
    }
}
