using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>
/// An account's standing, as the other features ask it: whether it may upload and go live (not suspended, not banned,
/// fewer than <see cref="StrikesToSuspend"/> active strikes within <see cref="StrikeWindow"/>), whether it is banned
/// (no sign-in), whether it attested being an adult (age-restricted videos).
/// </summary>
internal static class AccountStanding
{
    public const int StrikesToSuspend = 3;

    public static readonly TimeSpan StrikeWindow = TimeSpan.FromDays(90);

    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Banned = "banned";

    /// <summary>
    /// SQL over <c>u</c> (users) with <c>@now</c> and <c>@strikeSince</c> (<see cref="PublishArgs"/>): the account may
    /// upload and publish live. A suspension ends by itself at <c>suspended_until</c>; a strike counts while unreversed
    /// and younger than the window.
    /// </summary>
    public const string MayPublishSql =
        """
        (u.account_state = 'active' OR (u.account_state = 'suspended' AND u.suspended_until <= @now))
        AND (SELECT COUNT(*) FROM moderation_actions s
             WHERE s.target_user_id = u.id AND s.action = 'strike' AND s.reversed_at IS NULL AND s.created_at > @strikeSince) < 3
        """;

    /// <summary>SQL over <c>u</c> with <c>@now</c>: the account may comment and write in chat (not banned, not in a running suspension;
    /// strikes alone do not silence it).</summary>
    public const string MayInteractSql = "(u.account_state = 'active' OR (u.account_state = 'suspended' AND u.suspended_until <= @now))";

    /// <summary>The refusal for an account that may not comment or chat now, or null when it may.</summary>
    public static async Task<IResult?> RefuseInteractAsync(DbSession db, string userId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await MayInteractAsync(db, userId, now, cancellationToken).ConfigureAwait(false)
            ? null
            : Problems.Forbidden("This account is suspended: it cannot comment or write in chat until the suspension ends.");

    public static async Task<bool> MayInteractAsync(DbSession db, string userId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>($"SELECT 1 FROM users u WHERE u.id = @id AND {MayInteractSql}", [("id", userId), ("now", now)], cancellationToken)
            .ConfigureAwait(false) is not null;

    public static (string, object?)[] PublishArgs(DateTimeOffset now) => [("now", now), ("strikeSince", now - StrikeWindow)];

    /// <summary>The refusal for an account that may not upload or go live now, or null when it may.</summary>
    public static async Task<IResult?> RefusePublishAsync(DbSession db, string userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ok = await db.ScalarAsync<long?>($"SELECT 1 FROM users u WHERE u.id = @id AND {MayPublishSql}", [("id", userId), .. PublishArgs(now)], cancellationToken)
            .ConfigureAwait(false);
        return ok is null ? Problems.Forbidden("Uploads and live streaming are suspended for this account (a suspension, a ban, or three active strikes).") : null;
    }

    public static async Task<bool> IsBannedAsync(DbSession db, string userId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<string>("SELECT account_state FROM users WHERE id = @id", [("id", userId)], cancellationToken).ConfigureAwait(false) == Banned;

    /// <summary>Whether the account attested being 18 or older.</summary>
    public static async Task<bool> IsAdultAsync(DbSession db, string? userId, CancellationToken cancellationToken) =>
        userId is not null && await db.ScalarAsync<long?>("SELECT 1 FROM users WHERE id = @id AND adult_attested_at IS NOT NULL", [("id", userId)], cancellationToken)
            .ConfigureAwait(false) is not null;

    /// <summary>Whether a moderator hid or removed the video (it plays to nobody, and gets no playback token).</summary>
    public static async Task<bool> IsModeratedAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>("SELECT 1 FROM videos WHERE id = @id AND moderation IS NOT NULL", [("id", videoId)], cancellationToken).ConfigureAwait(false) is not null;

    public static async Task<bool> IsAgeRestrictedAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>("SELECT 1 FROM videos WHERE id = @id AND age_restricted", [("id", videoId)], cancellationToken).ConfigureAwait(false) is not null;

    public static IResult AgeRestricted() =>
        Problems.Forbidden("This video is age-restricted: sign in and confirm you are 18 or older (PUT /api/v1/me/age-attestation).");
}
