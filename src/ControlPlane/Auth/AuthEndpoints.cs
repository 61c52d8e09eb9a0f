using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Mail;

namespace StreamVerse.ControlPlane.Auth;

/// <summary>
/// <c>/api/v1/auth</c>: registration, login, refresh, logout.
/// No user enumeration: registration answers 202 with the same body whether or not the e-mail is taken (with mail
/// configured, the new account gets its verification link and the owner of a taken e-mail a notice, both by mail); login answers the same 401 for an unknown e-mail and a
/// wrong password, and spends the same Argon2 time on both. Handles are public, so a taken handle is a 409, the
/// same whoever's e-mail comes with it (a 202 for the owner's would tell which e-mail owns a handle).
/// </summary>
internal static class AuthEndpoints
{
    private const string InvalidCredentials = "The e-mail or password is incorrect.";

    public static RouteGroupBuilder MapAuth(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/auth").WithTags("Auth").WithBodyLimit(BodyLimit.Account);
        group.MapPost("/register", RegisterAsync).AllowAnonymous()
            .Produces<RegisterResponse>(StatusCodes.Status202Accepted).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/login", LoginAsync).AllowAnonymous()
            .Produces<TokenPair>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/refresh", RefreshAsync).AllowAnonymous()
            .Produces<TokenPair>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapPost("/logout", LogoutAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent);
        return group;
    }

    private static async Task<IResult> RegisterAsync(RegisterRequest request, HttpContext context, Database database, PasswordHasher hasher,
        RegistrationThrottle throttle, IOptions<ControlPlaneOptions> options, RegistrationMail mail, TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var email = AccountRules.Email(v, request.Email);
        AccountRules.Password(v, "password", request.Password);
        var handle = AccountRules.Handle(v, request.Handle);
        var displayName = request.DisplayName is null ? handle : v.Text("displayName", request.DisplayName, 1, 100);
        if (!v.IsValid)
        {
            return v.Result();
        }

        if (throttle.TryAcquire(context.Connection.RemoteIpAddress) is { } wait)
        {
            return TooMany(context, wait, "Too many registrations from this address; try again later.");
        }

        // Hash first, whatever happens next: the response time must not depend on the e-mail being taken.
        string hash;
        try
        {
            hash = await hasher.HashAsync(request.Password!, HashPriority.Registration, cancellationToken).ConfigureAwait(false);
        }
        catch (Argon2BusyException e)
        {
            return Busy(context, e);
        }

        var bootstrap = string.Equals(email, EmailAddress.Normalise(options.Value.BootstrapAdminEmail, out _), StringComparison.Ordinal);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);

        // The bootstrap e-mail makes the first admin only: once the e-mail is freed by deleting that account, whoever
        // registers it must not become an admin next to the existing ones. The check is inside the INSERT, so it
        // and the insert are one statement, one transaction.
        var id = Ids.New();
        var inserted = await db.ExecAsync(
            """
            INSERT INTO users (id, email, handle, password_hash, display_name, role, created_at)
            VALUES (@id, @e, @h, @p, @d,
                CASE WHEN @bootstrap AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND deleted_at IS NULL) THEN 'admin' ELSE 'user' END,
                @now)
            ON CONFLICT DO NOTHING
            """,
            [("id", id), ("e", email), ("h", handle), ("p", hash), ("d", displayName), ("bootstrap", bootstrap), ("now", time.GetUtcNow())],
            cancellationToken).ConfigureAwait(false);
        if (inserted == 0 && await db.ScalarAsync<long?>("SELECT 1 FROM users WHERE handle = @h", [("h", handle)], cancellationToken).ConfigureAwait(false) is not null)
        {
            return Problems.Conflict("That handle is taken.");
        }

        // With mail: the new account's verification link, or a word to the owner of a taken e-mail; written in this
        // transaction, sent from the queue after it (the answer is the same either way).
        var queued = await mail.QueueInAsync(db, inserted == 1 ? id : null, email, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (queued)
        {
            mail.Wake();
        }

        return TypedResults.Accepted((string?)null, new RegisterResponse("accepted", "If the e-mail can be registered, the account exists now: log in."));
    }

    private static async Task<IResult> LoginAsync(LoginRequest request, HttpContext context, Database database, PasswordHasher hasher,
        LoginThrottle throttle, Sessions sessions, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var email = AccountRules.Email(v, request.Email);
        AccountRules.PasswordToCheck(v, "password", request.Password);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var ip = context.Connection.RemoteIpAddress;
        using var attempt = await throttle.BeginAsync(email, ip, cancellationToken).ConfigureAwait(false);
        if (attempt.RetryAfter is { } wait)
        {
            return TooMany(context, wait);
        }

        UserRow? user;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            user = await db.SingleAsync($"SELECT {UserRow.Columns} FROM users WHERE email = @e AND deleted_at IS NULL", [("e", email)], UserRow.Read, cancellationToken).ConfigureAwait(false);
        }

        bool ok;
        try
        {
            if (user is null)
            {
                await hasher.VerifyDummyAsync(request.Password!, cancellationToken).ConfigureAwait(false);
                ok = false;
            }
            else
            {
                ok = await hasher.VerifyAsync(request.Password!, user.PasswordHash, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Argon2BusyException e)
        {
            // Nothing was verified: the attempt gives its places back uncounted.
            return Busy(context, e);
        }

        if (!ok)
        {
            attempt.Failed();
            return Problems.Unauthorized(InvalidCredentials);
        }

        attempt.Succeeded();
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            // A banned account (Moderation/) signs in no more; its sessions ended with the ban.
            if (await Moderation.AccountStanding.IsBannedAsync(db, user!.Id, cancellationToken).ConfigureAwait(false))
            {
                return Problems.Forbidden("This account is banned.");
            }
        }

        var pair = await sessions.CreateAsync(user!.Id, user.Role, context.Request.Headers.UserAgent.ToString(), ip?.ToString(), cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(pair);
    }

    internal static IResult TooMany(HttpContext context, TimeSpan wait, string detail = "Too many failed logins; try again later.")
    {
        context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many attempts", detail: detail);
    }

    /// <summary>The Argon2id queue of this kind of request is full (<see cref="Argon2Gate"/>): a moment's wait will do.</summary>
    internal static IResult Busy(HttpContext context, Argon2BusyException e)
    {
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Busy", detail: e.Message);
    }

    private static async Task<IResult> RefreshAsync(RefreshRequest request, Sessions sessions, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RefreshToken) || request.RefreshToken.Length > 100)
        {
            return new Validation().Add("refreshToken", "is required").Result();
        }

        var pair = await sessions.RefreshAsync(request.RefreshToken, cancellationToken).ConfigureAwait(false);
        return pair is null ? Problems.Unauthorized("The refresh token is invalid, expired or revoked.") : TypedResults.Ok(pair);
    }

    private static async Task<IResult> LogoutAsync(HttpContext context, Sessions sessions, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await sessions.RevokeAsync(caller.Id, caller.SessionId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
