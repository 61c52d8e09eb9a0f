using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Channels, videos, categories, tags, stream keys.</summary>
public abstract class ContentTests(ControlPlaneApp app)
{
    [Fact]
    public async Task Creator_manages_channels_others_cannot()
    {
        var creator = await app.NewUserAsync("creator");
        var other = await app.NewUserAsync("creator");
        var id = await app.NewChannelAsync(creator);

        var updated = await app.JsonAsync(HttpMethod.Patch, $"api/v1/channels/{id}", creator.AccessToken, new { description = "about" });
        Assert.Equal("about", updated.GetProperty("description").GetString());
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/channels/{id}", other.AccessToken, new { name = "mine now" }, HttpStatusCode.Forbidden);
        var mine = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels?owner={creator.Id}");
        Assert.Equal(id, Assert.Single(mine.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());

        var admin = await app.AdminAsync();
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/channels/{id}", admin.AccessToken, new { name = "moderated" });
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{id}", other.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{id}", creator.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{id}", expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Video_crud_with_owner_or_admin_checks_and_private_hidden()
    {
        var creator = await app.NewUserAsync("creator");
        var other = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", other.AccessToken, new { channelId = channel, title = "intruder" }, HttpStatusCode.Forbidden);

        var video = await app.NewVideoAsync(creator, channel, "private", "Secret");
        var id = video.GetProperty("id").GetString()!;
        Assert.Equal("draft", video.GetProperty("status").GetString());
        Assert.Equal($"/live/{id}/index.m3u8", video.GetProperty("playbackPath").GetString());

        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", other.AccessToken, expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", creator.AccessToken);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", (await app.AdminAsync()).AccessToken);

        var patched = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{id}", creator.AccessToken,
            new { visibility = "public", language = "pt-BR", description = "d" });
        Assert.Equal("public", patched.GetProperty("visibility").GetString());
        Assert.Equal("pt-BR", patched.GetProperty("language").GetString());
        Assert.Equal("Secret", patched.GetProperty("title").GetString());

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{id}", other.AccessToken, new { title = "x" }, HttpStatusCode.Forbidden);
        var bad = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{id}", creator.AccessToken, new { visibility = "secret", language = "x" }, HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("visibility", out _));
        Assert.True(bad.GetProperty("errors").TryGetProperty("language", out _));

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{id}", other.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{id}", creator.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", creator.AccessToken, expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Tags_are_normalised_associated_and_listed()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var unique = "Zq" + Guid.NewGuid().ToString("N")[..6];
        var video = await app.NewVideoAsync(creator, channel, tags: [$"  {unique}   Live\tMusic ", $"{unique.ToLowerInvariant()} live music", "", "  "], playable: true);
        var tag = $"{unique.ToLowerInvariant()} live music";
        Assert.Equal(new[] { tag }, video.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());

        var tooLong = await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = channel, title = "t", tags = new[] { new string('a', 51) } }, HttpStatusCode.BadRequest);
        Assert.True(tooLong.GetProperty("errors").TryGetProperty("tags", out _));

        var listed = await app.JsonAsync(HttpMethod.Get, $"api/v1/tags?prefix={Uri.EscapeDataString(unique.ToUpperInvariant())}");
        var entry = Assert.Single(listed.EnumerateArray());
        Assert.Equal(tag, entry.GetProperty("name").GetString());
        Assert.Equal(1, entry.GetProperty("videos").GetInt64());

        var byTag = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?tag={Uri.EscapeDataString(tag.ToUpperInvariant())}");
        Assert.Equal(video.GetProperty("id").GetString(), Assert.Single(byTag.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());

        // Replacing the tags replaces the associations.
        var retagged = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video.GetProperty("id").GetString()}", creator.AccessToken, new { tags = new[] { unique + "-other" } });
        Assert.Equal(new[] { unique.ToLowerInvariant() + "-other" }, retagged.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?tag={Uri.EscapeDataString(tag)}")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Tags_only_on_hidden_videos_are_not_listed()
    {
        // The listing counts public videos; a tag that only private, unlisted or premium videos carry would show
        // up with "videos": 0 and give away what those videos are about.
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var unique = "zh" + Guid.NewGuid().ToString("N")[..6];
        foreach (var visibility in new[] { "private", "unlisted", "premium" })
        {
            await app.NewVideoAsync(creator, channel, visibility, tags: [$"{unique} {visibility}", $"{unique} shared"], playable: true);
        }

        await app.NewVideoAsync(creator, channel, tags: [$"{unique} shared"], playable: true);
        await app.NewVideoAsync(creator, channel, tags: [$"{unique} draft"]);
        var other = await app.NewUserAsync();
        foreach (var token in new[] { null, other.AccessToken })
        {
            var listed = await app.JsonAsync(HttpMethod.Get, $"api/v1/tags?prefix={unique}", token);
            var entry = Assert.Single(listed.EnumerateArray());
            Assert.Equal($"{unique} shared", entry.GetProperty("name").GetString());
            Assert.Equal(1, entry.GetProperty("videos").GetInt64());
        }
    }

    [Fact]
    public async Task Categories_are_admin_managed()
    {
        var admin = await app.AdminAsync();
        var creator = await app.NewUserAsync("creator");
        var name = "Cat " + Guid.NewGuid().ToString("N")[..6];
        await app.JsonAsync(HttpMethod.Post, "api/v1/categories", creator.AccessToken, new { name }, HttpStatusCode.Forbidden);
        var cat = await app.JsonAsync(HttpMethod.Post, "api/v1/categories", admin.AccessToken, new { name, description = "d" }, HttpStatusCode.Created);
        var id = cat.GetProperty("id").GetInt64();
        await app.JsonAsync(HttpMethod.Post, "api/v1/categories", admin.AccessToken, new { name }, HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Post, "api/v1/categories", admin.AccessToken, new { name = "" }, HttpStatusCode.BadRequest);
        Assert.Contains((await app.JsonAsync(HttpMethod.Get, "api/v1/categories?limit=100")).GetProperty("items").EnumerateArray(), c => c.GetProperty("id").GetInt64() == id);

        var renamed = await app.JsonAsync(HttpMethod.Put, $"api/v1/categories/{id}", admin.AccessToken, new { name = name + " 2" });
        Assert.Equal(name + " 2", renamed.GetProperty("name").GetString());

        var channel = await app.NewChannelAsync(creator);
        var video = await app.NewVideoAsync(creator, channel, categoryId: id, playable: true);
        var inCat = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?category={id}");
        Assert.Equal(video.GetProperty("id").GetString(), Assert.Single(inCat.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = channel, title = "t", categoryId = 987654321 }, HttpStatusCode.BadRequest);

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/categories/{id}", admin.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/categories/{id}", expect: HttpStatusCode.NotFound);
        var orphan = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video.GetProperty("id").GetString()}");
        Assert.Equal(JsonValueKind.Null, orphan.GetProperty("categoryId").ValueKind);
    }

    [Theory]
    [InlineData("newest")]
    [InlineData("title")]
    [InlineData("views")]
    public async Task Listing_pages_through_a_channel_with_an_opaque_cursor(string sort)
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var titles = new[] { "delta", "Alpha", "charlie", "bravo", "echo", "foxtrot", "golf" };
        var ids = new List<string>();
        foreach (var t in titles)
        {
            ids.Add((await app.NewVideoAsync(creator, channel, "public", t, playable: true)).GetProperty("id").GetString()!);
        }

        // Distinct view counts, set directly: there is no view-counting API yet.
        await using (var db = await app.Get<Data.Database>().OpenAsync(default))
        {
            for (var i = 0; i < ids.Count; i++)
            {
                await db.ExecAsync("UPDATE videos SET view_count = @n WHERE id = @id", [("n", (long)((i * 37) % 11)), ("id", ids[i])], default);
            }
        }

        var seen = new List<JsonElement>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}&sort={sort}&limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            seen.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Count, seen.Select(v => v.GetProperty("id").GetString()).Distinct().Count());
        var keys = seen.Select(v => sort switch
        {
            "title" => v.GetProperty("title").GetString()!,
            "views" => v.GetProperty("viewCount").GetInt64().ToString("D10"),
            _ => v.GetProperty("createdAt").GetDateTimeOffset().UtcTicks.ToString("D20"),
        }).ToList();
        if (sort == "title")
        {
            // Ordered as the database collates; at least the ordering is consistent across pages (no duplicates, no gaps).
            Assert.Equal(titles.Length, keys.Count);
        }
        else
        {
            Assert.Equal(keys.OrderByDescending(k => k, StringComparer.Ordinal), keys);
        }

        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?sort={sort}&cursor=not-a-cursor", expect: HttpStatusCode.BadRequest);
        await app.JsonAsync(HttpMethod.Get, "api/v1/videos?sort=random", expect: HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Public_listing_hides_private_videos_the_owner_sees_all()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        await app.NewVideoAsync(creator, channel, "public", playable: true);
        await app.NewVideoAsync(creator, channel, "private", playable: true);
        await app.NewVideoAsync(creator, channel, "unlisted", playable: true);
        Assert.Single((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}")).GetProperty("items").EnumerateArray());
        Assert.Equal(3, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}", creator.AccessToken)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Stream_keys_are_shown_once_listed_by_prefix_rotated_and_revoked()
    {
        var creator = await app.NewUserAsync("creator");
        var other = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var created = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        var keyId = created.GetProperty("id").GetString()!;
        Assert.StartsWith("sv_", key);
        Assert.True(key.Length >= 40);
        Assert.StartsWith(created.GetProperty("prefix").GetString()!, key);

        var list = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken);
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.False(item.TryGetProperty("key", out _));
        Assert.DoesNotContain(key, list.GetRawText());

        await using (var db = await app.Get<Data.Database>().OpenAsync(default))
        {
            var stored = await db.ScalarAsync<string>("SELECT hash FROM stream_keys WHERE id = @id", [("id", keyId)], default);
            Assert.NotEqual(key, stored);
            Assert.Equal(64, stored!.Length);
        }

        await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", other.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys/{keyId}/rotate", other.AccessToken, expect: HttpStatusCode.Forbidden);

        var ingest = app.Get<StreamKeys.LiveIngest>();
        Assert.NotNull(await ingest.ResolveAsync(key, default));

        var rotated = (await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys/{keyId}/rotate", creator.AccessToken)).GetProperty("key").GetString()!;
        Assert.NotEqual(key, rotated);
        Assert.Null(await ingest.ResolveAsync(key, default));
        Assert.NotNull(await ingest.ResolveAsync(rotated, default));

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/stream-keys/{keyId}", creator.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Null(await ingest.ResolveAsync(rotated, default));
        await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys/{keyId}/rotate", creator.AccessToken, expect: HttpStatusCode.NotFound);
    }
}

[Collection("sqlite")]
public sealed class ContentTestsSqlite(SqliteApp app) : ContentTests(app);

[Collection("postgres")]
public sealed class ContentTestsPostgres(PostgresApp app) : ContentTests(app);
