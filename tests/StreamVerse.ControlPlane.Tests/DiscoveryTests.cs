using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Feeds and search (issue 20) on both engines: what a list may show (nothing private, unlisted, premium, draft,
/// processing or failed, in any feed, result, suggestion or count), keyset paging under inserts, typo and prefix search,
/// and the index following every change in the change's own transaction.
/// </summary>
public abstract class DiscoveryTests(ControlPlaneApp app)
{
    /// <summary>A word no other test's data contains: letters only (the index keeps letters and digits together as one word).</summary>
    private static string Word(int length = 10)
    {
        var bytes = Guid.NewGuid().ToByteArray();
        return "q" + new string(bytes.Take(length - 1).Select(b => (char)('a' + (b % 26))).ToArray());
    }

    private async Task ExecAsync(string sql, params (string, object?)[] args)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        await db.ExecAsync(sql, args, default);
    }

    /// <summary>A video in one of the states a viewer must never see listed (or a listed one: "listed").</summary>
    private async Task<string> VideoAsync(Persona owner, string channel, string state, string title, string[]? tags = null)
    {
        var visibility = state is "private" or "unlisted" or "premium" ? state : "public";
        var playable = state is not ("draft" or "processing" or "failed");
        var id = (await app.NewVideoAsync(owner, channel, visibility, title, tags, playable: playable)).GetProperty("id").GetString()!;
        if (state is "processing" or "failed")
        {
            await ExecAsync("UPDATE videos SET status = @s WHERE id = @id", ("s", state), ("id", id));
        }
        else if (state == "live")
        {
            await ExecAsync("UPDATE videos SET status = 'live', vod_prefix = NULL WHERE id = @id", ("id", id));
        }

        return id;
    }

    private static List<string> Ids(System.Text.Json.JsonElement page, string? inner = null) =>
        [.. page.GetProperty("items").EnumerateArray().Select(i => (inner is null ? i : i.GetProperty(inner)).GetProperty("id").GetString()!)];

    /// <summary>Every page of a list, following its cursors.</summary>
    private async Task<List<string>> AllAsync(string path, string? token = null, int limit = 2, Func<Task>? afterFirstPage = null)
    {
        var ids = new List<string>();
        string? cursor = null;
        var sep = path.Contains('?') ? '&' : '?';
        do
        {
            var page = await app.JsonAsync(HttpMethod.Get, $"{path}{sep}limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), token);
            ids.AddRange(Ids(page));
            cursor = page.GetProperty("nextCursor").ValueKind == System.Text.Json.JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
            if (afterFirstPage is not null)
            {
                await afterFirstPage();
                afterFirstPage = null;
            }
        }
        while (cursor is not null);
        return ids;
    }

    [Fact]
    public async Task No_feed_search_result_suggestion_or_count_shows_a_hidden_video()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var word = Word();
        var tag = Word(8);
        var listed = await VideoAsync(owner, channel, "listed", $"{word} listed", [tag]);
        var live = await VideoAsync(owner, channel, "live", $"{word} live", [tag]);
        var hidden = new List<string>();
        foreach (var state in new[] { "private", "unlisted", "premium", "draft", "processing", "failed" })
        {
            hidden.Add(await VideoAsync(owner, channel, state, $"{word} {state}", [tag]));
        }

        var viewer = await app.NewUserAsync(premium: true);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", viewer.AccessToken);
        foreach (var path in new[] { $"feeds/recent?channel={channel}", $"feeds/hot?channel={channel}", $"feeds/most-liked?channel={channel}",
                     $"feeds/recent?tag={tag}", $"feeds/hot?tag={tag}", $"search/videos?q={word}", $"search/videos?q={word}&sort=date",
                     $"search/videos?q={word}&channel={channel}", "feeds/subscriptions" })
        {
            var ids = await AllAsync("api/v1/" + path, viewer.AccessToken);
            Assert.Equal(new[] { live, listed }.Order(), ids.Where(i => i == listed || i == live || hidden.Contains(i)).Order());
        }

        Assert.Equal([live], await AllAsync($"api/v1/feeds/live?channel={channel}"));
        var suggestions = await app.JsonAsync(HttpMethod.Get, $"api/v1/search/suggest?q={word}&limit=20");
        Assert.Equal(new[] { live, listed }.Order(), suggestions.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("videoId").GetString()!).Order());

        // The channel search counts only its listed videos (two), not the six hidden ones.
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/channels/{channel}", owner.AccessToken, new { name = $"{word} channel" });
        var channels = await app.JsonAsync(HttpMethod.Get, $"api/v1/search/channels?q={word}");
        var hit = Assert.Single(channels.GetProperty("items").EnumerateArray());
        Assert.Equal((channel, 2L), (hit.GetProperty("id").GetString(), hit.GetProperty("videoCount").GetInt64()));
    }

    [Fact]
    public async Task A_video_hidden_after_listing_leaves_every_list_with_the_change()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var word = Word();
        var video = await VideoAsync(owner, channel, "listed", $"{word} soon private");
        Assert.Equal([video], await AllAsync($"api/v1/search/videos?q={word}"));
        Assert.Equal([video], await AllAsync($"api/v1/feeds/recent?channel={channel}"));

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "private" });
        Assert.Empty(await AllAsync($"api/v1/search/videos?q={word}"));
        Assert.Empty(await AllAsync($"api/v1/feeds/recent?channel={channel}"));
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/search/suggest?q={word}")).GetProperty("items").EnumerateArray());

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "public" });
        Assert.Equal([video], await AllAsync($"api/v1/search/videos?q={word}"));
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}", owner.AccessToken, expect: System.Net.HttpStatusCode.NoContent);
        Assert.Empty(await AllAsync($"api/v1/search/videos?q={word}"));
        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM video_search WHERE video_id = @v", [("v", video)], default));
    }

    [Fact]
    public async Task Search_finds_prefixes_and_typos_in_titles_tags_channel_names_and_descriptions()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var word = Word(12);
        var tag = Word(9);
        var channelWord = Word(9);
        var titled = await VideoAsync(owner, channel, "listed", $"Learning {word} quickly");
        var tagged = await VideoAsync(owner, channel, "listed", "something else", [tag]);
        var described = await VideoAsync(owner, channel, "listed", "a third one");
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{described}", owner.AccessToken, new { description = $"all about {word} and more" });

        // Exact word: the title match ranks above the description match.
        Assert.Equal([titled, described], await AllAsync($"api/v1/search/videos?q={word}"));

        // Prefix (the first 5 letters) and upper case.
        Assert.Equal([titled, described], await AllAsync($"api/v1/search/videos?q={word[..5].ToUpperInvariant()}"));

        // A typo: two neighbouring letters swapped in the middle.
        var typo = word[..5] + word[6] + word[5] + word[7..];
        Assert.Contains(titled, await AllAsync($"api/v1/search/videos?q={typo}"));

        // A tag, and a channel name (renamed after the videos were made: the index follows the channel).
        Assert.Equal([tagged], await AllAsync($"api/v1/search/videos?q={tag}"));
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/channels/{channel}", owner.AccessToken, new { name = $"The {channelWord} channel" });
        Assert.Equal(3, (await AllAsync($"api/v1/search/videos?q={channelWord}")).Count);

        // Retitled and retagged: the old words no longer find it, the new ones do.
        var newWord = Word(11);
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{titled}", owner.AccessToken, new { title = $"now {newWord}" });
        Assert.Equal([described], await AllAsync($"api/v1/search/videos?q={word}"));
        Assert.Equal([titled], await AllAsync($"api/v1/search/videos?q={newWord}"));
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{tagged}", owner.AccessToken, new { tags = new[] { newWord } });
        Assert.Empty(await AllAsync($"api/v1/search/videos?q={tag}"));
        Assert.Equal([titled, tagged], await AllAsync($"api/v1/search/videos?q={newWord}"));

        // Autocomplete from the start of a title.
        var suggest = await app.JsonAsync(HttpMethod.Get, $"api/v1/search/suggest?q=now%20{newWord[..3]}");
        Assert.Equal($"now {newWord}", suggest.GetProperty("items")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Search_filters_and_sorts_and_refuses_bad_parameters_by_name()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var other = await app.NewChannelAsync(owner);
        var word = Word();
        var shortOne = await VideoAsync(owner, channel, "listed", $"{word} short");
        var longOne = await VideoAsync(owner, channel, "listed", $"{word} long");
        var live = await VideoAsync(owner, channel, "live", $"{word} live");
        var elsewhere = await VideoAsync(owner, other, "listed", $"{word} elsewhere");
        await ExecAsync("UPDATE videos SET duration_seconds = 30, language = 'fr' WHERE id = @id", ("id", shortOne));
        await ExecAsync("UPDATE videos SET duration_seconds = 3000 WHERE id = @id", ("id", longOne));

        Assert.Equal([live], await AllAsync($"api/v1/search/videos?q={word}&type=live"));
        Assert.Equal([shortOne], await AllAsync($"api/v1/search/videos?q={word}&maxDuration=60"));
        Assert.Equal([longOne], await AllAsync($"api/v1/search/videos?q={word}&minDuration=60"));
        Assert.Equal([shortOne], await AllAsync($"api/v1/search/videos?q={word}&language=fr"));
        Assert.Equal([elsewhere], await AllAsync($"api/v1/search/videos?q={word}&channel={other}"));
        Assert.Equal([elsewhere, live, longOne, shortOne], await AllAsync($"api/v1/search/videos?q={word}&sort=date", limit: 3));
        Assert.Empty(await AllAsync($"api/v1/search/videos?q={word}&from=2999-01-01T00:00:00Z"));

        foreach (var (query, field) in new[] { ("q=ab", "q"), ("q=", "q"), ($"q={word}&sort=views", "sort"), ($"q={word}&type=clip", "type"),
                     ($"q={word}&minDuration=-1", "minDuration"), ($"q={word}&limit=0", "limit"), ($"q={word}&cursor=nonsense", "cursor"),
                     ($"q={word}&language=x", "language"), ($"q={word}&colour=red", "colour") })
        {
            var problem = await app.JsonAsync(HttpMethod.Get, $"api/v1/search/videos?{query}", expect: System.Net.HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{query}: {problem}");
        }

        // A relevance cursor is not a date cursor.
        var first = await app.JsonAsync(HttpMethod.Get, $"api/v1/search/videos?q={word}&limit=1");
        var cursor = Uri.EscapeDataString(first.GetProperty("nextCursor").GetString()!);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/search/videos?q={word}&sort=date&cursor={cursor}", expect: System.Net.HttpStatusCode.BadRequest);
        await app.JsonAsync(HttpMethod.Get, "api/v1/search/suggest?q=a", expect: System.Net.HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Feeds_page_without_duplicates_or_gaps_when_videos_arrive_during_paging()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var word = Word();
        var before = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            before.Add(await VideoAsync(owner, channel, "listed", $"{word} number {i}"));
        }

        foreach (var path in new[] { $"feeds/recent?channel={channel}", $"feeds/hot?channel={channel}", $"feeds/most-liked?channel={channel}",
                     $"search/videos?q={word}", $"search/videos?q={word}&sort=date" })
        {
            string? arrived = null;
            var ids = await AllAsync("api/v1/" + path, afterFirstPage: async () => arrived = await VideoAsync(owner, channel, "listed", $"{word} late arrival"));
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Equal(before.Order(), ids.Where(before.Contains).Order());
            Assert.NotNull(arrived);
        }
    }

    [Fact]
    public async Task Hot_and_most_liked_rank_by_votes_and_hidden_counts_never_rank()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var older = await VideoAsync(owner, channel, "listed", "older, liked");
        var newer = await VideoAsync(owner, channel, "listed", "newer, not liked");
        var hiddenCounts = await VideoAsync(owner, channel, "listed", "reactions off");
        var sameInstant = DateTimeOffset.UtcNow.AddHours(-1);
        await ExecAsync("UPDATE videos SET published_at = @t, like_count = 0 WHERE channel_id = @c", ("t", sameInstant), ("c", channel));
        await ExecAsync("UPDATE videos SET published_at = @t, like_count = 100 WHERE id = @id", ("t", sameInstant.AddMinutes(-30)), ("id", older));
        await ExecAsync("UPDATE videos SET published_at = @t, like_count = 1000, reactions_enabled = FALSE WHERE id = @id",
            ("t", sameInstant.AddMinutes(-1)), ("id", hiddenCounts));

        // 100 votes outweigh half an hour; a creator's hidden likes count for nothing (and keep it out of most liked).
        Assert.Equal([older, newer, hiddenCounts], await AllAsync($"api/v1/feeds/hot?channel={channel}"));
        Assert.Equal([older, newer], await AllAsync($"api/v1/feeds/most-liked?channel={channel}"));
        Assert.Equal(new[] { newer, hiddenCounts, older }.Order(), (await AllAsync($"api/v1/feeds/recent?channel={channel}")).Order());
    }

    [Fact]
    public async Task The_subscriptions_feed_is_the_callers_own()
    {
        var owner = await app.NewUserAsync("creator");
        var followed = await app.NewChannelAsync(owner);
        var notFollowed = await app.NewChannelAsync(owner);
        var a = await VideoAsync(owner, followed, "listed", "followed one");
        var live = await VideoAsync(owner, followed, "live", "followed live");
        var b = await VideoAsync(owner, notFollowed, "listed", "not followed");
        var viewer = await app.NewUserAsync();
        Assert.Empty(await AllAsync("api/v1/feeds/subscriptions", viewer.AccessToken));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{followed}/subscription", viewer.AccessToken);
        Assert.Equal([live, a], await AllAsync("api/v1/feeds/subscriptions", viewer.AccessToken));
        Assert.DoesNotContain(b, await AllAsync("api/v1/feeds/subscriptions", viewer.AccessToken));
        await app.JsonAsync(HttpMethod.Get, "api/v1/feeds/subscriptions", expect: System.Net.HttpStatusCode.Unauthorized);
    }
}

[Collection("sqlite")]
public sealed class DiscoveryTestsSqlite(SqliteApp app) : DiscoveryTests(app);

[Collection("postgres")]
public sealed class DiscoveryTestsPostgres(PostgresApp app) : DiscoveryTests(app);
