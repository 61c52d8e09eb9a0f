using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Likes and dislikes: exact counts under concurrency, the caller's own reaction, the creator's settings, who may react.</summary>
public abstract class ReactionTests(ControlPlaneApp app)
{
    private async Task<(Persona Owner, string Video)> VideoAsync(string visibility = "public", bool playable = true)
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), visibility, playable: playable)).GetProperty("id").GetString()!;
        return (owner, video);
    }

    private async Task<(long Likes, long Dislikes)> RowsAsync(string video)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        var likes = await db.ScalarAsync<long>("SELECT COUNT(*) FROM video_reactions WHERE video_id = @v AND kind = 'like'", [("v", video)], default);
        var dislikes = await db.ScalarAsync<long>("SELECT COUNT(*) FROM video_reactions WHERE video_id = @v AND kind = 'dislike'", [("v", video)], default);
        return (likes, dislikes);
    }

    private static (long?, long?) C(long? likes, long? dislikes) => (likes, dislikes);

    private static (long?, long?) Counts(JsonElement e) => (
        e.GetProperty("likeCount").ValueKind == JsonValueKind.Null ? null : e.GetProperty("likeCount").GetInt64(),
        e.GetProperty("dislikeCount").ValueKind == JsonValueKind.Null ? null : e.GetProperty("dislikeCount").GetInt64());

    [Fact]
    public async Task Two_hundred_concurrent_reactions_add_up_exactly()
    {
        var (owner, video) = await VideoAsync();
        var viewers = await QuickAccounts.CreateAsync(app, 200);
        var path = $"api/v1/videos/{video}/reaction";

        // 200 accounts at once: every third dislikes.
        await Task.WhenAll(viewers.Select((v, i) => Send(HttpMethod.Put, v, i % 3 == 0 ? "dislike" : "like")));
        var likes = viewers.Count(v => viewers.IndexOf(v) % 3 != 0);
        var v1 = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", owner.AccessToken);
        Assert.Equal(((long?)likes, (long?)(200 - likes)), Counts(v1));
        Assert.Equal(((long)likes, (long)(200 - likes)), await RowsAsync(video));

        // Again all at once, each account twice: the first 50 flip, the next 50 clear, the rest repeat themselves.
        string? Second(int i) => i < 50 ? (i % 3 == 0 ? "like" : "dislike") : i < 100 ? null : i % 3 == 0 ? "dislike" : "like";
        await Task.WhenAll(viewers.SelectMany((v, i) => new[] { Send(Second(i) is null ? HttpMethod.Delete : HttpMethod.Put, v, Second(i)),
                                                                Send(Second(i) is null ? HttpMethod.Delete : HttpMethod.Put, v, Second(i)) }));
        var expectLikes = Enumerable.Range(0, 200).Count(i => Second(i) == "like");
        var expectDislikes = Enumerable.Range(0, 200).Count(i => Second(i) == "dislike");
        var v2 = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}");
        Assert.Equal(((long?)expectLikes, (long?)expectDislikes), Counts(v2));
        Assert.Equal(((long)expectLikes, (long)expectDislikes), await RowsAsync(video));

        async Task Send(HttpMethod method, Persona viewer, string? reaction)
        {
            using var r = await app.SendAsync(method, path, viewer.AccessToken, reaction is null ? null : new { reaction });
            Assert.Equal(method == HttpMethod.Delete ? HttpStatusCode.NoContent : HttpStatusCode.OK, r.StatusCode);
        }
    }

    [Fact]
    public async Task A_caller_sees_their_own_reaction_and_can_change_or_clear_it()
    {
        var (_, video) = await VideoAsync();
        var viewer = await app.NewUserAsync();
        var path = $"api/v1/videos/{video}/reaction";
        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, path, viewer.AccessToken)).GetProperty("reaction").ValueKind);

        var liked = await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { reaction = "like" });
        Assert.Equal("like", liked.GetProperty("reaction").GetString());
        Assert.Equal(C(1, 0), Counts(liked));
        Assert.Equal(C(1, 0), Counts(await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { reaction = "like" })));
        var disliked = await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { reaction = "dislike" });
        Assert.Equal(("dislike", C(0, 1)), (disliked.GetProperty("reaction").GetString(), Counts(disliked)));
        Assert.Equal("dislike", (await app.JsonAsync(HttpMethod.Get, path, viewer.AccessToken)).GetProperty("reaction").GetString());

        await app.JsonAsync(HttpMethod.Delete, path, viewer.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, path, viewer.AccessToken, expect: HttpStatusCode.NoContent);
        var cleared = await app.JsonAsync(HttpMethod.Get, path, viewer.AccessToken);
        Assert.Equal((JsonValueKind.Null, C(0, 0)), (cleared.GetProperty("reaction").ValueKind, Counts(cleared)));
    }

    [Fact]
    public async Task A_bad_reaction_is_a_problem_naming_the_field()
    {
        var (_, video) = await VideoAsync();
        var viewer = await app.NewUserAsync();
        foreach (var body in new object[] { new { reaction = "love" }, new { } })
        {
            var problem = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/reaction", viewer.AccessToken, body, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("reaction", out _), problem.ToString());
        }
    }

    [Fact]
    public async Task The_creator_may_hide_the_dislike_count_or_disable_reactions()
    {
        var (owner, video) = await VideoAsync();
        var viewer = await app.NewUserAsync();
        var path = $"api/v1/videos/{video}/reaction";
        await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { reaction = "dislike" });

        var hidden = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { dislikeCountHidden = true });
        Assert.Equal((true, true), (hidden.GetProperty("dislikeCountHidden").GetBoolean(), hidden.GetProperty("reactionsEnabled").GetBoolean()));
        Assert.Equal(C(0, 1), Counts(hidden));
        Assert.Equal(C(0, null), Counts(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", viewer.AccessToken)));
        Assert.Equal(C(0, null), Counts(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}")));
        Assert.Equal(C(0, null), Counts(await app.JsonAsync(HttpMethod.Get, path, viewer.AccessToken)));
        Assert.Equal(C(0, 1), Counts(await app.JsonAsync(HttpMethod.Get, path, owner.AccessToken)));

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { reactionsEnabled = false });
        var refused = await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { reaction = "like" }, HttpStatusCode.Conflict);
        Assert.Contains("disabled", refused.GetProperty("detail").GetString());
        Assert.Equal(C(null, null), Counts(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", viewer.AccessToken)));
        await app.JsonAsync(HttpMethod.Delete, path, viewer.AccessToken, expect: HttpStatusCode.NoContent); // clearing stays possible
        Assert.Equal(C(0, 0), Counts(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", owner.AccessToken)));

        // Server-owned counts are not the creator's to set.
        var problem = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { likeCount = 1000 }, HttpStatusCode.BadRequest);
        Assert.Contains("likeCount", problem.ToString());
    }

    [Fact]
    public async Task Only_those_who_may_watch_a_video_react_to_it()
    {
        var viewer = await app.NewUserAsync();
        var (privateOwner, privateVideo) = await VideoAsync("private");
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{privateVideo}/reaction", viewer.AccessToken, new { reaction = "like" }, HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{privateVideo}/reaction", viewer.AccessToken, expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{privateVideo}/reaction", privateOwner.AccessToken, new { reaction = "like" });

        var (_, draft) = await VideoAsync("public", playable: false);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{draft}/reaction", viewer.AccessToken, new { reaction = "like" }, HttpStatusCode.NotFound);

        var (_, premiumVideo) = await VideoAsync("premium");
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{premiumVideo}/reaction", viewer.AccessToken, new { reaction = "like" }, HttpStatusCode.Forbidden);
        var member = await app.NewUserAsync(premium: true);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{premiumVideo}/reaction", member.AccessToken, new { reaction = "like" });
        Assert.Equal((1L, 0L), await RowsAsync(premiumVideo));
        Assert.Equal((0L, 0L), await RowsAsync(draft));
        await app.JsonAsync(HttpMethod.Put, "api/v1/videos/nosuchvideo/reaction", viewer.AccessToken, new { reaction = "like" }, HttpStatusCode.NotFound);
    }
}

[Collection("sqlite")]
public sealed class ReactionTestsSqlite(SqliteApp app) : ReactionTests(app);

[Collection("postgres")]
public sealed class ReactionTestsPostgres(PostgresApp app) : ReactionTests(app);
