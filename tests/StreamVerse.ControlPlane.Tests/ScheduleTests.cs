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
