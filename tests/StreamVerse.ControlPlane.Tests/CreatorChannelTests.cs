using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>What creators still missed on the channel side (issue 16): paged lists, self-service channels.</summary>
public abstract class CreatorChannelTests(ControlPlaneApp app)
{
    /// <summary>Follows <c>nextCursor</c> from <paramref name="first"/> to the end; every page within <paramref name="limit"/>.</summary>
    private async Task<List<JsonElement>> AllPagesAsync(string first, int limit, string? token = null)
    {
        var items = new List<JsonElement>();
        var url = first;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await app.JsonAsync(HttpMethod.Get, url, token);
            var batch = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(batch.Count, 0, limit);
            items.AddRange(batch);
            if (page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null)
            {
                return items;
            }

            Assert.Equal(limit, batch.Count);
            url = $"{first}&cursor={Uri.EscapeDataString(page.GetProperty("nextCursor").GetString()!)}";
        }

        throw new InvalidOperationException("the cursor never ended");
    }

    [Fact]
    public async Task Channel_and_category_lists_page_by_cursor_instead_of_stopping_at_100()
    {
        var creator = await app.NewUserAsync("creator");
        var mine = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            mine.Add(await app.NewChannelAsync(creator));
        }

        var paged = await AllPagesAsync($"api/v1/channels?owner={creator.Id}&limit=2", 2);
        mine.Reverse(); // newest first
        Assert.Equal(mine, paged.Select(c => c.GetProperty("id").GetString()!));

        // More than the old silent LIMIT 100 across all owners: every channel is reachable.
        for (var i = 0; i < 101; i++)
        {
            await app.NewChannelAsync(creator);
        }

        var all = await AllPagesAsync("api/v1/channels?limit=100", 100);
        Assert.Equal(all.Count, all.Select(c => c.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(106, all.Count(c => c.GetProperty("ownerId").GetString() == creator.Id));

        var admin = await app.AdminAsync();
        var prefix = "pg" + Guid.NewGuid().ToString("N")[..8];
        var names = new[] { prefix + "c", prefix + "a", prefix + "b" };
        foreach (var name in names)
        {
            await app.JsonAsync(HttpMethod.Post, "api/v1/categories", admin.AccessToken, new { name }, HttpStatusCode.Created);
        }

        var categories = await AllPagesAsync("api/v1/categories?limit=1", 1);
        Assert.Equal(names.Order(StringComparer.Ordinal), categories.Select(c => c.GetProperty("name").GetString()!).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
        Assert.Equal(categories.Count, categories.Select(c => c.GetProperty("id").GetInt64()).Distinct().Count());

        // A cursor of one listing is refused by another; limits outside 1..100 are refused by name.
        var channelCursor = (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels?owner={creator.Id}&limit=1")).GetProperty("nextCursor").GetString()!;
        var wrong = await app.JsonAsync(HttpMethod.Get, $"api/v1/categories?cursor={Uri.EscapeDataString(channelCursor)}", expect: HttpStatusCode.BadRequest);
        Assert.True(wrong.GetProperty("errors").TryGetProperty("cursor", out _));
        foreach (var url in new[] { "api/v1/channels?limit=0", "api/v1/categories?limit=101" })
        {
            var bad = await app.JsonAsync(HttpMethod.Get, url, expect: HttpStatusCode.BadRequest);
            Assert.True(bad.GetProperty("errors").TryGetProperty("limit", out _), url);
        }
    }

    [Fact]
    public async Task Stream_key_and_session_lists_page_by_cursor()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var keys = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            keys.Add((await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created)).GetProperty("id").GetString()!);
        }

        keys.Reverse();
        Assert.Equal(keys, (await AllPagesAsync($"api/v1/channels/{channel}/stream-keys?limit=2", 2, creator.AccessToken)).Select(k => k.GetProperty("id").GetString()!));

        var sessions = new List<string> { creator.SessionId };
        for (var i = 0; i < 2; i++)
        {
            sessions.Add((await app.LoginAsync(creator.Email)).SessionId);
        }

        sessions.Reverse();
        Assert.Equal(sessions, (await AllPagesAsync("api/v1/me/sessions?limit=1", 1, creator.AccessToken)).Select(s => s.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Any_account_owns_channels_up_to_the_limit_and_the_creator_role_lifts_it()
    {
        var user = await app.NewUserAsync();
        var channels = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            channels.Add(await app.NewChannelAsync(user));
        }

        var refused = await app.JsonAsync(HttpMethod.Post, "api/v1/channels", user.AccessToken, new { name = "fourth" }, HttpStatusCode.Conflict);
        Assert.Contains("at most 3 channels", refused.GetProperty("detail").GetString()!, StringComparison.Ordinal);

        // The account's own channel takes videos and stream keys without any role; another account's does not.
        var video = (await app.NewVideoAsync(user, channels[0])).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", user.AccessToken, new { title = "renamed" });
        await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channels[0]}/stream-keys", user.AccessToken, expect: HttpStatusCode.Created);
        var other = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", other.AccessToken, new { channelId = channels[0], title = "intruder" }, HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channels[0]}/stream-keys", other.AccessToken, expect: HttpStatusCode.Forbidden);

        // Deleting one makes room again.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channels[2]}", user.AccessToken, expect: HttpStatusCode.NoContent);
        await app.NewChannelAsync(user);

        // Concurrent creations cannot overshoot the limit.
        var racer = await app.NewUserAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            using var r = await app.SendAsync(HttpMethod.Post, "api/v1/channels", racer.AccessToken, new { name = "race " + i });
            return r.StatusCode;
        }));
        Assert.Equal(3, answers.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(5, answers.Count(s => s == HttpStatusCode.Conflict));

        var creator = await app.NewUserAsync("creator");
        for (var i = 0; i < 4; i++)
        {
            await app.NewChannelAsync(creator);
        }
    }
}

[Collection("sqlite")]
public sealed class CreatorChannelTestsSqlite(SqliteApp app) : CreatorChannelTests(app);

[Collection("postgres")]
public sealed class CreatorChannelTestsPostgres(PostgresApp app) : CreatorChannelTests(app);
