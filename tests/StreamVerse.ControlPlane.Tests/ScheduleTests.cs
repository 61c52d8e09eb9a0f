using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Scheduled publishing (issue 16): private or unlisted until its time, then public; refused in the past; cleared by the owner.</summary>
public abstract class ScheduleTests(ControlPlaneApp app)
{
    private static string Iso(DateTimeOffset t) => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<JsonElement> WaitPublicAsync(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var r = await app.SendAsync(HttpMethod.Get, $"api/v1/videos/{id}");
            if (r.StatusCode == HttpStatusCode.OK)
            {
                var video = await r.Content.ReadFromJsonAsync<JsonElement>();
                if (video.GetProperty("visibility").GetString() == "public")
                {
                    return video;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"video {id} never became public");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_scheduled_video_becomes_public_at_its_time_and_the_owner_can_clear_or_override_it()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var id = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        var path = $"api/v1/videos/{id}/schedule";

        var past = await app.JsonAsync(HttpMethod.Put, path, owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddMinutes(-1)) }, HttpStatusCode.BadRequest);
        Assert.Equal("must be in the future", past.GetProperty("errors").GetProperty("publishAt")[0].GetString());
        await app.JsonAsync(HttpMethod.Put, path, owner.AccessToken, new { }, HttpStatusCode.BadRequest);
        var publicOne = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{publicOne}/schedule", owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)) }, HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Put, path, (await app.NewUserAsync()).AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)) }, HttpStatusCode.NotFound);

        // Scheduled an hour ahead, then cleared: it stays private.
        var later = DateTimeOffset.UtcNow.AddHours(1);
        var scheduled = await app.JsonAsync(HttpMethod.Put, path, owner.AccessToken, new { publishAt = Iso(later) });
        Assert.Equal(later.ToUnixTimeSeconds(), scheduled.GetProperty("publishAt").GetDateTimeOffset().ToUnixTimeSeconds());
        await app.JsonAsync(HttpMethod.Delete, path, owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("publishAt").ValueKind);

