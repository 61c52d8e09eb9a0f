using System.Buffers;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Images;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary><c>/api/v1/me</c>: the signed-in account: profile, avatar, password, sessions, deletion.</summary>
internal static class MeEndpoints
{
    public static RouteGroupBuilder MapMe(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/me").WithTags("Me").RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account);
        group.MapGet("", GetAsync).Produces<ProfileResponse>();
        group.MapPatch("", UpdateAsync).Produces<ProfileResponse>().ProducesValidationProblem();
        // The avatar's own cap instead of the group's; one byte over it, which the handler reads to tell "too large".
        var avatarMax = api.ServiceProvider.GetRequiredService<IOptions<ControlPlaneOptions>>().Value.AvatarMaxBytes;
        group.MapPut("/avatar", PutAvatarAsync).WithBodyLimit(avatarMax + 1L).Accepts<byte[]>("image/png", "image/jpeg", "image/webp")
            .Produces<AvatarResponse>().ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapDelete("/avatar", DeleteAvatarAsync).Produces(StatusCodes.Status204NoContent);
        group.MapPost("/password", ChangePasswordAsync).Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapDelete("", DeleteAccountAsync).Produces(StatusCodes.Status204NoContent).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/sessions", ListSessionsAsync).Produces<Page<SessionInfo>>().ProducesValidationProblem();
        group.MapDelete("/sessions/{sessionId}", RevokeSessionAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/sessions", RevokeAllSessionsAsync).Produces(StatusCodes.Status204NoContent);
        return group;
    }

    internal static async Task<UserRow?> FindAsync(DbSession db, string id, CancellationToken cancellationToken) =>
        await db.SingleAsync($"SELECT {UserRow.Columns} FROM users WHERE id = @id AND deleted_at IS NULL", [("id", id)], UserRow.Read, cancellationToken).ConfigureAwait(false);

    private static async Task<IResult> GetAsync(HttpContext context, Database database, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        return user is null ? Problems.NotFound("account") : TypedResults.Ok(user.ToProfile());
    }

    private static async Task<IResult> UpdateAsync(UpdateProfileRequest request, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        var displayName = request.DisplayName is null ? null : v.Text("displayName", request.DisplayName, 1, 100);
        var bio = v.OptionalText("bio", request.Bio, 2000);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            "UPDATE users SET display_name = COALESCE(@d, display_name), bio = COALESCE(@b, bio) WHERE id = @id AND deleted_at IS NULL",
            [("d", displayName), ("b", bio), ("id", caller.Id)], cancellationToken).ConfigureAwait(false);
        var user = await FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        return user is null ? Problems.NotFound("account") : TypedResults.Ok(user.ToProfile());
    }

    private const string SelectAvatarSql = "SELECT avatar_key FROM users WHERE id = @id";
    private const string UpdateAvatarSql = "UPDATE users SET avatar_key = @k WHERE id = @id AND deleted_at IS NULL";

