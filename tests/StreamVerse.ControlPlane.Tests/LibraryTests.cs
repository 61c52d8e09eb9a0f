using System.Net;
using System.Text.Json;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The viewer's library (issue 20) on both engines: history with resume positions, continue watching, pause and
/// clear; watch later; playlists (visibility, order, moves, paging, counts that hide what the viewer may not watch).</summary>
public abstract class LibraryTests(ControlPlaneApp app)
{
    private async Task<string> PlayableAsync(Persona owner, string channel, string visibility = "public", double duration = 100)
    {
        var id = (await app.NewVideoAsync(owner, channel, visibility, playable: true)).GetProperty("id").GetString()!;
        await using var db = await app.Get<Database>().OpenAsync(default);
        await db.ExecAsync("UPDATE videos SET duration_seconds = @d WHERE id = @id", [("d", duration), ("id", id)], default);
        return id;
    }

    private static List<string> VideoIds(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("video").GetProperty("id").GetString()!)];

    private async Task<List<string>> AllItemsAsync(string path, string? token, int limit = 2)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await app.JsonAsync(HttpMethod.Get, $"{path}?limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), token);
            ids.AddRange(VideoIds(page));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return ids;
    }

    [Fact]
    public async Task History_keeps_the_last_position_continues_unfinished_videos_and_can_be_paused_and_cleared()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var (a, b, c) = (await PlayableAsync(owner, channel), await PlayableAsync(owner, channel), await PlayableAsync(owner, channel));
        var viewer = await app.NewUserAsync();
        var t = viewer.AccessToken;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{a}", t, new { positionSeconds = 10 }, HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{b}", t, new { positionSeconds = 99 }, HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{c}", t, new { positionSeconds = 5 }, HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{a}", t, new { positionSeconds = 42.5 }, HttpStatusCode.NoContent);

        var history = await app.JsonAsync(HttpMethod.Get, "api/v1/me/history", t);
        Assert.Equal([a, c, b], VideoIds(history));
        Assert.Equal(42.5, history.GetProperty("items")[0].GetProperty("positionSeconds").GetDouble());
        Assert.Equal([a, c, b], await AllItemsAsync("api/v1/me/history", t, limit: 1));

        // b is finished (99 of 100 s): not in "continue watching".
        Assert.Equal([a, c], VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/history/continue", t)));

        // Paused: nothing new is recorded, what is there stays.
        Assert.True((await app.JsonAsync(HttpMethod.Put, "api/v1/me/history/settings", t, new { paused = true })).GetProperty("paused").GetBoolean());
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{b}", t, new { positionSeconds = 1 }, HttpStatusCode.NoContent);
        Assert.Equal([a, c, b], VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/history", t)));
        Assert.True((await app.JsonAsync(HttpMethod.Get, "api/v1/me/history/settings", t)).GetProperty("paused").GetBoolean());
        await app.JsonAsync(HttpMethod.Put, "api/v1/me/history/settings", t, new { paused = false });

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/me/history/{c}", t, expect: HttpStatusCode.NoContent);
        Assert.Equal([a, b], VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/history", t)));
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me/history", t, expect: HttpStatusCode.NoContent);
        Assert.Empty(VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/history", t)));

        // Another viewer's history is their own.
        var other = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{a}", other.AccessToken, new { positionSeconds = 3 }, HttpStatusCode.NoContent);
        Assert.Empty(VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/history", t)));
    }

    [Fact]
    public async Task Library_lists_refuse_and_drop_videos_the_viewer_may_not_watch()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var video = await PlayableAsync(owner, channel);
        var secret = await PlayableAsync(owner, channel, "private");
        var draft = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;
        var viewer = await app.NewUserAsync();
        var t = viewer.AccessToken;
        foreach (var hidden in new[] { secret, draft, "nosuchvideo" })
        {
            await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{hidden}", t, new { positionSeconds = 1 }, HttpStatusCode.NotFound);
            await app.JsonAsync(HttpMethod.Put, $"api/v1/me/watch-later/{hidden}", t, expect: HttpStatusCode.NotFound);
        }

        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{video}", t, new { positionSeconds = 1 }, HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/watch-later/{video}", t, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/watch-later/{video}", t, expect: HttpStatusCode.NoContent);
        Assert.Equal([video], VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/watch-later", t)));

        // Made private later: gone from both lists (the rows stay, and come back if it is public again).
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "private" });
        Assert.Empty(VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/history", t)));
        Assert.Empty(VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/watch-later", t)));
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "public" });
        Assert.Equal([video], VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/watch-later", t)));
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/me/watch-later/{video}", t, expect: HttpStatusCode.NoContent);
        Assert.Empty(VideoIds(await app.JsonAsync(HttpMethod.Get, "api/v1/me/watch-later", t)));

        foreach (var body in new object[] { new { }, new { positionSeconds = -1 }, new { positionSeconds = 1e9 } })
        {
            var problem = await app.JsonAsync(HttpMethod.Put, $"api/v1/me/history/{video}", t, body, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("positionSeconds", out _));
        }
    }

    [Fact]
    public async Task Playlists_keep_their_order_through_adds_moves_and_removals_and_page_by_keyset()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var videos = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            videos.Add(await PlayableAsync(owner, channel));
        }

        var me = await app.NewUserAsync();
        var t = me.AccessToken;
        var playlist = await app.JsonAsync(HttpMethod.Post, "api/v1/playlists", t, new { title = "  Mine  ", visibility = "public" }, HttpStatusCode.Created);
        var id = playlist.GetProperty("id").GetString()!;
        Assert.Equal(("Mine", 0L), (playlist.GetProperty("title").GetString(), playlist.GetProperty("itemCount").GetInt64()));
        foreach (var v in videos)
        {
            await app.JsonAsync(HttpMethod.Post, $"api/v1/playlists/{id}/items", t, new { videoId = v });
        }

        var again = await app.JsonAsync(HttpMethod.Post, $"api/v1/playlists/{id}/items", t, new { videoId = videos[0] });
        Assert.Equal(5L, again.GetProperty("itemCount").GetInt64());
        Assert.Equal(videos, await AllItemsAsync($"api/v1/playlists/{id}/items", null));

        // Move the last before the first, the first to the end, then remove the middle one.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/playlists/{id}/items/{videos[4]}/position", t, new { before = videos[0] }, HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/playlists/{id}/items/{videos[0]}/position", t, new { }, HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/playlists/{id}/items/{videos[2]}", t, expect: HttpStatusCode.NoContent);
        Assert.Equal([videos[4], videos[1], videos[3], videos[0]], await AllItemsAsync($"api/v1/playlists/{id}/items", null, limit: 3));

        // Many moves into one gap: the keys run out and the playlist is renumbered, the order holds.
        for (var i = 0; i < 12; i++)
        {
            var (moving, before) = i % 2 == 0 ? (videos[0], videos[3]) : (videos[3], videos[0]);
            await app.JsonAsync(HttpMethod.Put, $"api/v1/playlists/{id}/items/{moving}/position", t, new { before }, HttpStatusCode.NoContent);
        }

        Assert.Equal([videos[4], videos[1], videos[3], videos[0]], await AllItemsAsync($"api/v1/playlists/{id}/items", null));
        var problem = await app.JsonAsync(HttpMethod.Put, $"api/v1/playlists/{id}/items/{videos[0]}/position", t, new { before = videos[2] }, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("before", out _));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/playlists/{id}/items/{videos[2]}/position", t, new { }, HttpStatusCode.NotFound);

        Assert.Equal([id], (await app.JsonAsync(HttpMethod.Get, "api/v1/me/playlists", t)).GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Playlist_visibility_decides_who_sees_it_and_counts_hide_what_a_viewer_may_not_watch()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var open = await PlayableAsync(creator, channel);
        var secret = await PlayableAsync(creator, channel, "private");
        var t = creator.AccessToken;
        var id = (await app.JsonAsync(HttpMethod.Post, "api/v1/playlists", t, new { title = "mixed", visibility = "public" }, HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Post, $"api/v1/playlists/{id}/items", t, new { videoId = open });
        await app.JsonAsync(HttpMethod.Post, $"api/v1/playlists/{id}/items", t, new { videoId = secret });

        // The owner sees both; anyone else one, in the list and in the count.
        Assert.Equal(2L, (await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}", t)).GetProperty("itemCount").GetInt64());
        Assert.Equal(1L, (await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}")).GetProperty("itemCount").GetInt64());
        Assert.Equal([open], VideoIds(await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}/items")));
        Assert.Equal(1L, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/playlists")).GetProperty("items")[0].GetProperty("itemCount").GetInt64());

        // Someone else may not add a private video of the creator's to their own playlist, nor change this one.
        var other = await app.NewUserAsync();
        var theirs = (await app.JsonAsync(HttpMethod.Post, "api/v1/playlists", other.AccessToken, new { title = "theirs" }, HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var refused = await app.JsonAsync(HttpMethod.Post, $"api/v1/playlists/{theirs}/items", other.AccessToken, new { videoId = secret }, HttpStatusCode.BadRequest);
        Assert.True(refused.GetProperty("errors").TryGetProperty("videoId", out _));
        await app.JsonAsync(HttpMethod.Post, $"api/v1/playlists/{id}/items", other.AccessToken, new { videoId = open }, HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/playlists/{id}", other.AccessToken, new { title = "mine now" }, HttpStatusCode.Forbidden);

        // Private: it does not exist for others, nor on the channel page.
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/playlists/{id}", t, new { visibility = "private" });
        await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}", other.AccessToken, expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}/items", expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/playlists/{id}", other.AccessToken, expect: HttpStatusCode.NotFound);
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/playlists")).GetProperty("items").EnumerateArray());

        // Unlisted: readable by link, still not on the channel page.
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/playlists/{id}", t, new { visibility = "unlisted" });
        await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}", other.AccessToken);
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/playlists")).GetProperty("items").EnumerateArray());

        var bad = await app.JsonAsync(HttpMethod.Post, "api/v1/playlists", t, new { title = "", visibility = "friends" }, HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("title", out _) && bad.GetProperty("errors").TryGetProperty("visibility", out _));
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/playlists/{id}", t, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/playlists/{id}", t, expect: HttpStatusCode.NotFound);
    }
}

[Collection("sqlite")]
public sealed class LibraryTestsSqlite(SqliteApp app) : LibraryTests(app);

[Collection("postgres")]
public sealed class LibraryTestsPostgres(PostgresApp app) : LibraryTests(app);
