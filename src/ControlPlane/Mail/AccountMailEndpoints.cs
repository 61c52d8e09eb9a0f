using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>
/// <c>/api/v1/auth</c>, the parts that need mail: e-mail verification and password reset. Without mail
/// (<see cref="MailOptions.Host"/> empty) each answers 503 saying so: nothing is accepted and then dropped.
/// A password-reset request answers 202 with the same body whether or not an account has the address, after the same
/// statements (<see cref="AccountTokens.IssueForEmailInAsync"/>, <see cref="MailQueue.EnqueueForEmailInAsync"/>), and
/// the mail itself leaves later from the queue, so neither the answer nor its time tells who is registered.
/// </summary>
internal static class AccountMailEndpoints
{
    private const string BadToken = "is invalid, expired or already used";

    public static RouteGroupBuilder MapAccountMail(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/auth").WithTags("Auth").WithBodyLimit(BodyLimit.Account);
        group.MapPost("/verify-email", VerifyAsync).AllowAnonymous()
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/verify-email/resend", ResendAsync).RequireAuthorization(Policies.User)
            .Produces<MailAccepted>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/password-reset", ResetAsync).AllowAnonymous()
            .Produces<MailAccepted>(StatusCodes.Status202Accepted).ProducesValidationProblem().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/password-reset/confirm", ConfirmResetAsync).AllowAnonymous()
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGroup("/me").WithTags("Me").RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account)
            .MapPost("/email", ChangeEmailAsync).Produces<MailAccepted>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        Unsubscribes.MapUnsubscribe(api);
        return group;
    }

    /// <summary>The answer of an endpoint that needs mail on a deployment without it.</summary>
    internal static IResult Off() => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Mail is not configured",
        detail: "This deployment sends no e-mail (StreamVerse:ControlPlane:Mail:Host is not set), so e-mail verification and password reset are unavailable.");

    private static async Task<IResult> VerifyAsync(VerifyEmailRequest request, Database database, MailQueue queue, AccountTokens tokens, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return Off();
        }

        if (tokens.IsAuthentic(TokenPurpose.ChangeEmail, request.Token))
        {
            return await ChangeConfirmedAsync(request.Token!, database, tokens, time, cancellationToken).ConfigureAwait(false);
        }

        if (!tokens.IsAuthentic(TokenPurpose.VerifyEmail, request.Token))
        {
            return new Validation().Add("token", BadToken).Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var used = await tokens.ConsumeInAsync(db, TokenPurpose.VerifyEmail, request.Token!, cancellationToken).ConfigureAwait(false);

        // A link mailed to an address the account no longer has verifies nothing (and is used up).
        if (used is null || await db.ExecAsync(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, @now) WHERE id = @u AND email = @e AND deleted_at IS NULL",
                [("now", time.GetUtcNow()), ("u", used.UserId), ("e", used.Email)], cancellationToken).ConfigureAwait(false) == 0)
        {
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new Validation().Add("token", BadToken).Result();
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The link of an e-mail change (<see cref="ChangeEmailAsync"/>): the account moves to the address the token was mailed to,
    /// verified by following it. One conditional UPDATE that also requires the address to be free: an address taken since the
    /// request answers 409 (only the holder of that mailbox's link can learn it), and the unique index settles a race. The
    /// account's other change links die with this one; sessions stay (the account is the same, its mailbox proved).
    /// </summary>
    private static async Task<IResult> ChangeConfirmedAsync(string token, Database database, AccountTokens tokens, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var used = await tokens.ConsumeInAsync(db, TokenPurpose.ChangeEmail, token, cancellationToken).ConfigureAwait(false);
        if (used is null)
        {
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new Validation().Add("token", BadToken).Result();
        }

        int changed;
        try
        {
            changed = await db.ExecAsync(
                """
                UPDATE users SET email = @e, email_verified_at = @now
                WHERE id = @u AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email = @e AND o.id <> @u)
                """,
                [("e", used.Email), ("now", time.GetUtcNow()), ("u", used.UserId)], cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException e) when (e.SqlState == "23505" || e is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 19 })
        {
            return TakenMeanwhile();
        }

        if (changed == 0)
        {
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            return TakenMeanwhile();
        }

        await tokens.VoidInAsync(db, TokenPurpose.ChangeEmail, used.UserId, cancellationToken).ConfigureAwait(false);
        await tokens.VoidInAsync(db, TokenPurpose.VerifyEmail, used.UserId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();

        static IResult TakenMeanwhile() => Problems.Conflict("This e-mail address belongs to another account now; the change was not made.");
    }

    /// <summary>
    /// <c>POST /me/email {newEmail, password}</c>: after re-authentication (throttled like a login), a link to the new address
    /// and a notice to the current one; the account keeps its address until the link is followed. The answer is the same 202
    /// whether or not the new address is free: an address that has an account gets the "already registered" notice instead of a
    /// link, as registration does, so this endpoint tells no more than registration about who is registered.
    /// </summary>
    private static async Task<IResult> ChangeEmailAsync(ChangeEmailRequest request, HttpContext context, Database database, MailQueue queue, AccountTokens tokens,
        MailThrottle throttle, PasswordHasher hasher, LoginThrottle loginThrottle, IOptions<MailOptions> options, CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return Off();
        }

        var caller = Caller.Require(context.User);
        var v = new Validation();
        var newEmail = AccountRules.Email(v, request.NewEmail, "newEmail");
        AccountRules.PasswordToCheck(v, "password", request.Password);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return Problems.NotFound("account");
        }

        if (string.Equals(user.Email, newEmail, StringComparison.Ordinal))
        {
            return new Validation().Add("newEmail", "is this account's address already").Result();
        }

        if (await MeEndpoints.CheckPasswordAsync(user, "password", request.Password!, context, hasher, loginThrottle, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return refused;
        }

        if ((throttle.TryAcquireAddress(context.Connection.RemoteIpAddress) ?? throttle.TryAcquireEmail(TokenPurpose.ChangeEmail, newEmail)) is { } wait)
        {
            return AuthEndpoints.TooMany(context, wait, "Too many e-mail change requests; try again later.");
        }

        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<long?>("SELECT 1 FROM users WHERE email = @e", [("e", newEmail)], cancellationToken).ConfigureAwait(false) is null)
        {
            var issued = await tokens.IssueInAsync(db, TokenPurpose.ChangeEmail, user.Id, newEmail, options.Value.VerificationTokenLifetime, cancellationToken).ConfigureAwait(false);
            await queue.EnqueueInAsync(db, MailTemplate.ChangeEmail, newEmail, new MailPayload(issued.TokenId, issued.ExpiresAt), cancellationToken).ConfigureAwait(false);
        }
        else if (throttle.TryAcquireEmail(MailTemplate.AlreadyRegistered, newEmail) is null)
        {
            await queue.EnqueueInAsync(db, MailTemplate.AlreadyRegistered, newEmail, new MailPayload(null, null), cancellationToken).ConfigureAwait(false);
        }

        await queue.EnqueueInAsync(db, MailTemplate.EmailChangeRequested, user.Email,
            new MailPayload(null, null, Lines: ["Someone signed in to your StreamVerse account (@" + user.Handle + ") asked to change its e-mail address to " + newEmail + "."]),
            cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        queue.Wake();
        return TypedResults.Accepted((string?)null, new MailAccepted("accepted",
            "If " + newEmail + " can be used, a confirmation link is on its way to it; the account keeps its current address until the link is followed."));
    }

    private static async Task<IResult> ResendAsync(HttpContext context, Database database, MailQueue queue, AccountTokens tokens, MailThrottle throttle,
        IOptions<MailOptions> options, CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return Off();
        }

        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return Problems.NotFound("account");
        }

        if (user.EmailVerifiedAt is not null)
        {
            return Problems.Conflict("The e-mail address of this account is verified already.");
        }

        if ((throttle.TryAcquireAddress(context.Connection.RemoteIpAddress) ?? throttle.TryAcquireEmail(TokenPurpose.VerifyEmail, user.Email)) is { } wait)
        {
            return AuthEndpoints.TooMany(context, wait, "Too many verification mails; try again later.");
        }

        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await QueueVerificationInAsync(db, queue, tokens, options.Value, user.Id, user.Email, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        queue.Wake();
        return TypedResults.Accepted((string?)null, new MailAccepted("accepted", "A new verification link is on its way to " + user.Email + "."));
    }

    /// <summary>Issues a verification token and queues its mail, inside the caller's transaction (registration, resend).</summary>
    internal static async Task QueueVerificationInAsync(DbSession db, MailQueue queue, AccountTokens tokens, MailOptions options, string userId, string email,
        CancellationToken cancellationToken)
    {
        var issued = await tokens.IssueInAsync(db, TokenPurpose.VerifyEmail, userId, email, options.VerificationTokenLifetime, cancellationToken).ConfigureAwait(false);
        await queue.EnqueueInAsync(db, MailTemplate.VerifyEmail, email, new MailPayload(issued.TokenId, issued.ExpiresAt), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IResult> ResetAsync(PasswordResetRequest request, HttpContext context, Database database, MailQueue queue, AccountTokens tokens,
        MailThrottle throttle, IOptions<MailOptions> options, CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return Off();
        }

        var v = new Validation();
        var email = AccountRules.Email(v, request.Email);
        if (!v.IsValid)
        {
            return v.Result();
        }

        if (throttle.TryAcquireAddress(context.Connection.RemoteIpAddress) is { } wait)
        {
            return AuthEndpoints.TooMany(context, wait, "Too many password-reset requests from this address; try again later.");
        }

        // Past the per-address limit the answer is the same 202 whatever happens: a limit reached for an e-mail says
        // only that someone asked for it often, not that it is registered (it is counted either way).
        if (throttle.TryAcquireEmail(TokenPurpose.PasswordReset, email) is null)
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            var issued = await tokens.IssueForEmailInAsync(db, TokenPurpose.PasswordReset, email, options.Value.ResetTokenLifetime, cancellationToken).ConfigureAwait(false);
            await queue.EnqueueForEmailInAsync(db, MailTemplate.PasswordReset, email, new MailPayload(issued.TokenId, issued.ExpiresAt), cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            queue.Wake();
        }

        return TypedResults.Accepted((string?)null, new MailAccepted("accepted", "If an account has this e-mail, a link to reset its password is on its way."));
    }

    private static async Task<IResult> ConfirmResetAsync(PasswordResetConfirmRequest request, HttpContext context, Database database, MailQueue queue, AccountTokens tokens,
        PasswordHasher hasher, Sessions sessions, PlaybackRevocations playbackRevocations, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return Off();
        }

        var v = new Validation();
        AccountRules.Password(v, "newPassword", request.NewPassword);
        if (!tokens.IsAuthentic(TokenPurpose.PasswordReset, request.Token))
        {
            v.Add("token", BadToken);
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        // Hashed before the transaction: SQLite's write lock is not held through an Argon2id run. Only a token we
        // issued gets this far (its MAC), so a stranger cannot make the daemon hash for nothing.
        string hash;
        try
        {
            hash = await hasher.HashAsync(request.NewPassword!, HashPriority.SignIn, cancellationToken).ConfigureAwait(false);
        }
        catch (Argon2BusyException e)
        {
            return AuthEndpoints.Busy(context, e);
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var used = await tokens.ConsumeInAsync(db, TokenPurpose.PasswordReset, request.Token!, cancellationToken).ConfigureAwait(false);
        if (used is null)
        {
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new Validation().Add("token", BadToken).Result();
        }

        // Following the link proves the mailbox too: the address is verified if it is still the account's.
        await db.ExecAsync(
            """
            UPDATE users SET password_hash = @p,
                email_verified_at = CASE WHEN email = @e THEN COALESCE(email_verified_at, @now) ELSE email_verified_at END
            WHERE id = @u AND deleted_at IS NULL
            """,
            [("p", hash), ("e", used.Email), ("now", time.GetUtcNow()), ("u", used.UserId)], cancellationToken).ConfigureAwait(false);

        // Every other reset link of the account dies with this one; whoever held the old password may hold a session
        // or a playback token: all end, as on a password change and a role change.
        await tokens.VoidInAsync(db, TokenPurpose.PasswordReset, used.UserId, cancellationToken).ConfigureAwait(false);
        await sessions.RevokeAllInAsync(db, used.UserId, cancellationToken).ConfigureAwait(false);
        await playbackRevocations.VoidViewerInAsync(db, used.UserId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
