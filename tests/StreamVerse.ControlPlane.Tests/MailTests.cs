using MimeKit;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// E-mail verification and password reset against the real SMTP server on loopback: what the daemon mails is read
/// back from the server and parsed with MimeKit, and the link's token is used as a user would.
/// </summary>
public abstract class MailTests(ControlPlaneApp app)
{
    private async Task<(string Email, string Handle)> RegisterAsync()
    {
        var email = ControlPlaneApp.NewEmail();
        var handle = ControlPlaneApp.NewHandle();
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = ControlPlaneApp.Password, handle }, expect: HttpStatusCode.Accepted);
        return (email, handle);
    }

    private static async Task<string> TokenFromMailAsync(string email, string page, int count = 1) =>
        TestSmtpServer.LinkToken((await TestSmtpServer.WaitForAsync(email, count))[count - 1], page);

    private async Task AssertRefusedTokenAsync(string path, object body)
    {
        var problem = await app.JsonAsync(HttpMethod.Post, path, body: body, expect: HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("token", out _), problem.ToString());
    }

    [Fact]
    public async Task Registration_mails_a_verification_link_that_works_once()
    {
        var (email, _) = await RegisterAsync();
        var message = (await TestSmtpServer.WaitForAsync(email)).Single();
        Assert.Equal(email, ((MailboxAddress)message.To.Single()).Address);
        Assert.Equal("no-reply@test.invalid", ((MailboxAddress)message.From.Single()).Address);
        Assert.False(string.IsNullOrEmpty(message.TextBody));
        Assert.False(string.IsNullOrEmpty(message.HtmlBody));
        var token = TestSmtpServer.LinkToken(message, "verify-email");

        var user = await app.LoginAsync(email);
        Assert.False((await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("emailVerified").GetBoolean());
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email", body: new { token }, expect: HttpStatusCode.NoContent);
        Assert.True((await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("emailVerified").GetBoolean());

        await AssertRefusedTokenAsync("api/v1/auth/verify-email", new { token });
    }

    [Fact]
    public async Task Wrong_tampered_and_other_purpose_tokens_are_refused()
    {
        var (email, _) = await RegisterAsync();
        var token = await TokenFromMailAsync(email, "verify-email");
        var dot = token.IndexOf('.', StringComparison.Ordinal);

        await AssertRefusedTokenAsync("api/v1/auth/verify-email", new { token = "nonsense" });
        await AssertRefusedTokenAsync("api/v1/auth/verify-email", new { token = Ids.New() + token[dot..] });
        await AssertRefusedTokenAsync("api/v1/auth/verify-email", new { token = token[..^2] + (token[^2] == 'A' ? "BA" : "AA") });

        // A verification token is no reset token (its MAC covers its purpose).
        await AssertRefusedTokenAsync("api/v1/auth/password-reset/confirm", new { token, newPassword = "an entirely new passphrase" });

        // Still good for what it is for: the refusals used nothing up.
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email", body: new { token }, expect: HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task An_expired_verification_token_is_refused()
    {
        var (email, _) = await RegisterAsync();
        var token = await TokenFromMailAsync(email, "verify-email");
        await ExpireTokenAsync(token);
        await AssertRefusedTokenAsync("api/v1/auth/verify-email", new { token });
        var user = await app.LoginAsync(email);
        Assert.False((await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("emailVerified").GetBoolean());
    }

    private async Task ExpireTokenAsync(string token)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(1, await db.ExecAsync("UPDATE account_tokens SET expires_at = @past WHERE hash = @h",
            [("past", DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1)), ("h", Ids.HashSecret(token))], default));
    }

    [Fact]
    public async Task Password_reset_sets_the_password_once_and_ends_every_session_and_playback_token()
    {
        var (email, _) = await RegisterAsync();
        var user = await app.LoginAsync(email);
        var issuedBefore = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000;
        Assert.False(app.Get<PlaybackRevocations>().Voids("any-video", user.Id, issuedBefore));

        var accepted = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email }, expect: HttpStatusCode.Accepted);
        Assert.Equal("accepted", accepted.GetProperty("status").GetString());
        var token = await TokenFromMailAsync(email, "reset-password", count: 2); // the first is the verification link
        const string NewPassword = "a brand new passphrase";

        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset/confirm", body: new { token, newPassword = NewPassword }, expect: HttpStatusCode.NoContent);

        using (var me = await app.SendAsync(HttpMethod.Get, "api/v1/me", user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = user.RefreshToken }, expect: HttpStatusCode.Unauthorized);
        Assert.True(app.Get<PlaybackRevocations>().Voids("any-video", user.Id, issuedBefore));
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email, password = ControlPlaneApp.Password }, expect: HttpStatusCode.Unauthorized);
        var again = await app.LoginAsync(email, NewPassword);

        // The link proved the mailbox as well.
        Assert.True((await app.JsonAsync(HttpMethod.Get, "api/v1/me", again.AccessToken)).GetProperty("emailVerified").GetBoolean());

        await AssertRefusedTokenAsync("api/v1/auth/password-reset/confirm", new { token, newPassword = "yet another passphrase" });
        await app.LoginAsync(email, NewPassword);
    }

    [Fact]
    public async Task A_used_reset_voids_the_accounts_other_reset_links_and_an_expired_one_is_refused()
    {
        var (email, _) = await RegisterAsync();
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email }, expect: HttpStatusCode.Accepted);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email }, expect: HttpStatusCode.Accepted);
        var received = await TestSmtpServer.WaitForAsync(email, 3);
        var first = TestSmtpServer.LinkToken(received[1], "reset-password");
        var second = TestSmtpServer.LinkToken(received[2], "reset-password");
        Assert.NotEqual(first, second);

        await ExpireTokenAsync(first);
        await AssertRefusedTokenAsync("api/v1/auth/password-reset/confirm", new { token = first, newPassword = "expired link passphrase" });

        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset/confirm", body: new { token = second, newPassword = "the second link's passphrase" },
            expect: HttpStatusCode.NoContent);
        await app.LoginAsync(email, "the second link's passphrase");
    }

    [Fact]
    public async Task A_password_change_voids_the_reset_links_mailed_before_it()
    {
        var (email, _) = await RegisterAsync();
        var user = await app.LoginAsync(email);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email }, expect: HttpStatusCode.Accepted);
        var token = await TokenFromMailAsync(email, "reset-password", count: 2);
        await app.JsonAsync(HttpMethod.Post, "api/v1/me/password", user.AccessToken, new { currentPassword = ControlPlaneApp.Password, newPassword = "changed by the owner" },
            HttpStatusCode.NoContent);
        await AssertRefusedTokenAsync("api/v1/auth/password-reset/confirm", new { token, newPassword = "set through an old link" });
        await app.LoginAsync(email, "changed by the owner");
    }

    [Fact]
    public async Task Password_reset_for_an_unknown_email_answers_the_same_and_queues_nothing()
    {
        var (known, _) = await RegisterAsync();
        var unknown = ControlPlaneApp.NewEmail();
        var forKnown = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email = known }, expect: HttpStatusCode.Accepted);
        var forUnknown = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email = unknown }, expect: HttpStatusCode.Accepted);
        Assert.Equal(forKnown.ToString(), forUnknown.ToString());

        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM mail_queue WHERE recipient = @e", [("e", unknown)], default));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens WHERE email = @e", [("e", unknown)], default));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens WHERE email = @e AND purpose = 'password-reset'", [("e", known)], default));
    }

    [Fact]
    public async Task Tokens_are_stored_hashed_and_the_queue_holds_no_token()
    {
        var (email, _) = await RegisterAsync();
        var token = await TokenFromMailAsync(email, "verify-email");
        await using var db = await app.Get<Database>().OpenAsync(default);
        var payload = await db.ScalarAsync<string>("SELECT payload FROM mail_queue WHERE recipient = @e", [("e", email)], default);
        Assert.DoesNotContain(token, payload!, StringComparison.Ordinal);
        Assert.DoesNotContain(token[(token.IndexOf('.', StringComparison.Ordinal) + 1)..], payload!, StringComparison.Ordinal);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens WHERE hash = @h", [("h", Ids.HashSecret(token))], default));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens WHERE hash = @t", [("t", token)], default));
    }

    [Fact]
    public async Task Resend_is_limited_per_email_and_refused_once_verified()
    {
        var (email, _) = await RegisterAsync();
        var user = await app.LoginAsync(email);

        // MessagesPerEmail is 3: the registration's and two more.
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email/resend", user.AccessToken, expect: HttpStatusCode.Accepted);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email/resend", user.AccessToken, expect: HttpStatusCode.Accepted);
        using (var limited = await app.SendAsync(HttpMethod.Post, "api/v1/auth/verify-email/resend", user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.NotNull(limited.Headers.RetryAfter);
        }

        // Every link sent works until one is used.
        var token = await TokenFromMailAsync(email, "verify-email", count: 3);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email", body: new { token }, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email/resend", user.AccessToken, expect: HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Registering_a_taken_email_tells_its_owner_by_mail_and_the_caller_nothing()
    {
        var (email, _) = await RegisterAsync();
        var first = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = ControlPlaneApp.NewEmail(), password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() },
            expect: HttpStatusCode.Accepted);
        var again = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() },
            expect: HttpStatusCode.Accepted);
        Assert.Equal(first.ToString(), again.ToString());
        var notice = (await TestSmtpServer.WaitForAsync(email, 2))[1];
        Assert.Contains("already has one", notice.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_claimed_by_a_sender_that_died_is_sent_once_its_lease_runs_out()
    {
        var (email, _) = await RegisterAsync();
        await TestSmtpServer.WaitForAsync(email);
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            // As a daemon that claimed the message and died before sending it leaves the row.
            await db.ExecAsync(
                """
                INSERT INTO mail_queue (template, recipient, payload, created_at, run_after, attempts, lease_owner, lease_expires_at)
                VALUES ('already-registered', @e, '{}', @t, @t, 1, 'mail:dead', @expired)
                """,
                [("e", email), ("t", DateTimeOffset.UtcNow - TimeSpan.FromMinutes(3)), ("expired", DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1))], default);
        }

        var notice = (await TestSmtpServer.WaitForAsync(email, 2))[1];
        Assert.Contains("already has one", notice.TextBody, StringComparison.Ordinal);
        await using var check = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(2L, await check.ScalarAsync<long>("SELECT attempts FROM mail_queue WHERE recipient = @e AND template = 'already-registered' AND sent_at IS NOT NULL",
            [("e", email)], default));
    }

    [Fact]
    public async Task An_unsubscribe_link_works_without_signing_in_for_its_account_and_kind_only()
    {
        var (email, _) = await RegisterAsync();
        var user = await app.LoginAsync(email);
        var other = await app.NewUserAsync();
        var links = app.Get<StreamVerse.ControlPlane.Mail.Unsubscribes>();
        var url = new Uri(links.Url(user.Id, "comment-reply"));
        Assert.StartsWith("https://app.test.invalid/unsubscribe?", url.ToString(), StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        var sig = query["sig"]!;

        async Task<HttpResponseMessage> Post(string u, string kind, string s) =>
            await app.SendAsync(HttpMethod.Post, $"api/v1/mail/unsubscribe?user={Uri.EscapeDataString(u)}&kind={Uri.EscapeDataString(kind)}&sig={Uri.EscapeDataString(s)}");

        foreach (var (u, kind, s) in new[] { (other.Id, "comment-reply", sig), (user.Id, "new-video", sig), (user.Id, "comment-reply", sig[..^2] + (sig[^2] == 'A' ? "BA" : "AA")) })
        {
            using var refused = await Post(u, kind, s);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("\"sig\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.False(await StreamVerse.ControlPlane.Mail.Unsubscribes.IsUnsubscribedAsync(db, user.Id, "comment-reply", default));
        }

        for (var i = 0; i < 2; i++)
        {
            using var ok = await Post(query["user"]!, query["kind"]!, sig);
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        }

        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.True(await StreamVerse.ControlPlane.Mail.Unsubscribes.IsUnsubscribedAsync(db, user.Id, "comment-reply", default));
            Assert.False(await StreamVerse.ControlPlane.Mail.Unsubscribes.IsUnsubscribedAsync(db, user.Id, "new-video", default));
            Assert.False(await StreamVerse.ControlPlane.Mail.Unsubscribes.IsUnsubscribedAsync(db, other.Id, "comment-reply", default));
        }
    }

    [Fact]
    public async Task Bad_input_is_a_problem_naming_the_field()
    {
        var problem = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email = "not an e-mail" }, expect: HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _));
        problem = await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset/confirm", body: new { token = "x.y", newPassword = "short" }, expect: HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("newPassword", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("token", out _));
    }

    [Fact]
    public async Task An_email_change_moves_the_account_when_the_new_address_follows_the_link_and_tells_the_old_one()
    {
        var (email, handle) = await RegisterAsync();
        var user = await app.LoginAsync(email);
        var newEmail = ControlPlaneApp.NewEmail();

        // Bad input names its field; a wrong password is refused like a wrong login.
        var bad = await app.JsonAsync(HttpMethod.Post, "api/v1/me/email", user.AccessToken, new { newEmail = "not an address", password = ControlPlaneApp.Password },
            HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("newEmail", out _), bad.ToString());
        var wrong = await app.JsonAsync(HttpMethod.Post, "api/v1/me/email", user.AccessToken, new { newEmail, password = "not the password" }, HttpStatusCode.BadRequest);
        Assert.True(wrong.GetProperty("errors").TryGetProperty("password", out _), wrong.ToString());
        var same = await app.JsonAsync(HttpMethod.Post, "api/v1/me/email", user.AccessToken, new { newEmail = email.ToUpperInvariant(), password = ControlPlaneApp.Password },
            HttpStatusCode.BadRequest);
        Assert.True(same.GetProperty("errors").TryGetProperty("newEmail", out _), same.ToString());

        await app.JsonAsync(HttpMethod.Post, "api/v1/me/email", user.AccessToken, new { newEmail, password = ControlPlaneApp.Password }, HttpStatusCode.Accepted);
        var link = (await TestSmtpServer.WaitForAsync(newEmail)).Single();
        Assert.Equal(newEmail, ((MailboxAddress)link.To.Single()).Address);
        var token = TestSmtpServer.LinkToken(link, "verify-email");

        // The old address hears of it (the verification mail of the registration came first), and keeps the account until the link is followed.
        var notice = (await TestSmtpServer.WaitForAsync(email, 2))[1];
        Assert.Contains(newEmail, notice.TextBody, StringComparison.Ordinal);
        Assert.Contains("@" + handle, notice.TextBody, StringComparison.Ordinal);
        Assert.Equal(email, (await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("email").GetString());
        await app.LoginAsync(email);

        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email", body: new { token }, expect: HttpStatusCode.NoContent);

        // The session stays; the account has the new address, verified (the link proved the mailbox), and signs in with it only.
        var me = await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken);
        Assert.Equal(newEmail, me.GetProperty("email").GetString());
        Assert.True(me.GetProperty("emailVerified").GetBoolean());
        await app.LoginAsync(newEmail);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email, password = ControlPlaneApp.Password }, expect: HttpStatusCode.Unauthorized);

        // Once only; and a change token is no reset token.
        await AssertRefusedTokenAsync("api/v1/auth/verify-email", new { token });
        await AssertRefusedTokenAsync("api/v1/auth/password-reset/confirm", new { token, newPassword = "an entirely new passphrase" });
    }

    [Fact]
    public async Task An_email_change_to_a_taken_address_answers_as_for_a_free_one_and_a_link_to_an_address_taken_since_is_a_conflict()
    {
        var (email, _) = await RegisterAsync();
        var (taken, _) = await RegisterAsync();
        var user = await app.LoginAsync(email);
        var free = ControlPlaneApp.NewEmail();

        var toTaken = await app.JsonAsync(HttpMethod.Post, "api/v1/me/email", user.AccessToken, new { newEmail = taken, password = ControlPlaneApp.Password },
            HttpStatusCode.Accepted);
        var toFree = await app.JsonAsync(HttpMethod.Post, "api/v1/me/email", user.AccessToken, new { newEmail = free, password = ControlPlaneApp.Password },
            HttpStatusCode.Accepted);
        Assert.Equal(toTaken.GetProperty("status").GetString(), toFree.GetProperty("status").GetString());

        // The taken address's owner gets the registration's notice, with no link that could move anything.
        var toOwner = (await TestSmtpServer.WaitForAsync(taken, 2))[1];
        Assert.DoesNotContain("token=", toOwner.TextBody, StringComparison.Ordinal);
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens WHERE email = @e AND purpose = 'change-email'", [("e", taken)], default));
        }

        // The free address is taken by a registration before its link is followed: 409, nothing changes.
        var token = await TokenFromMailAsync(free, "verify-email");
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = free, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() },
            expect: HttpStatusCode.Accepted);
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/verify-email", body: new { token }, expect: HttpStatusCode.Conflict);
        Assert.Equal(email, (await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("email").GetString());
    }
}

[Collection("sqlite")]
public sealed class MailTestsSqlite(SqliteApp app) : MailTests(app);

[Collection("postgres")]
public sealed class MailTestsPostgres(PostgresApp app) : MailTests(app);
