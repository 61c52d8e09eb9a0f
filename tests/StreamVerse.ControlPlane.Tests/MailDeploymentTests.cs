using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// A daemon whose SMTP server does not answer (a closed loopback port), with the publishing rule on and a tight
/// per-address limit: what the queue does with a message it cannot send, and the rules that do not need delivery.
/// </summary>
public sealed class UnreachableMailApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Mail:Port", StreamVerse.Tests.Shared.TestProcesses.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--StreamVerse:ControlPlane:Mail:MaxAttempts", "2",
        "--StreamVerse:ControlPlane:Mail:RetryBaseDelay", "00:00:00",
        "--StreamVerse:ControlPlane:Mail:RequireVerifiedEmailToPublish", "true",
        "--StreamVerse:ControlPlane:Mail:RequestsPerAddress", "3",
    ];
}

/// <summary>A daemon with no SMTP server configured.</summary>
public sealed class NoMailApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs => ["--StreamVerse:ControlPlane:Mail:Host", ""];
}

public sealed class UnreachableMailTests(UnreachableMailApp app) : IClassFixture<UnreachableMailApp>
{
    [Fact]
    public async Task A_message_that_cannot_be_sent_is_retried_then_given_up_with_the_reason()
    {
        var email = ControlPlaneApp.NewEmail();
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() },
            expect: HttpStatusCode.Accepted);

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            await using var db = await app.Get<Database>().OpenAsync(default);
            var row = await db.SingleAsync("SELECT attempts, failed_at, error, sent_at FROM mail_queue WHERE recipient = @e", [("e", email)],
                (r, d) => new { Attempts = r.GetInt32(0), FailedAt = d.ReadNullableTimestamp(r, 1), Error = r.IsDBNull(2) ? null : r.GetString(2), SentAt = d.ReadNullableTimestamp(r, 3) },
                default);
            Assert.NotNull(row);
            Assert.Null(row.SentAt);
            if (row.FailedAt is not null)
            {
                Assert.Equal(2, row.Attempts);
                Assert.False(string.IsNullOrEmpty(row.Error));
                Assert.DoesNotContain("smtp-test-password", row.Error, StringComparison.Ordinal);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the message was not given up: attempts {row.Attempts}, error {row.Error}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task An_unverified_account_may_not_publish_until_it_verifies()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var refused = await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = channel, title = "t", visibility = "public" },
            HttpStatusCode.Forbidden);
        Assert.Contains("Verify your e-mail", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Forbidden);

        // Verified (as following the link does; delivery is MailTests' subject), the same calls succeed.
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE users SET email_verified_at = @now WHERE id = @id", [("now", DateTimeOffset.UtcNow), ("id", creator.Id)], default);
        }

        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = channel, title = "t", visibility = "public" }, HttpStatusCode.Created);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created);

        // Admins are exempt.
        var admin = await app.AdminAsync();
        var adminChannel = await app.NewChannelAsync(admin);
        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", admin.AccessToken, new { channelId = adminChannel, title = "t", visibility = "public" }, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Reset_requests_are_limited_per_client_address()
    {
        // RequestsPerAddress is 3; this test is the only one here that asks for resets.
        for (var i = 0; i < 3; i++)
        {
            await app.JsonAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email = ControlPlaneApp.NewEmail() }, expect: HttpStatusCode.Accepted);
        }

        using var limited = await app.SendAsync(HttpMethod.Post, "api/v1/auth/password-reset", body: new { email = ControlPlaneApp.NewEmail() });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
    }
}

public sealed class NoMailTests(NoMailApp app) : IClassFixture<NoMailApp>
{
    [Fact]
    public async Task Without_mail_the_endpoints_that_need_it_say_so_and_nothing_is_queued()
    {
        var email = ControlPlaneApp.NewEmail();
        await app.JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() },
            expect: HttpStatusCode.Accepted);
        var user = await app.LoginAsync(email);
        foreach (var (path, token, body) in new (string, string?, object?)[]
        {
            ("api/v1/auth/password-reset", null, new { email }),
            ("api/v1/auth/password-reset/confirm", null, new { token = "a.b", newPassword = "long enough passphrase" }),
            ("api/v1/auth/verify-email", null, new { token = "a.b" }),
            ("api/v1/auth/verify-email/resend", user.AccessToken, null),
        })
        {
            var problem = await app.JsonAsync(HttpMethod.Post, path, token, body, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("Mail:Host", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.False((await app.JsonAsync(HttpMethod.Get, "api/v1/me", user.AccessToken)).GetProperty("emailVerified").GetBoolean());
        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM mail_queue", [], default));

        // Nothing can be verified, so nothing is held back.
        var creator = await app.NewUserAsync("creator");
        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = await app.NewChannelAsync(creator), title = "t", visibility = "public" },
            HttpStatusCode.Created);
    }
}