        // Scheduled a moment ahead: hidden until then, public after, the schedule gone.
        await app.JsonAsync(HttpMethod.Put, path, owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddSeconds(2)) });
        var published = await WaitPublicAsync(id);
        Assert.Equal(JsonValueKind.Null, published.GetProperty("publishAt").ValueKind);
        // Its first publication is written to the outbox with the flip (what notifies subscribers of a new video).
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.Equal(1L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE type = 'videos.video-published.v1' AND subject_id = @v", [("v", id)], default));
        }

        var list = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}&limit=100");
        Assert.Contains(list.GetProperty("items").EnumerateArray(), v => v.GetProperty("id").GetString() == id);

        // The owner's own visibility change wins over a pending schedule.
        var unlisted = (await app.NewVideoAsync(owner, channel, "unlisted", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{unlisted}/schedule", owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)) });
        var made = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{unlisted}", owner.AccessToken, new { visibility = "premium" });
        Assert.Equal(JsonValueKind.Null, made.GetProperty("publishAt").ValueKind);
    }

    [Fact]
    public async Task A_premiere_announces_itself_opens_its_chat_before_the_video_and_gives_everyone_the_same_start()
    {
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);

        // Only a ready video premieres.
        var draft = (await app.NewVideoAsync(owner, channel, "private")).GetProperty("id").GetString()!;
        var refused = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{draft}/schedule", owner.AccessToken,
            new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)), premiere = true }, HttpStatusCode.Conflict);
        Assert.Contains("ready", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{draft}/premiere", expect: HttpStatusCode.NotFound);

        var id = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET duration_seconds = 3600 WHERE id = @id", [("id", id)], default);
        }

        var at = DateTimeOffset.UtcNow.AddSeconds(3);
        var scheduled = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{id}/schedule", owner.AccessToken, new { publishAt = Iso(at), premiere = true });
        Assert.Equal(at.ToUnixTimeSeconds(), scheduled.GetProperty("premiereAt").GetDateTimeOffset().ToUnixTimeSeconds());

        // Before the time: the video is still private, but its premiere and its chat are everyone's.
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", expect: HttpStatusCode.NotFound);
        var upcoming = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/premiere");
        Assert.Equal("upcoming", upcoming.GetProperty("state").GetString());
        Assert.Equal(0, upcoming.GetProperty("positionSeconds").GetDouble());
        Assert.True(upcoming.GetProperty("chatOpen").GetBoolean());
        Assert.True(upcoming.GetProperty("premiereAt").GetDateTimeOffset() > upcoming.GetProperty("serverTime").GetDateTimeOffset());

        await using var viewer = await ChatClient.ConnectAsync(app.BaseUrl);
        Assert.True((await viewer.JoinAsync(id)).GetProperty("open").GetBoolean());
        await using var author = await ChatClient.ConnectAsync(app.BaseUrl, writer.AccessToken);
        await author.JoinAsync(id);
        var early = await author.SendAsync(id, "waiting for it");
        Assert.Equal(0, early.GetProperty("mediaTime").GetDouble()); // before the premiere: the start of the replay

        // At the time: public, playing for everyone from the same position, the chat still open and stamped from the premiere's start.
        await WaitPublicAsync(id);
        var playing = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/premiere");
        Assert.Equal("playing", playing.GetProperty("state").GetString());
        var position = playing.GetProperty("positionSeconds").GetDouble();
        Assert.Equal((playing.GetProperty("serverTime").GetDateTimeOffset() - playing.GetProperty("premiereAt").GetDateTimeOffset()).TotalSeconds, position, 3);
        Assert.True(position > 0);
        var during = await author.SendAsync(id, "it started");
        Assert.True(during.GetProperty("mediaTime").GetDouble() > 0);
        Assert.Equal(at.ToUnixTimeSeconds(), (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}")).GetProperty("premiereAt").GetDateTimeOffset().ToUnixTimeSeconds());

        // After its duration: an ordinary video whose chat is replay only.
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET duration_seconds = 1 WHERE id = @id", [("id", id)], default);
        }

        // It ends a second after the premiere's start, which may be less than a second ago (the publisher can be that quick).
        var state = "";
        for (var i = 0; i < 100 && state != "ended"; i++)
        {
            state = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/premiere")).GetProperty("state").GetString()!;
            if (state != "ended")
            {
                Assert.Equal("playing", state);
                await Task.Delay(100);
            }
        }

        Assert.Equal("ended", state);
        Assert.Equal("not-live", await author.RefusedAsync(id, "too late"));
        var replay = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/chat/messages?from=0&to=3600");
        Assert.Equal(["waiting for it", "it started"], replay.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList());
    }

    [Fact]
    public async Task A_cancelled_premiere_is_gone_and_its_chat_closed_to_others()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var id = (await app.NewVideoAsync(owner, channel, "unlisted", playable: true)).GetProperty("id").GetString()!;
        var privateOne = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{id}/schedule", owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)), premiere = true });
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{privateOne}/schedule", owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)), premiere = true });
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/premiere");

        // Cleared by the owner, or by another visibility: no premiere left.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{id}/schedule", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("premiereAt").ValueKind);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/premiere", expect: HttpStatusCode.NotFound);
        var premium = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{privateOne}", owner.AccessToken, new { visibility = "premium" });
        Assert.Equal(JsonValueKind.Null, premium.GetProperty("premiereAt").ValueKind);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{privateOne}/premiere", expect: HttpStatusCode.NotFound);

        // A plain scheduled publication is no premiere: its private video's chat does not exist for others.
        var plain = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{plain}/schedule", owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)) });
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{plain}/premiere", expect: HttpStatusCode.NotFound);
        await using var stranger = await ChatClient.ConnectAsync(app.BaseUrl);
        var error = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => stranger.JoinAsync(plain));
        Assert.Contains("not-found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schedule_that_fell_due_while_the_daemon_was_down_is_published_when_it_starts()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var id = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{id}/schedule", owner.AccessToken, new { publishAt = Iso(DateTimeOffset.UtcNow.AddHours(1)) });

        await app.RestartAsync(async () =>
        {
            var database = new Database(
                Microsoft.Extensions.Options.Options.Create(new DatabaseOptions { Provider = app.Provider, ConnectionString = app.ConnectionString }),
                Microsoft.Extensions.Options.Options.Create(new ControlPlaneOptions { DataPath = app.DataDir }));
            await using var db = await database.OpenAsync(default);
            await db.ExecAsync("UPDATE videos SET publish_at = @t WHERE id = @id", [("t", DateTimeOffset.UtcNow.AddMinutes(-5)), ("id", id)], default);
        });

        await WaitPublicAsync(id);
    }
}

[Collection("sqlite")]
public sealed class ScheduleTestsSqlite(SqliteApp app) : ScheduleTests(app);

[Collection("postgres")]
public sealed class ScheduleTestsPostgres(PostgresApp app) : ScheduleTests(app);
