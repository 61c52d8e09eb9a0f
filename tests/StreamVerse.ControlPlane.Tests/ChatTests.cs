using Microsoft.AspNetCore.SignalR;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Live chat through the real socket (SignalR .NET client) and its HTTP routes, on both databases.</summary>
public abstract class ChatTests(ControlPlaneApp app)
{
    [Fact]
    public async Task Anonymous_sockets_read_and_signed_in_accounts_write_and_the_chat_replays_by_media_time()
    {
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner, startedAgo: TimeSpan.FromHours(1));

        await using var viewer = await ChatClient.ConnectAsync(app.BaseUrl);
        var joined = await viewer.JoinAsync(video);
        Assert.True(joined.GetProperty("open").GetBoolean());
        Assert.Empty(joined.GetProperty("messages").EnumerateArray());
        Assert.Equal("sign-in-required", await viewer.RefusedAsync(video, "hello"));

        await using var author = await ChatClient.ConnectAsync(app.BaseUrl, writer.AccessToken);
        await author.JoinAsync(video);
        var sent = await author.SendAsync(video, "first 🎉");
        var seen = await viewer.NextAsync("chat.message");
        Assert.Equal(sent.GetProperty("id").GetString(), seen.GetProperty("id").GetString());
        Assert.Equal("first 🎉", seen.GetProperty("text").GetString());
        Assert.Equal(writer.Id, seen.GetProperty("author").GetProperty("id").GetString());

        // No ingest on this daemon for the video: media time counts from the broadcast's start (an hour ago).
        var mediaTime = seen.GetProperty("mediaTime").GetDouble();
        Assert.InRange(mediaTime, 3600, 3600 + 600);
        for (var i = 0; i < 3; i++)
        {
            await author.SendAsync(video, "more " + i);
        }

        // A late joiner gets the history, oldest first.
        await using var late = await ChatClient.ConnectAsync(app.BaseUrl);
        var history = (await late.JoinAsync(video)).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Equal(["first 🎉", "more 0", "more 1", "more 2"], history);

        // Replay by media-time range, keyset paged; nothing outside the range.
        var from = mediaTime - 1;
        var page1 = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages?from={from:0.###}&to={mediaTime + 3600:0.###}&limit=3");
        Assert.Equal(3, page1.GetProperty("items").GetArrayLength());
        var cursor = page1.GetProperty("nextCursor").GetString();
        var page2 = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages?from={from:0.###}&to={mediaTime + 3600:0.###}&limit=3&cursor={cursor}");
        var all = page1.GetProperty("items").EnumerateArray().Concat(page2.GetProperty("items").EnumerateArray()).Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Equal(4, all.Count);
        Assert.Contains("first 🎉", all);
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("nextCursor").ValueKind);
        var before = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages?from=0&to={from:0.###}");
        Assert.Empty(before.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_private_broadcast_has_no_chat_for_others()
    {
        var owner = await app.NewUserAsync();
        var other = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner, visibility: "private");

        await using var stranger = await ChatClient.ConnectAsync(app.BaseUrl, other.AccessToken);
        var refused = await Assert.ThrowsAsync<HubException>(() => stranger.JoinAsync(video));
        Assert.Contains("not-found", refused.Message, StringComparison.Ordinal);
        Assert.Equal("not-found", await stranger.RefusedAsync(video, "let me in"));
        await using var anonymous = await ChatClient.ConnectAsync(app.BaseUrl);
        await Assert.ThrowsAsync<HubException>(() => anonymous.JoinAsync(video));
        using (var replay = await app.SendAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages", other.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, replay.StatusCode);
        }

        await using var own = await ChatClient.ConnectAsync(app.BaseUrl, owner.AccessToken);
        await own.JoinAsync(video);
        await own.SendAsync(video, "testing alone");
    }

    [Fact]
    public async Task A_recording_replays_but_takes_no_new_messages()
    {
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner);
        await using var client = await ChatClient.ConnectAsync(app.BaseUrl, writer.AccessToken);
        await client.SendAsync(video, "during the broadcast");
        await SetStatusAsync(video, "ended");

        var joined = await client.JoinAsync(video);
        Assert.False(joined.GetProperty("open").GetBoolean());
        Assert.Equal("during the broadcast", joined.GetProperty("messages")[0].GetProperty("text").GetString());
        Assert.Equal("not-live", await client.RefusedAsync(video, "after the end"));
    }

    [Fact]
    public async Task Moderators_delete_messages_for_everyone_and_time_out_and_ban_accounts()
    {
        var owner = await app.NewUserAsync();
        var moderator = await app.NewUserAsync();
        var troll = await app.NewUserAsync();
        var bystander = await app.NewUserAsync();
        var (video, channel) = await ChatClient.LiveVideoAsync(app, owner);

        // Only the owner appoints moderators; a moderator cannot.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/moderators/{moderator.Id}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/moderators/{bystander.Id}", moderator.AccessToken, expect: HttpStatusCode.Forbidden);
        var mods = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/chat/moderators", owner.AccessToken);
        Assert.Equal([moderator.Id], mods.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("userId").GetString()));

        await using var viewer = await ChatClient.ConnectAsync(app.BaseUrl);
        await viewer.JoinAsync(video);
        await using var bad = await ChatClient.ConnectAsync(app.BaseUrl, troll.AccessToken);
        var message = (await bad.SendAsync(video, "rude")).GetProperty("id").GetString()!;
        await viewer.NextAsync("chat.message");

        // A bystander may not delete it; the moderator may, and every socket in the chat is told.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/chat/messages/{message}", bystander.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/chat/messages/{message}", moderator.AccessToken, expect: HttpStatusCode.NoContent);
        var deleted = await viewer.NextAsync("chat.deleted");
        Assert.Equal(message, deleted.GetProperty("messageId").GetString());
        Assert.Empty((await viewer.JoinAsync(video)).GetProperty("messages").EnumerateArray());
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages")).GetProperty("items").EnumerateArray());
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/chat/messages/{message}", moderator.AccessToken, expect: HttpStatusCode.NoContent);

        // A time-out, then a ban, then lifted.
        var timeout = await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/restrictions/{troll.Id}", moderator.AccessToken, new { durationSeconds = 600 });
        Assert.NotEqual(JsonValueKind.Null, timeout.GetProperty("until").ValueKind);
        Assert.Equal("timed-out", await bad.RefusedAsync(video, "again"));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/restrictions/{troll.Id}", moderator.AccessToken, new { });
        Assert.Equal("banned", await bad.RefusedAsync(video, "again"));
        var listed = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/chat/restrictions", owner.AccessToken);
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("items")[0].GetProperty("until").ValueKind);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/restrictions/{owner.Id}", moderator.AccessToken, new { }, HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/restrictions/{troll.Id}", bystander.AccessToken, new { }, HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/chat/restrictions/{troll.Id}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await bad.SendAsync(video, "sorry");

