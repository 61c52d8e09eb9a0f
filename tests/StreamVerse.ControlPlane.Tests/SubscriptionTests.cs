using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Channel subscriptions: idempotent subscribe/unsubscribe, bells, exact counts, the two lists, the event.</summary>
public abstract class SubscriptionTests(ControlPlaneApp app)
{
    private async Task<long> CountAsync(string channel) =>
        (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("subscriberCount").GetInt64();

    private async Task<long> RowsAsync(string channel)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        return await db.ScalarAsync<long>("SELECT COUNT(*) FROM subscriptions WHERE channel_id = @c", [("c", channel)], default);
    }

    private async Task<long> SubscribedEventsAsync(string channel)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        return await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE type = 'subscriptions.channel-subscribed.v1' AND subject_id = @c", [("c", channel)], default);
    }

    [Fact]
    public async Task Subscribing_is_idempotent_the_bell_can_change_and_unsubscribing_is_too()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var viewer = await app.NewUserAsync();
        var path = $"api/v1/channels/{channel}/subscription";

        var first = await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken);
        Assert.Equal(("highlights", 1L), (first.GetProperty("bell").GetString(), first.GetProperty("subscriberCount").GetInt64()));
        var again = await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { });
        Assert.Equal(first.GetProperty("subscribedAt").GetDateTimeOffset(), again.GetProperty("subscribedAt").GetDateTimeOffset());
        var loud = await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { bell = "all" });
        Assert.Equal(("all", 1L), (loud.GetProperty("bell").GetString(), loud.GetProperty("subscriberCount").GetInt64()));
        Assert.Equal("all", (await app.JsonAsync(HttpMethod.Get, path, viewer.AccessToken)).GetProperty("bell").GetString());
        Assert.Equal(1L, await CountAsync(channel));
        Assert.Equal(1L, await SubscribedEventsAsync(channel));

        await app.JsonAsync(HttpMethod.Delete, path, viewer.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, path, viewer.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Get, path, viewer.AccessToken, expect: HttpStatusCode.NotFound);
        Assert.Equal(0L, await CountAsync(channel));

        // A new subscription after leaving is a new event.
        await app.JsonAsync(HttpMethod.Put, path, viewer.AccessToken, new { bell = "none" });
        Assert.Equal(2L, await SubscribedEventsAsync(channel));
    }

    [Fact]
    public async Task A_bad_bell_or_channel_is_refused_clearly()
    {
        var viewer = await app.NewUserAsync();
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var problem = await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", viewer.AccessToken, new { bell = "loud" }, HttpStatusCode.BadRequest);
        Assert.Contains("all, highlights or none", problem.GetProperty("errors").GetProperty("bell")[0].GetString());
        await app.JsonAsync(HttpMethod.Put, "api/v1/channels/nosuchchannel/subscription", viewer.AccessToken, expect: HttpStatusCode.NotFound);
        Assert.Equal(0L, await CountAsync(channel));
    }

    [Fact]
    public async Task The_subscriber_count_stays_exact_under_concurrent_subscribes_and_unsubscribes()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var viewers = await QuickAccounts.CreateAsync(app, 60);
        var path = $"api/v1/channels/{channel}/subscription";

        // Every account subscribes twice at once: 60 subscribers, not 120.
        await Task.WhenAll(viewers.SelectMany(v => new[] { Send(HttpMethod.Put, v), Send(HttpMethod.Put, v) }));
        Assert.Equal((60L, 60L), (await CountAsync(channel), await RowsAsync(channel)));

        // Half leave twice at once while the others change their bell.
        await Task.WhenAll(viewers.SelectMany((v, i) => i % 2 == 0
            ? new[] { Send(HttpMethod.Delete, v, HttpStatusCode.NoContent), Send(HttpMethod.Delete, v, HttpStatusCode.NoContent) }
            : new[] { Send(HttpMethod.Put, v, body: new { bell = "all" }) }));
        Assert.Equal((30L, 30L), (await CountAsync(channel), await RowsAsync(channel)));
        Assert.Equal(60L, await SubscribedEventsAsync(channel));

        async Task Send(HttpMethod method, Persona viewer, HttpStatusCode expect = HttpStatusCode.OK, object? body = null)
        {
            using var r = await app.SendAsync(method, path, viewer.AccessToken, body);
            Assert.Equal(expect, r.StatusCode);
        }
    }

    [Fact]
    public async Task My_subscriptions_come_newest_first_a_page_at_a_time()
    {
        var owner = await app.NewUserAsync("creator");
        var channels = new List<string>();
        var viewer = await app.NewUserAsync();
        for (var i = 0; i < 3; i++)
        {
            channels.Add(await app.NewChannelAsync(owner));
            await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channels[^1]}/subscription", viewer.AccessToken);
        }

        var first = await app.JsonAsync(HttpMethod.Get, "api/v1/me/subscriptions?limit=2", viewer.AccessToken);
        var cursor = first.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        var second = await app.JsonAsync(HttpMethod.Get, $"api/v1/me/subscriptions?limit=2&cursor={cursor}", viewer.AccessToken);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        var listed = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Select(s => s.GetProperty("channelId").GetString()).ToList();
        Assert.Equal(Enumerable.Reverse(channels), listed);

        var bad = await app.JsonAsync(HttpMethod.Get, "api/v1/me/subscriptions?cursor=bm9wZQ", viewer.AccessToken, expect: HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("cursor", out _));
        bad = await app.JsonAsync(HttpMethod.Get, "api/v1/me/subscriptions?limit=0", viewer.AccessToken, expect: HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Only_the_owner_or_an_admin_lists_a_channels_subscribers()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var a = await app.NewUserAsync();
        var b = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", a.AccessToken);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", b.AccessToken, new { bell = "none" });

        var page = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/subscribers?limit=1", owner.AccessToken);
        Assert.Equal(b.Id, Assert.Single(page.GetProperty("items").EnumerateArray()).GetProperty("userId").GetString());
        var rest = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/subscribers?cursor={page.GetProperty("nextCursor").GetString()}", owner.AccessToken);
        var last = Assert.Single(rest.GetProperty("items").EnumerateArray());
        Assert.Equal(a.Id, last.GetProperty("userId").GetString());
        Assert.False(last.TryGetProperty("bell", out _));
        await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/subscribers", (await app.AdminAsync()).AccessToken);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/subscribers", a.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Get, "api/v1/channels/nosuchchannel/subscribers", owner.AccessToken, expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_deleted_account_takes_its_subscriptions_and_reactions_out_of_the_counts()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, playable: true)).GetProperty("id").GetString()!;
        var leaving = await app.NewUserAsync();
        var staying = await app.NewUserAsync();
        foreach (var (viewer, reaction) in new[] { (leaving, "like"), (staying, "dislike") })
        {
            await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", viewer.AccessToken);
            await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/reaction", viewer.AccessToken, new { reaction });
        }

        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", leaving.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);
        Assert.Equal((1L, 1L), (await CountAsync(channel), await RowsAsync(channel)));
        var v = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", owner.AccessToken);
        Assert.Equal((0L, 1L), (v.GetProperty("likeCount").GetInt64(), v.GetProperty("dislikeCount").GetInt64()));
    }
}

[Collection("sqlite")]
public sealed class SubscriptionTestsSqlite(SqliteApp app) : SubscriptionTests(app);

[Collection("postgres")]
public sealed class SubscriptionTestsPostgres(PostgresApp app) : SubscriptionTests(app);
