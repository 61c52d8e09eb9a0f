using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Notification e-mails through the mail queue to the real SMTP server on loopback: one per notification for the
/// ordinary kinds, one digest per account and kind for the high-volume ones, each with a signed per-kind unsubscribe
/// link that works without signing in.
/// </summary>
public abstract class NotificationMailTests(NotificationsApp app)
{
    private async Task WaitForMailStateDoneAsync(string userId)
    {
        for (var i = 0; ; i++)
        {
            await using (var db = await app.Get<Database>().OpenAsync(default))
            {
                var open = await db.ScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE user_id = @u AND mail_state IN ('due', 'digest')", [("u", userId)], default)
                    + await db.ScalarAsync<long>("SELECT COUNT(*) FROM mail_queue m JOIN users u ON u.email = m.recipient WHERE u.id = @u AND m.sent_at IS NULL AND m.failed_at IS NULL",
                        [("u", userId)], default);
                if (open == 0)
                {
                    return;
                }
            }

            Assert.True(i < 1200, "notification mail still pending");
            await Task.Delay(50);
        }
    }

    /// <summary>The notification mails <paramref name="email"/> received (registration's verification mail is not one).</summary>
    private static List<MimeKit.MimeMessage> NotificationMails(string email) =>
        [.. TestSmtpServer.ReceivedBy(email).Where(m => m.Headers.Contains("List-Unsubscribe"))];

    private static async Task<MimeKit.MimeMessage> WaitForNotificationMailAsync(string email)
    {
        for (var i = 0; ; i++)
        {
            if (NotificationMails(email) is [var first, ..])
            {
                return first;
            }

            Assert.True(i < 1200, $"{email} received no notification mail");
            await Task.Delay(50);
        }
    }

    private static string Link(string? text, string prefix)
    {
        text ??= "";
        var at = text.IndexOf(prefix, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no {prefix} in: {text}");
        var end = text.IndexOfAny(['\n', '\r', '"', ' ', '<', '>'], at);
        return text[at..(end < 0 ? text.Length : end)];
    }

    [Fact]
    public async Task A_reply_is_mailed_with_a_per_kind_unsubscribe_link_that_works_without_signing_in()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public", title: "Cats & <dogs>", playable: true)).GetProperty("id").GetString()!;
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, "api/v1/me/notification-settings", alice.AccessToken, new { settings = new[] { new { kind = "comment-reply", email = true } } });
        var top = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", alice.AccessToken, new { text = "first" }, HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", bob.AccessToken, new { text = "a reply", parentId = top }, HttpStatusCode.Created);

        var mail = await WaitForNotificationMailAsync(alice.Email);
        var bobHandle = await NotificationTests.HandleOf(app, bob);
        Assert.Equal($"@{bobHandle} replied to your comment", mail.Subject);
        Assert.Contains("“Cats & <dogs>”", mail.TextBody);
        Assert.Contains("Cats &amp; &lt;dogs&gt;", mail.HtmlBody);
        Assert.Contains($"https://app.test.invalid/watch?v={video}", mail.TextBody);
        var unsubscribe = Link(mail.TextBody, "https://app.test.invalid/unsubscribe?");
        Assert.Contains("kind=comment-reply", unsubscribe);
        Assert.Contains(unsubscribe.Replace("&", "&amp;"), mail.HtmlBody);
        Assert.Equal("<https://app.test.invalid/api/v1/mail/unsubscribe" + unsubscribe[unsubscribe.IndexOf('?')..] + ">", mail.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", mail.Headers["List-Unsubscribe-Post"]);

        // The link, posted without a token, stops this kind's mails (and the settings say so); the in-app notifications go on.
        await app.JsonAsync(HttpMethod.Post, "api/v1/mail/unsubscribe" + unsubscribe[unsubscribe.IndexOf('?')..], expect: HttpStatusCode.NoContent);
        var settings = await app.JsonAsync(HttpMethod.Get, "api/v1/me/notification-settings", alice.AccessToken);
        Assert.False(settings.GetProperty("settings").EnumerateArray().Single(s => s.GetProperty("kind").GetString() == "comment-reply").GetProperty("email").GetBoolean());
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", bob.AccessToken, new { text = "another reply", parentId = top }, HttpStatusCode.Created);
        await NotificationTests.SettleAsync(app);
        await NotificationTests.WaitForAsync(app, alice, 2);
        await WaitForMailStateDoneAsync(alice.Id);
        Assert.Single(NotificationMails(alice.Email));

        // A link for another kind or account does not pass.
        var forged = unsubscribe[unsubscribe.IndexOf('?')..].Replace("kind=comment-reply", "kind=mention");
        await app.JsonAsync(HttpMethod.Post, "api/v1/mail/unsubscribe" + forged, expect: HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Comments_on_my_videos_are_mailed_as_one_digest_per_period()
    {
        var owner = await app.NewUserAsync("creator");
        await app.JsonAsync(HttpMethod.Put, "api/v1/me/notification-settings", owner.AccessToken, new { settings = new[] { new { kind = "video-comment", email = true } } });
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public", title: "Digest me", playable: true)).GetProperty("id").GetString()!;
        var commenters = new List<Persona> { await app.NewUserAsync(), await app.NewUserAsync(), await app.NewUserAsync() };
        foreach (var c in commenters)
        {
            await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", c.AccessToken, new { text = "a comment" }, HttpStatusCode.Created);
        }

        await NotificationTests.WaitForAsync(app, owner, 3);
        await NotificationTests.SettleAsync(app);
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            // Within the period (an hour here) they wait; once the oldest is older than that, one digest goes.
            Assert.Equal(3, await db.ScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE user_id = @u AND mail_state = 'digest'", [("u", owner.Id)], default));
            Assert.Empty(NotificationMails(owner.Email));
            await db.ExecAsync("UPDATE notifications SET created_at = @then WHERE user_id = @u AND id = (SELECT MIN(id) FROM notifications WHERE user_id = @u)",
                [("then", DateTimeOffset.UtcNow.AddHours(-2)), ("u", owner.Id)], default);
        }

        await WaitForMailStateDoneAsync(owner.Id);
        var digest = Assert.Single(NotificationMails(owner.Email));
        Assert.Equal("3 new comments on your videos", digest.Subject);
        foreach (var c in commenters)
        {
            Assert.Contains($"@{await NotificationTests.HandleOf(app, c)} commented on “Digest me”.", digest.TextBody);
        }

        Assert.Contains("kind=video-comment", Link(digest.TextBody, "https://app.test.invalid/unsubscribe?"));
    }
}

[Collection("notifications-sqlite")]
public sealed class NotificationMailTestsSqlite(NotificationsSqliteApp app) : NotificationMailTests(app);

[Collection("notifications-postgres")]
public sealed class NotificationMailTestsPostgres(NotificationsPostgresApp app) : NotificationMailTests(app);
