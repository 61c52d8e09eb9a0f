using Microsoft.Extensions.DependencyInjection;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Notifications;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// In-app notifications through the real daemon: each kind from the event that causes it, bells and settings respected,
/// the actor never told of their own action, access respected, the list/unread/read endpoints, and the fan-out.
/// </summary>
public abstract class NotificationTests(NotificationsApp app)
{
    private Database Db => app.Get<Database>();

    internal static async Task<List<JsonElement>> ListAsync(ControlPlaneApp app, Persona who)
    {
        var page = await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications?limit=100", who.AccessToken);
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    /// <summary>Polls until <paramref name="who"/> has at least <paramref name="count"/> notifications; returns them.</summary>
    internal static async Task<List<JsonElement>> WaitForAsync(ControlPlaneApp app, Persona who, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var items = await ListAsync(app, who);
            if (items.Count >= count)
            {
                return items;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{who.Email} has {items.Count} of {count} notifications");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the outbox and the fan-out tasks are all done: after that, a notification that is not there will not come.</summary>
    internal static async Task SettleAsync(ControlPlaneApp app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using (var db = await app.Get<Database>().OpenAsync(default))
            {
                var open = await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL", [], default)
                    + await db.ScalarAsync<long>("SELECT COUNT(*) FROM notification_fanouts WHERE done_at IS NULL", [], default);
                if (open == 0)
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, "events or fan-outs still open");
            await Task.Delay(50);
        }
    }

    internal static async Task<string> HandleOf(ControlPlaneApp app, Persona who) =>
        (await app.JsonAsync(HttpMethod.Get, "api/v1/me", who.AccessToken)).GetProperty("handle").GetString()!;

    /// <summary>A ready video made public by its owner: its first publication (the event that fans out).</summary>
    internal static async Task<string> PublishAsync(ControlPlaneApp app, Persona owner, string channel, string title = "fresh video")
    {
        var video = (await app.NewVideoAsync(owner, channel, "private", title: title, playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "public" });
        return video;
    }

    private async Task SubscribeAsync(Persona who, string channel, string bell) =>
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", who.AccessToken, new { bell });

    private static IEnumerable<string?> Kinds(List<JsonElement> items) => items.Select(i => i.GetProperty("kind").GetString());

    [Fact]
    public async Task Subscribers_hear_of_a_new_video_by_their_bell_and_the_owner_hears_of_nothing_of_their_own()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var highlights = await app.NewUserAsync();
        var all = await app.NewUserAsync();
        var silent = await app.NewUserAsync();
        await SubscribeAsync(highlights, channel, "highlights");
        await SubscribeAsync(all, channel, "all");
        await SubscribeAsync(silent, channel, "none");
        await SubscribeAsync(owner, channel, "all"); // the owner follows their own channel: still not told of their own video

        var video = await PublishAsync(app, owner, channel, "Episode <1> & more");
        foreach (var who in new[] { highlights, all })
        {
            var n = Assert.Single(await WaitForAsync(app, who));
            Assert.Equal(("new-video", video, channel, "Episode <1> & more"),
                (n.GetProperty("kind").GetString(), n.GetProperty("videoId").GetString(), n.GetProperty("channelId").GetString(), n.GetProperty("title").GetString()));
            Assert.Equal(JsonValueKind.Null, n.GetProperty("readAt").ValueKind);
        }

        // An unlisted or private video is no publication: nobody hears of it.
        await app.NewVideoAsync(owner, channel, "unlisted", playable: true);
        var hidden = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{hidden}", owner.AccessToken, new { visibility = "unlisted" });
        await SettleAsync(app);
        Assert.Empty(await ListAsync(app, silent));
        Assert.Equal(["new-subscriber", "new-subscriber", "new-subscriber"], Kinds(await ListAsync(app, owner))); // not the owner's own subscription
        Assert.Single(await ListAsync(app, highlights));
    }

    [Fact]
    public async Task A_channel_going_live_fans_out_once_to_its_subscribers()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var fan = await app.NewUserAsync();
        await SubscribeAsync(fan, channel, "highlights");
        var key = (await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", owner.AccessToken, expect: HttpStatusCode.Created)).GetProperty("key").GetString()!;
        var broadcast = (await app.Get<StreamKeys.LiveIngest>().ResolveAsync(key, default))!;

        await SettleAsync(app);
        var n = Assert.Single(await WaitForAsync(app, fan));
        Assert.Equal(("channel-live", broadcast), (n.GetProperty("kind").GetString(), n.GetProperty("videoId").GetString())); // not also "new-video"
    }

    [Fact]
    public async Task Comments_tell_the_parent_author_the_mentioned_and_the_owner_once_each_and_never_the_author()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var carol = await app.NewUserAsync();
        var top = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", alice.AccessToken, new { text = "first" }, HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        // Bob replies to Alice, mentioning her (one notification: the reply) and Carol, and himself.
        var reply = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", bob.AccessToken,
            new { text = $"@{await HandleOf(app, alice)} @{await HandleOf(app, carol)} @{await HandleOf(app, bob)} agreed", parentId = top }, HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        await SettleAsync(app);

        var toAlice = Assert.Single(await ListAsync(app, alice));
        Assert.Equal(("comment-reply", bob.Id, reply), (toAlice.GetProperty("kind").GetString(), toAlice.GetProperty("actorId").GetString(), toAlice.GetProperty("commentId").GetString()));
        Assert.Equal(await HandleOf(app, bob), toAlice.GetProperty("actorHandle").GetString());
        Assert.Equal(["mention"], Kinds(await ListAsync(app, carol)));
        Assert.Empty(await ListAsync(app, bob));
        Assert.Equal(["video-comment", "video-comment"], Kinds(await ListAsync(app, owner)));

        // The owner commenting on their own video is told nothing.
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", owner.AccessToken, new { text = "thanks" }, HttpStatusCode.Created);
        // On a private video, a mention tells no one who may not watch it.
        var secret = (await app.NewVideoAsync(owner, channel, "private", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{secret}/comments", owner.AccessToken, new { text = $"@{await HandleOf(app, carol)} look" }, HttpStatusCode.Created);
        await SettleAsync(app);
        Assert.Equal(2, (await ListAsync(app, owner)).Count);
        Assert.Single(await ListAsync(app, carol));
    }

    [Fact]
    public async Task The_owner_hears_of_a_new_subscriber_and_of_their_upload_finishing_and_failing()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var fan = await app.NewUserAsync();
        await SubscribeAsync(fan, channel, "none");
        var n = Assert.Single(await WaitForAsync(app, owner));
        Assert.Equal(("new-subscriber", fan.Id, channel), (n.GetProperty("kind").GetString(), n.GetProperty("actorId").GetString(), n.GetProperty("channelId").GetString()));

        // The transcode's outcome, through the store the worker uses (on time ahead, so the daemon's own worker leaves the job alone).
        var store = new JobStore(Db, new ShiftedTime(TimeSpan.FromDays(3)), app.Get<VodCatalog>(), app.Get<VideoPublication>(), app.Get<Events.Outbox>());
        var ok = (await app.NewVideoAsync(owner, channel, "private", title: "good upload")).GetProperty("id").GetString()!;
        var bad = (await app.NewVideoAsync(owner, channel, "private", title: "bad upload")).GetProperty("id").GetString()!;
        var okJob = (await store.EnqueueAsync(ok, Path.Combine(app.DataDir, "none.mp4"), 3, default)).JobId;
        var badJob = (await store.EnqueueAsync(bad, Path.Combine(app.DataDir, "none.mp4"), 3, default)).JobId;
        var claimed = await store.ClaimAsync("test:" + Guid.NewGuid().ToString("N")[..8], 100, TimeSpan.FromMinutes(5), default);
        var good = claimed.Single(j => j.Id == okJob);
        Assert.True((await store.PublishFullAsync(good, good.LeaseOwner!, new TranscodeOutput(2, HasPoster: false, AudioTracks: []), TimeSpan.Zero, default)).Published);
        var failing = claimed.Single(j => j.Id == badJob);
        Assert.True(await store.FailAsync(failing, failing.LeaseOwner!, "decoder exploded at 0x1234", "The file is not a video we can read.", default));

        var items = await WaitForAsync(app, owner, 3);
        Assert.Equal(["upload-failed", "upload-finished", "new-subscriber"], Kinds(items));
        Assert.Equal("bad upload — The file is not a video we can read.", items[0].GetProperty("title").GetString());
        Assert.Equal(ok, items[1].GetProperty("videoId").GetString());
        Assert.Null(items[0].GetProperty("actorId").GetString());
    }

    [Fact]
    public async Task Unread_count_mark_one_and_mark_all_and_pages_newest_first()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        foreach (var fan in await QuickAccounts.CreateAsync(app, 5))
        {
            await SubscribeAsync(fan, channel, "none");
        }

        var all = await WaitForAsync(app, owner, 5);
        Assert.Equal(5, (await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications/unread-count", owner.AccessToken)).GetProperty("unread").GetInt64());
        var ids = all.Select(n => long.Parse(n.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.OrderDescending(), ids);

        var first = await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications?limit=2", owner.AccessToken);
        var second = await app.JsonAsync(HttpMethod.Get, $"api/v1/me/notifications?limit=2&cursor={first.GetProperty("nextCursor").GetString()}", owner.AccessToken);
        var third = await app.JsonAsync(HttpMethod.Get, $"api/v1/me/notifications?limit=2&cursor={second.GetProperty("nextCursor").GetString()}", owner.AccessToken);
        Assert.Equal(JsonValueKind.Null, third.GetProperty("nextCursor").ValueKind);
        Assert.Equal(all.Select(n => n.GetProperty("id").GetString()),
            new[] { first, second, third }.SelectMany(p => p.GetProperty("items").EnumerateArray()).Select(n => n.GetProperty("id").GetString()));

        var one = all[2].GetProperty("id").GetString();
        await app.JsonAsync(HttpMethod.Post, $"api/v1/me/notifications/{one}/read", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/me/notifications/{one}/read", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(4, (await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications/unread-count", owner.AccessToken)).GetProperty("unread").GetInt64());
        Assert.NotEqual(JsonValueKind.Null, (await ListAsync(app, owner)).Single(n => n.GetProperty("id").GetString() == one).GetProperty("readAt").ValueKind);

        // Someone else's notification, or no such id: 404, and nothing changes.
        var stranger = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Post, $"api/v1/me/notifications/{all[0].GetProperty("id").GetString()}/read", stranger.AccessToken, expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Post, "api/v1/me/notifications/not-a-number/read", owner.AccessToken, expect: HttpStatusCode.NotFound);

        Assert.Equal(4, (await app.JsonAsync(HttpMethod.Post, "api/v1/me/notifications/read-all", owner.AccessToken)).GetProperty("marked").GetInt64());
        Assert.Equal(0, (await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications/unread-count", owner.AccessToken)).GetProperty("unread").GetInt64());

        var bad = await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications?cursor=bm9wZQ", owner.AccessToken, expect: HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("cursor", out _));
        bad = await app.JsonAsync(HttpMethod.Get, "api/v1/me/notifications?limit=101", owner.AccessToken, expect: HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Settings_have_defaults_change_per_kind_and_decide_what_is_created()
    {
        var owner = await app.NewUserAsync("creator");
        var settings = await app.JsonAsync(HttpMethod.Get, "api/v1/me/notification-settings", owner.AccessToken);
        var byKind = settings.GetProperty("settings").EnumerateArray().ToDictionary(s => s.GetProperty("kind").GetString()!);
        Assert.Equal(NotificationKind.All.Select(k => k.Kind), byKind.Keys);
        Assert.True(byKind["new-video"].GetProperty("inApp").GetBoolean());
        Assert.False(byKind["new-video"].GetProperty("email").GetBoolean());
        Assert.True(byKind["upload-failed"].GetProperty("email").GetBoolean());

        var changed = await app.JsonAsync(HttpMethod.Put, "api/v1/me/notification-settings", owner.AccessToken,
            new { settings = new object[] { new { kind = "new-subscriber", inApp = false }, new { kind = "video-comment", email = true } } });
        var after = changed.GetProperty("settings").EnumerateArray().ToDictionary(s => s.GetProperty("kind").GetString()!);
        Assert.Equal((false, false, false), (after["new-subscriber"].GetProperty("inApp").GetBoolean(), after["new-subscriber"].GetProperty("push").GetBoolean(),
            after["new-subscriber"].GetProperty("email").GetBoolean()));
        Assert.Equal((true, false, true), (after["video-comment"].GetProperty("inApp").GetBoolean(), after["video-comment"].GetProperty("push").GetBoolean(),
            after["video-comment"].GetProperty("email").GetBoolean()));
        Assert.Equal(changed.GetRawText(), (await app.JsonAsync(HttpMethod.Get, "api/v1/me/notification-settings", owner.AccessToken)).GetRawText());

        // With every channel off for new subscribers, a subscription creates nothing; comments still notify.
        var channel = await app.NewChannelAsync(owner);
        var fan = await app.NewUserAsync();
        await SubscribeAsync(fan, channel, "all");
        var video = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", fan.AccessToken, new { text = "hi" }, HttpStatusCode.Created);
        await SettleAsync(app);
        Assert.Equal(["video-comment"], Kinds(await ListAsync(app, owner)));
        await using var db = await Db.OpenAsync(default);
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE user_id = @u AND kind = 'new-subscriber'", [("u", owner.Id)], default));

        var problem = await app.JsonAsync(HttpMethod.Put, "api/v1/me/notification-settings", owner.AccessToken,
            new { settings = new object[] { new { kind = "new-video" }, new { kind = "everything", push = true }, new { kind = "new-video" } } }, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Contains("must be one of", errors.GetProperty("settings[1].kind")[0].GetString());
        Assert.Contains("twice", errors.GetProperty("settings[2].kind")[0].GetString());
        problem = await app.JsonAsync(HttpMethod.Put, "api/v1/me/notification-settings", owner.AccessToken, new { }, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("settings", out _));
    }

    [Fact]
    public async Task A_channel_with_many_subscribers_fans_out_in_batches_and_everyone_hears_exactly_once()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var fans = await QuickAccounts.CreateAsync(app, 4 * NotificationsApp.FanoutBatch + 3);
        foreach (var fan in fans)
        {
            await SubscribeAsync(fan, channel, fans.IndexOf(fan) % 2 == 0 ? "all" : "highlights");
        }

        var video = await PublishAsync(app, owner, channel);
        await SettleAsync(app);
        await using var db = await Db.OpenAsync(default);
        Assert.Equal(fans.Count, await db.ScalarAsync<long>("SELECT COUNT(DISTINCT user_id) FROM notifications WHERE video_id = @v AND kind = 'new-video'", [("v", video)], default));
        Assert.Equal(fans.Count, await db.ScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE video_id = @v", [("v", video)], default));
    }

    [Fact]
    public async Task A_daemon_stopped_mid_fan_out_resumes_where_it_stopped_and_loses_or_duplicates_nobody()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var fans = await QuickAccounts.CreateAsync(app, 4 * NotificationsApp.FanoutBatch + 3);
        foreach (var fan in fans)
        {
            await SubscribeAsync(fan, channel, "highlights");
        }

        // The worker stops after its second batch (committed) and waits there until the daemon is stopped.
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = 0;
        app.Get<FanoutProgress>().AfterBatch = async (_, _, ct) =>
        {
            if (Interlocked.Increment(ref batches) == 2)
            {
                reached.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
        };
        var node = app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<FanoutWorker>().Single().Node;
        var video = await PublishAsync(app, owner, channel);
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(60));

        const string Count = "SELECT COUNT(*) FROM notifications WHERE video_id = @v";
        await using (var db = await Db.OpenAsync(default))
        {
            // The publish and its outbox event are long done: the fan-out runs apart from both.
            Assert.Equal(0, await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL", [], default));
            Assert.Equal(2 * NotificationsApp.FanoutBatch, await db.ScalarAsync<long>(Count, [("v", video)], default));
        }

        await app.RestartAsync(async () =>
        {
            // As after a crash (a graceful stop hands the task back; a crash leaves it leased to this node's dead run).
            await using var db = await Standalone().OpenAsync(default);
            Assert.Equal(1, await db.ExecAsync("UPDATE notification_fanouts SET lease_owner = @o, lease_expires_at = @exp WHERE video_id = @v AND done_at IS NULL",
                [("o", node + ":deadbeef0000"), ("exp", DateTimeOffset.UtcNow.AddHours(1)), ("v", video)], default));
            Assert.Equal(2 * NotificationsApp.FanoutBatch, await db.ScalarAsync<long>(Count, [("v", video)], default));
        });

        await SettleAsync(app);
        await using (var db = await Db.OpenAsync(default))
        {
            Assert.Equal(fans.Count, await db.ScalarAsync<long>(Count, [("v", video)], default));
            Assert.Equal(fans.Count, await db.ScalarAsync<long>("SELECT COUNT(DISTINCT user_id) FROM notifications WHERE video_id = @v", [("v", video)], default));

            // The whole fan-out once more from the first subscriber: the unique key adds nobody twice.
            await db.ExecAsync("UPDATE notification_fanouts SET after_user = '', done_at = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE video_id = @v",
                [("v", video)], default);
        }

        await SettleAsync(app);
        await using (var db = await Db.OpenAsync(default))
        {
            Assert.Equal(fans.Count, await db.ScalarAsync<long>(Count, [("v", video)], default));
            var source = await db.ScalarAsync<string>("SELECT source FROM notification_fanouts WHERE video_id = @v", [("v", video)], default);
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.ExecAsync(
                "INSERT INTO notifications (user_id, source, kind, channels, title, created_at) VALUES (@u, @s, 'new-video', 1, 't', @now)",
                [("u", fans[0].Id), ("s", source), ("now", DateTimeOffset.UtcNow)], default));
        }
    }

    [Fact]
    public async Task Open_sockets_receive_each_new_notification_as_it_is_made_from_rules_and_from_every_fan_out_batch()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var fans = new List<Persona>();
        for (var i = 0; i < NotificationsApp.FanoutBatch + 2; i++) // two fan-out batches
        {
            fans.Add(await app.NewUserAsync());
            await SubscribeAsync(fans[^1], channel, "all");
        }

        await SettleAsync(app);
        await using var ownerSocket = await ChatClient.ConnectAsync(app.BaseUrl, owner.AccessToken);
        var fanSockets = new List<ChatClient>();
        try
        {
            foreach (var fan in fans)
            {
                fanSockets.Add(await ChatClient.ConnectAsync(app.BaseUrl, fan.AccessToken));
            }

            // A fan-out: every subscriber's socket is told, with the notification the list holds.
            var video = await PublishAsync(app, owner, channel, "pushed video");
            for (var i = 0; i < fans.Count; i++)
            {
                var pushed = await fanSockets[i].NextAsync("notification.created");
                Assert.Equal(("new-video", video), (pushed.GetProperty("kind").GetString(), pushed.GetProperty("videoId").GetString()));
                var listed = Assert.Single(await ListAsync(app, fans[i]));
                Assert.Equal(listed.GetProperty("id").GetString(), pushed.GetProperty("id").GetString());
            }

            // A rule with one recipient: the owner hears of a new subscriber, and of nothing of their own.
            var late = await app.NewUserAsync();
            await SubscribeAsync(late, channel, "all");
            var told = await ownerSocket.NextAsync("notification.created");
            Assert.Equal(("new-subscriber", late.Id), (told.GetProperty("kind").GetString(), told.GetProperty("actorId").GetString()));
            await SettleAsync(app);
            Assert.DoesNotContain(ownerSocket.Drain("notification.created"), n => n.GetProperty("kind").GetString() == "new-video");
            Assert.All(fanSockets, s => Assert.Empty(s.Drain("notification.created"))); // one push per notification
        }
        finally
        {
            foreach (var socket in fanSockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private Database Standalone() => new(
        Microsoft.Extensions.Options.Options.Create(new DatabaseOptions { Provider = app.Provider, ConnectionString = app.ConnectionString }),
        Microsoft.Extensions.Options.Options.Create(new ControlPlaneOptions { DataPath = app.DataDir }));
}

[Collection("notifications-sqlite")]
public sealed class NotificationTestsSqlite(NotificationsSqliteApp app) : NotificationTests(app);

[Collection("notifications-postgres")]
public sealed class NotificationTestsPostgres(NotificationsPostgresApp app) : NotificationTests(app);