    /// <summary>The account's avatar: decoded and re-encoded as a JPEG by MediaCore (<see cref="ImageUploads"/>).</summary>
    private static async Task<IResult> PutAvatarAsync(HttpContext context, ImageUploads images, IOptions<ControlPlaneOptions> options, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var (jpeg, problem) = await images.ReadAsync(context, "avatar", options.Value.AvatarMaxBytes, images.Options.Avatar, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (found, key) = await images.ReplaceAsync($"avatars/{caller.Id}", jpeg, "avatar:" + caller.Id, SelectAvatarSql, UpdateAvatarSql, [("id", caller.Id)],
            cancellationToken).ConfigureAwait(false);
        return found ? TypedResults.Ok(new AvatarResponse(UserRow.AvatarPath(caller.Id, key!))) : Problems.NotFound("account");
    }

    private static async Task<IResult> DeleteAvatarAsync(HttpContext context, ImageUploads images, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await images.ReplaceAsync($"avatars/{caller.Id}", null, "avatar:" + caller.Id, SelectAvatarSql, UpdateAvatarSql, [("id", caller.Id)], cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ChangePasswordAsync(ChangePasswordRequest request, HttpContext context, Database database,
        PasswordHasher hasher, Sessions sessions, LoginThrottle throttle, Mail.AccountTokens accountTokens, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        AccountRules.PasswordToCheck(v, "currentPassword", request.CurrentPassword);
        AccountRules.Password(v, "newPassword", request.NewPassword);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return Problems.NotFound("account");
        }

        if (await CheckPasswordAsync(user, "currentPassword", request.CurrentPassword!, context, hasher, throttle, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return refused;
        }

        string hash;
        try
        {
            hash = await hasher.HashAsync(request.NewPassword!, HashPriority.SignIn, cancellationToken).ConfigureAwait(false);
        }
        catch (Argon2BusyException e)
        {
            return AuthEndpoints.Busy(context, e);
        }

        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE users SET password_hash = @p WHERE id = @id", [("p", hash), ("id", caller.Id)], cancellationToken).ConfigureAwait(false);

        // Whoever knew the old password may hold a session: every session ends, this one too. A reset link mailed
        // before the change would undo it: every unused one dies too.
        await sessions.RevokeAllInAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        await accountTokens.VoidInAsync(db, Mail.TokenPurpose.PasswordReset, caller.Id, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Re-authentication: the signed-in user's password checked under the login throttle of their account and
    /// address (a stolen access token must not become an unthrottled password oracle). A wrong password counts as a
    /// failed login; a right one forgives nothing (only a login does). Null when the password is right.
    /// </summary>
    internal static async Task<IResult?> CheckPasswordAsync(UserRow user, string field, string password, HttpContext context,
        PasswordHasher hasher, LoginThrottle throttle, CancellationToken cancellationToken)
    {
        using var attempt = await throttle.BeginAsync(user.Email, context.Connection.RemoteIpAddress, cancellationToken).ConfigureAwait(false);
        if (attempt.RetryAfter is { } wait)
        {
            return AuthEndpoints.TooMany(context, wait);
        }

        bool ok;
        try
        {
            ok = await hasher.VerifyAsync(password, user.PasswordHash, cancellationToken).ConfigureAwait(false);
        }
        catch (Argon2BusyException e)
        {
            return AuthEndpoints.Busy(context, e);
        }

        if (!ok)
        {
            attempt.Failed();
            return new Validation().Add(field, "is incorrect").Result();
        }

        return null;
    }

    /// <summary>
    /// Deletes the account's content (channels, videos, stream keys, avatar, the text of its comments) and anonymises the user row (kept so
    /// foreign keys and audit stay consistent; e-mail and handle are freed), and revokes every session.
    /// </summary>
    private static async Task<IResult> DeleteAccountAsync([Microsoft.AspNetCore.Mvc.FromBody] DeleteAccountRequest request, HttpContext context, Database database,
        PasswordHasher hasher, Sessions sessions, LoginThrottle throttle, IBlobStorage storage, ProtectedVideos protectedVideos, VideoMedia media,
        PlaybackRevocations playbackRevocations, Events.Outbox outbox, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        AccountRules.PasswordToCheck(v, "password", request.Password);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return Problems.NotFound("account");
        }

        if (await CheckPasswordAsync(user, "password", request.Password!, context, hasher, throttle, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return refused;
        }

        // The last admin cannot leave (RoleStore's invariant): the condition is in the statement, under the lock that
        // every transaction that can remove an admin takes. Asked once before as well, so that a refused deletion has
        // not stopped the account's transcodes.
        if (await Users.RoleStore.IsLastAdminAsync(db, caller.Id, cancellationToken).ConfigureAwait(false))
        {
            return Problems.Conflict(Users.RoleStore.LastAdminDetail);
        }

        // Everything the account owns goes: transcodes stopped now, stored media and unfinished uploads after the commit.
        var removal = await media.PrepareOwnerAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.SerialiseAsync(Users.RoleStore.AdminLock, cancellationToken).ConfigureAwait(false);
        var anonymised = await db.ExecAsync(
            """
            UPDATE users SET email = @e, handle = @h, password_hash = '!', display_name = 'Deleted user', bio = '',
                avatar_key = NULL, premium = FALSE, premium_granted = FALSE, role = 'user', deleted_at = @now
            WHERE id = @id AND deleted_at IS NULL
                AND (role <> 'admin' OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.deleted_at IS NULL AND o.id <> @id))
            """,
            [("e", "deleted-" + caller.Id + "@invalid"), ("h", "deleted_" + caller.Id.ToLowerInvariant().Replace('-', '_')), ("now", time.GetUtcNow()), ("id", caller.Id)],
            cancellationToken).ConfigureAwait(false);
        if (anonymised == 0)
        {
            return Problems.Conflict(Users.RoleStore.LastAdminDetail);
        }

        await sessions.RevokeAllInAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        await playbackRevocations.VoidViewerInAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);

        // Its subscriptions and reactions go, and the counts they made with them (they would outlive the account otherwise).
        await Subscriptions.SubscriptionStore.ForgetAccountInAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        await Reactions.ReactionStore.ForgetAccountInAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        await Comments.CommentStore.EraseAuthorInAsync(db, caller.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var videos = await protectedVideos.RecordDeletedAsync(db, "channel_id IN (SELECT id FROM channels WHERE owner_id = @id)", [("id", caller.Id)],
            cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM channels WHERE owner_id = @id", [("id", caller.Id)], cancellationToken).ConfigureAwait(false);

        // What is kept about the account outside this database (analytics rows) goes through the outbox (AccountDeleted handlers).
        await outbox.AddAsync(db, new AccountDeleted(caller.Id, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (user.AvatarKey is not null)
        {
            await storage.DeleteAsync(user.AvatarKey, cancellationToken).ConfigureAwait(false);
        }

        foreach (var video in videos)
        {
            protectedVideos.Deleted(video);
        }

        await storage.DeletePrefixAsync(Channels.ChannelPictureEndpoints.OwnerPrefix(caller.Id), CancellationToken.None).ConfigureAwait(false);
        await media.RemoveAsync(removal).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private const string SessionsSort = "sessions";

    private static async Task<IResult> ListSessionsAsync(string? cursor, int? limit, HttpContext context, Sessions sessions, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var (at, after) = Paging.AfterNewest(cursor, SessionsSort, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var rows = await sessions.ListAsync(caller.Id, caller.SessionId, at, after, take, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(Paging.Cut(rows, take, SessionsSort, s => (Paging.Key(s.CreatedAt), s.Id), s => s));
    }

    private static async Task<IResult> RevokeSessionAsync(string sessionId, HttpContext context, Sessions sessions, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        return await sessions.RevokeAsync(caller.Id, sessionId, cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent() : Problems.NotFound("session");
    }

    private static async Task<IResult> RevokeAllSessionsAsync(HttpContext context, Sessions sessions, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await sessions.RevokeAllAsync(caller.Id, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