        // A removed moderator moderates no more.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/chat/moderators/{moderator.Id}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/restrictions/{troll.Id}", moderator.AccessToken, new { }, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Slow_mode_subscribers_only_and_blocked_words_hold_writers_but_not_moderators()
    {
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var (video, channel) = await ChatClient.LiveVideoAsync(app, owner);
        await using var viewer = await ChatClient.ConnectAsync(app.BaseUrl);
        await viewer.JoinAsync(video);

        var settings = await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/settings", owner.AccessToken,
            new { slowModeSeconds = 3600, subscribersOnly = false, blockedWords = new[] { "Spam*", "b?d" } });
        Assert.Equal(["spam*", "b?d"], settings.GetProperty("blockedWords").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(3600, (await viewer.NextAsync("chat.settings")).GetProperty("slowModeSeconds").GetInt32());

        await using var client = await ChatClient.ConnectAsync(app.BaseUrl, writer.AccessToken);
        Assert.Equal("blocked-word", await client.RefusedAsync(video, "buy from the SPAMMERS here"));
        Assert.Equal("blocked-word", await client.RefusedAsync(video, "that was bad."));
        await client.SendAsync(video, "badge and spa are fine words");
        Assert.Equal("slow-mode", await client.RefusedAsync(video, "a second one within the hour"));

        // The owner is exempt from slow mode and blocked words.
        await using var own = await ChatClient.ConnectAsync(app.BaseUrl, owner.AccessToken);
        await own.SendAsync(video, "spam spam");
        await own.SendAsync(video, "and again");

        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/settings", owner.AccessToken,
            new { slowModeSeconds = 0, subscribersOnly = true, blockedWords = Array.Empty<string>() });
        Assert.Equal("subscribers-only", await client.RefusedAsync(video, "may I?"));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", writer.AccessToken, new { bell = "all" });
        await client.SendAsync(video, "subscribed now");
        await client.SendAsync(video, "and slow mode is off");
    }

    [Fact]
    public async Task Bad_input_is_a_problem_naming_the_field()
    {
        var owner = await app.NewUserAsync();
        var (video, channel) = await ChatClient.LiveVideoAsync(app, owner);
        var problem = await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/settings", owner.AccessToken,
            new { slowModeSeconds = -1, blockedWords = new[] { "ok", "two words", "**" } }, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("slowModeSeconds", out _));
        Assert.True(errors.TryGetProperty("subscribersOnly", out _));
        Assert.True(errors.TryGetProperty("blockedWords[1]", out _));
        Assert.True(errors.TryGetProperty("blockedWords[2]", out _));
        Assert.False(errors.TryGetProperty("blockedWords[0]", out _));

        var range = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages?from=10&to=5", expect: HttpStatusCode.BadRequest);
        Assert.True(range.GetProperty("errors").TryGetProperty("to", out _));
        var timeout = await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/restrictions/{owner.Id}", owner.AccessToken,
            new { durationSeconds = 0 }, HttpStatusCode.BadRequest);
        Assert.True(timeout.GetProperty("errors").TryGetProperty("durationSeconds", out _));

        await using var client = await ChatClient.ConnectAsync(app.BaseUrl, owner.AccessToken);
        Assert.Equal("invalid-text", await client.RefusedAsync(video, "   "));
        Assert.Equal("invalid-text", await client.RefusedAsync(video, "two\nlines"));
        Assert.Equal("invalid-text", await client.RefusedAsync(video, new string('x', 501)));
    }

    private async Task SetStatusAsync(string video, string status)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        await db.ExecAsync("UPDATE videos SET status = @s WHERE id = @id", [("s", status), ("id", video)], default);
    }
}

[Collection("sqlite")]
public sealed class ChatTestsSqlite(SqliteApp app) : ChatTests(app);

[Collection("postgres")]
public sealed class ChatTestsPostgres(PostgresApp app) : ChatTests(app);
