using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Moderation;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.StreamKeys;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>What the ingest was asked to end (the real one is the Origin's; the lead adds the ffmpeg end-to-end test).</summary>
public sealed class RecordingLivePublishers : ILivePublishers
{
    public ConcurrentQueue<string> Disconnected { get; } = new();

    public int Disconnect(IReadOnlyCollection<string> streamKeyIds, string reason)
    {
        foreach (var id in streamKeyIds)
        {
            Disconnected.Enqueue(id);
        }

        return streamKeyIds.Count;
    }
}

/// <summary>The daemon with a tight report limit (3 an hour) and a recording <see cref="ILivePublishers"/>.</summary>
public abstract class ModerationApp : ControlPlaneApp
{
    public RecordingLivePublishers Publishers { get; } = new();

    protected override IEnumerable<string> ExtraArgs => ["--StreamVerse:ControlPlane:Moderation:ReportsPerHour", "3"];

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<ILivePublishers>(Publishers);
    }
}

public sealed class SqliteModerationApp : ModerationApp
{
    public override string Provider => "sqlite";
}

public sealed class PostgresModerationApp : ModerationApp
{
    public override string Provider => "postgres";
}

/// <summary>Reports, the queue, claims, actions, appeals, the audit log, enforcement and blocks (issue 21), on both engines.</summary>
public abstract class ModerationTests(ModerationApp app)
{
    private async Task<string> PlayableVideoAsync(Persona owner, string visibility = "public") =>
        (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), visibility, playable: true)).GetProperty("id").GetString()!;

    private async Task<JsonElement> ReportAsync(Persona reporter, string kind, string objectId, string reason = "spam", string text = "please look") =>
        await app.JsonAsync(HttpMethod.Post, "api/v1/reports", reporter.AccessToken, new { kind, objectId, reason, text }, HttpStatusCode.Created);

    private async Task<JsonElement> ActAsync(Persona moderator, string caseId, string action, int? days = null, HttpStatusCode expect = HttpStatusCode.Created) =>
        await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/cases/{caseId}/actions", moderator.AccessToken,
            days is null ? new { action, reason = "rule 4" } : new { action, reason = "rule 4", days }, expect);

    private async Task<List<JsonElement>> AllPagesAsync(string path, string token)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var sep = path.Contains('?') ? "&" : "?";
            var page = await app.JsonAsync(HttpMethod.Get, cursor is null ? path : $"{path}{sep}cursor={Uri.EscapeDataString(cursor)}", token);
            items.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return items;
    }

    private async Task<string> StreamKeyAsync(Persona owner)
    {
        var channel = await app.NewChannelAsync(owner);
        var key = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", owner.AccessToken, expect: HttpStatusCode.Created);
        return key.GetProperty("key").GetString()!;
    }

    [Fact]
    public async Task Duplicate_reports_merge_into_one_open_case_with_a_count_and_the_reporters()
    {
        var owner = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var (a, b) = (await app.NewUserAsync(), await app.NewUserAsync());
        var first = await ReportAsync(a, "video", video, "violent");
        var second = await ReportAsync(b, "video", video, "hateful");
        Assert.Equal(first.GetProperty("caseId").GetString(), second.GetProperty("caseId").GetString());

        // The same reporter again is a 409, and does not count twice.
        using (var again = await app.SendAsync(HttpMethod.Post, "api/v1/reports", a.AccessToken, new { kind = "video", objectId = video, reason = "spam" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        var moderator = await app.NewUserAsync("moderator");
        var detail = await app.JsonAsync(HttpMethod.Get, $"api/v1/moderation/cases/{first.GetProperty("caseId").GetString()}", moderator.AccessToken);
        Assert.Equal(2, detail.GetProperty("case").GetProperty("reportCount").GetInt32());
        Assert.Equal("violent", detail.GetProperty("case").GetProperty("reason").GetString());
        Assert.Equal(owner.Id, detail.GetProperty("case").GetProperty("ownerId").GetString());
        Assert.Equal([a.Id, b.Id], detail.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("reporterId").GetString()!).ToArray());

        // Bad input names the field; a private video is not found for a stranger.
        using (var bad = await app.SendAsync(HttpMethod.Post, "api/v1/reports", a.AccessToken, new { kind = "video", objectId = video, reason = "boring" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("reason", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var hidden = await PlayableVideoAsync(owner, "private");
        using var notFound = await app.SendAsync(HttpMethod.Post, "api/v1/reports", b.AccessToken, new { kind = "video", objectId = hidden, reason = "spam" });
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
    }

    [Fact]
    public async Task The_reporter_talks_with_moderators_on_the_report_and_sees_the_outcome()
    {
        var author = await app.NewUserAsync();
        var reporter = await app.NewUserAsync();
        var stranger = await app.NewUserAsync();
        var moderator = await app.NewUserAsync("moderator");
        var report = await ReportAsync(reporter, "account", author.Id, "privacy", "posts my address");
        var reportId = report.GetProperty("id").GetString()!;

        await app.JsonAsync(HttpMethod.Post, $"api/v1/reports/{reportId}/messages", moderator.AccessToken, new { body = "Where exactly?" }, HttpStatusCode.Created);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/reports/{reportId}/messages", reporter.AccessToken, new { body = "In the bio." }, HttpStatusCode.Created);
        var thread = await app.JsonAsync(HttpMethod.Get, $"api/v1/reports/{reportId}/messages", reporter.AccessToken);
        Assert.Equal([true, false], thread.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("fromModerator").GetBoolean()).ToArray());
        using (var peek = await app.SendAsync(HttpMethod.Get, $"api/v1/reports/{reportId}/messages", stranger.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, peek.StatusCode);
        }

        await ActAsync(moderator, report.GetProperty("caseId").GetString()!, "suspend", days: 7);
        var mine = await app.JsonAsync(HttpMethod.Get, "api/v1/me/reports", reporter.AccessToken);
        var item = Assert.Single(mine.GetProperty("items").EnumerateArray());
        Assert.Equal("actioned", item.GetProperty("caseState").GetString());
        Assert.Equal("suspend", item.GetProperty("outcome").GetString());

        // The suspended account may not create videos (uploads) until the suspension ends.
        var channel = await app.NewChannelAsync(author);
        using var create = await app.SendAsync(HttpMethod.Post, "api/v1/videos", author.AccessToken, new { channelId = channel, title = "t", visibility = "public" });
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
    }

    [Fact]
    public async Task Reports_per_account_are_rate_limited_over_http()
    {
        var reporter = await app.NewUserAsync();
        for (var i = 0; i < 3; i++)
        {
            var owner = await app.NewUserAsync();
            await ReportAsync(reporter, "account", owner.Id);
        }

        var fourth = await app.NewUserAsync();
        using var refused = await app.SendAsync(HttpMethod.Post, "api/v1/reports", reporter.AccessToken, new { kind = "account", objectId = fourth.Id, reason = "spam" });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Another account is not limited by this one's reports.
        await ReportAsync(await app.NewUserAsync(), "account", fourth.Id);
    }

    [Fact]
    public async Task The_queue_filters_by_kind_reason_and_state_and_sorts_oldest_or_most_reported()
    {
        var moderator = await app.NewUserAsync("moderator");
        var owner = await app.NewUserAsync();
        var once = await app.NewChannelAsync(owner);
        var thrice = await app.NewChannelAsync(owner);
        var onceCase = (await ReportAsync(await app.NewUserAsync(), "channel", once, "rights")).GetProperty("caseId").GetString();
        string? thriceCase = null;
        for (var i = 0; i < 3; i++)
        {
            thriceCase = (await ReportAsync(await app.NewUserAsync(), "channel", thrice, "rights")).GetProperty("caseId").GetString();
        }

        var oldest = await AllPagesAsync("api/v1/moderation/cases?kind=channel&reason=rights&limit=2", moderator.AccessToken);
        Assert.All(oldest, c => Assert.Equal(("channel", "rights", "open"), (c.GetProperty("kind").GetString(), c.GetProperty("reason").GetString(), c.GetProperty("state").GetString())));
        var ids = oldest.Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.True(ids.IndexOf(onceCase) < ids.IndexOf(thriceCase) && ids.IndexOf(onceCase) >= 0);

        var most = await AllPagesAsync("api/v1/moderation/cases?kind=channel&reason=rights&sort=most-reported&limit=1", moderator.AccessToken);
        var counts = most.Select(c => c.GetProperty("reportCount").GetInt32()).ToList();
        Assert.Equal(counts.OrderByDescending(c => c), counts);
        var mostIds = most.Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.True(mostIds.IndexOf(thriceCase) < mostIds.IndexOf(onceCase));

        // A cursor of the other sort is refused by name.
        var page = await app.JsonAsync(HttpMethod.Get, "api/v1/moderation/cases?limit=1", moderator.AccessToken);
        using var mixed = await app.SendAsync(HttpMethod.Get, $"api/v1/moderation/cases?sort=most-reported&cursor={page.GetProperty("nextCursor").GetString()}", moderator.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, mixed.StatusCode);
        Assert.Contains("cursor", await mixed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await ActAsync(moderator, onceCase!, "dismiss");
        var dismissed = await AllPagesAsync("api/v1/moderation/cases?state=dismissed&kind=channel", moderator.AccessToken);
        Assert.Contains(dismissed, c => c.GetProperty("id").GetString() == onceCase);
    }

    [Fact]
    public async Task A_second_moderator_claim_is_refused_while_held_and_taken_after_it_expires()
    {
        var (a, b) = (await app.NewUserAsync("moderator"), await app.NewUserAsync("moderator"));
        var caseId = (await ReportAsync(await app.NewUserAsync(), "account", (await app.NewUserAsync()).Id)).GetProperty("caseId").GetString()!;
        var claim = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/cases/{caseId}/claim", a.AccessToken);
        Assert.Equal(a.Id, claim.GetProperty("claimedBy").GetString());
        using (var second = await app.SendAsync(HttpMethod.Post, $"api/v1/moderation/cases/{caseId}/claim", b.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        }

        await ActAsync(b, caseId, "dismiss", expect: HttpStatusCode.Conflict);

        // Claims expire: once the holder's time is up, the other moderator takes it.
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE moderation_cases SET claim_expires_at = @t WHERE id = @id", [("t", DateTimeOffset.UtcNow.AddSeconds(-1)), ("id", caseId)], default);
        }

        var taken = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/cases/{caseId}/claim", b.AccessToken);
        Assert.Equal(b.Id, taken.GetProperty("claimedBy").GetString());
    }

    [Fact]
    public async Task A_removed_video_leaves_lists_and_playback_and_a_granted_appeal_by_another_moderator_restores_it()
    {
        var owner = await app.NewUserAsync();
        var viewer = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var gate = app.Get<PlaybackGate>();
        Assert.True(gate.Allows(video, default, null));
        var caseId = (await ReportAsync(viewer, "video", video)).GetProperty("caseId").GetString()!;
        var (remover, decider) = (await app.NewUserAsync("moderator"), await app.NewUserAsync("moderator"));
        var action = await ActAsync(remover, caseId, "remove");

        Assert.False(gate.Allows(video, default, null));
        using (var get = await app.SendAsync(HttpMethod.Get, $"api/v1/videos/{video}", viewer.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }

        var listed = await AllPagesAsync("api/v1/videos?limit=100", viewer.AccessToken);
        Assert.DoesNotContain(listed, v => v.GetProperty("id").GetString() == video);
        using (var token = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { }))
        {
            Assert.Equal(HttpStatusCode.NotFound, token.StatusCode);
        }

        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.NotNull(await db.ScalarAsync<string>("SELECT video_id FROM edge_invalidations WHERE video_id = @v", [("v", video)], default));
        }

        // The owner changing the visibility does not reopen it (the origin's gate keeps a moderator's block).
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "unlisted" });
        Assert.False(gate.Allows(video, default, null));

        // The owner sees the action and appeals; the moderator who removed it may not decide; another grants it.
        var against = await app.JsonAsync(HttpMethod.Get, "api/v1/me/moderation-actions", owner.AccessToken);
        Assert.Equal(action.GetProperty("id").GetString(), Assert.Single(against.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        using (var strangerAppeal = await app.SendAsync(HttpMethod.Post, $"api/v1/moderation/actions/{action.GetProperty("id").GetString()}/appeal", viewer.AccessToken, new { text = "x" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, strangerAppeal.StatusCode);
        }

        var appeal = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/actions/{action.GetProperty("id").GetString()}/appeal", owner.AccessToken,
            new { text = "It is my own footage." }, HttpStatusCode.Created);
        var appealId = appeal.GetProperty("id").GetString();
        using (var self = await app.SendAsync(HttpMethod.Post, $"api/v1/moderation/appeals/{appealId}/decision", remover.AccessToken, new { granted = true, reason = "oops" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, self.StatusCode);
        }

        var decided = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/appeals/{appealId}/decision", decider.AccessToken, new { granted = true, reason = "licensed" });
        Assert.Equal("granted", decided.GetProperty("state").GetString());
        Assert.True(gate.Allows(video, default, null));
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", viewer.AccessToken);

        // Decided once.
        using var twice = await app.SendAsync(HttpMethod.Post, $"api/v1/moderation/appeals/{appealId}/decision", decider.AccessToken, new { granted = false, reason = "no" });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
    }

    [Fact]
    public async Task A_hidden_comment_leaves_the_thread_and_a_dismissal_shows_it_again_with_the_count()
    {
        var owner = await app.NewUserAsync();
        var author = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var comment = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", author.AccessToken, new { text = "spam spam" }, HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        var caseId = (await ReportAsync(owner, "comment", comment)).GetProperty("caseId").GetString()!;
        var moderator = await app.NewUserAsync("moderator");
        await ActAsync(moderator, caseId, "hide");
        async Task<(int Listed, long Count)> StateAsync() =>
            ((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments")).GetProperty("items").GetArrayLength(),
             (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}")).GetProperty("commentCount").GetInt64());
        Assert.Equal((0, 0L), await StateAsync());
        await ActAsync(moderator, caseId, "dismiss");
        Assert.Equal((1, 1L), await StateAsync());
    }

    [Fact]
    public async Task A_ban_ends_sessions_and_publishes_at_once_and_refuses_sign_in_and_stream_keys()
    {
        var banned = await app.NewUserAsync();
        var key = await StreamKeyAsync(banned);
        var ingest = app.Get<LiveIngest>();
        Assert.NotNull(await ingest.ResolveAsync(key, default));
        var caseId = (await ReportAsync(await app.NewUserAsync(), "account", banned.Id, "hateful")).GetProperty("caseId").GetString()!;
        var moderator = await app.NewUserAsync("moderator");
        await ActAsync(moderator, caseId, "ban");

        using (var me = await app.SendAsync(HttpMethod.Get, "api/v1/me", banned.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }

        using (var login = await app.SendAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email = banned.Email, password = ControlPlaneApp.Password }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        }

        using (var refresh = await app.SendAsync(HttpMethod.Post, "api/v1/auth/refresh", body: new { refreshToken = banned.RefreshToken }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        }

        Assert.Null(await ingest.ResolveAsync(key, default));
        await using var db = await app.Get<Database>().OpenAsync(default);
        var keyId = await db.ScalarAsync<string>("SELECT id FROM stream_keys WHERE hash = @h", [("h", Ids.HashSecret(key))], default);
        Assert.Contains(keyId, app.Publishers.Disconnected);

        // An admin cannot be banned by a moderator (nor by anyone through a case).
        var adminCase = (await ReportAsync(await app.NewUserAsync(), "account", (await app.AdminAsync()).Id)).GetProperty("caseId").GetString()!;
        await ActAsync(moderator, adminCase, "ban", expect: HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Three_active_strikes_suspend_uploads_and_live_and_a_granted_appeal_lifts_one()
    {
        var creator = await app.NewUserAsync("creator");
        var key = await StreamKeyAsync(creator);
        var (striker, decider) = (await app.NewUserAsync("moderator"), await app.NewUserAsync("moderator"));
        var existing = (await app.NewVideoAsync(creator, await app.NewChannelAsync(creator))).GetProperty("id").GetString();
        var strikes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(await app.Get<LiveIngest>().ResolveAsync(key, default));
            var caseId = (await ReportAsync(await app.NewUserAsync(), "channel", await app.NewChannelAsync(creator))).GetProperty("caseId").GetString()!;
            strikes.Add((await ActAsync(striker, caseId, "strike")).GetProperty("id").GetString()!);
        }

        Assert.Null(await app.Get<LiveIngest>().ResolveAsync(key, default));
        var channel = await app.NewChannelAsync(creator);
        using (var create = await app.SendAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = channel, title = "t", visibility = "public" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        }

        // Nor a new source for a video it already has (PUT and tus).
        using (var source = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{existing}/source", creator.AccessToken, content: new ByteArrayContent([1, 2, 3])))
        {
            Assert.Equal(HttpStatusCode.Forbidden, source.StatusCode);
        }

        var appeal = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/actions/{strikes[0]}/appeal", creator.AccessToken, new { text = "mistake" }, HttpStatusCode.Created);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/appeals/{appeal.GetProperty("id").GetString()}/decision", decider.AccessToken, new { granted = true, reason = "ok" });
        Assert.NotNull(await app.Get<LiveIngest>().ResolveAsync(key, default));
        await app.JsonAsync(HttpMethod.Post, "api/v1/videos", creator.AccessToken, new { channelId = channel, title = "t", visibility = "public" }, HttpStatusCode.Created);
    }

    [Fact]
    public async Task The_audit_log_records_every_action_and_the_database_refuses_to_change_it()
    {
        var owner = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var caseId = (await ReportAsync(await app.NewUserAsync(), "video", video)).GetProperty("caseId").GetString()!;
        var moderator = await app.NewUserAsync("moderator");
        await ActAsync(moderator, caseId, "age-restrict");

        var admin = await app.AdminAsync();
        var entries = await AllPagesAsync("api/v1/moderation/audit?limit=50", admin.AccessToken);
        var entry = Assert.Single(entries, e => e.GetProperty("objectId").GetString() == video);
        Assert.Equal(("age-restrict", moderator.Id, caseId), (entry.GetProperty("action").GetString(), entry.GetProperty("moderatorId").GetString(), entry.GetProperty("caseId").GetString()));
        var before = JsonDocument.Parse(entry.GetProperty("beforeState").GetString()!).RootElement;
        Assert.False(before.GetProperty("ageRestricted").GetBoolean());
        Assert.Equal("public", before.GetProperty("visibility").GetString());

        using (var csv = await app.SendAsync(HttpMethod.Get, "api/v1/moderation/audit.csv", admin.AccessToken))
        {
            Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
            var text = await csv.Content.ReadAsStringAsync();
            Assert.StartsWith("seq,at,moderator_id,action,object_kind,object_id,case_id,reason,before_state\r\n", text, StringComparison.Ordinal);
            // The id's cell: quoted, and defused with a leading ' when the random id starts with '-' (a spreadsheet would run it).
            Assert.Contains(video.StartsWith('-') ? $"\"'{video}\"" : $"\"{video}\"", text, StringComparison.Ordinal);
        }

        await using var db = await app.Get<Database>().OpenAsync(default);
        await Assert.ThrowsAnyAsync<DbException>(() => db.ExecAsync("UPDATE moderation_audit SET reason = 'rewritten' WHERE object_id = @v", [("v", video)], default));
        await Assert.ThrowsAnyAsync<DbException>(() => db.ExecAsync("DELETE FROM moderation_audit WHERE object_id = @v", [("v", video)], default));
        Assert.Equal("rule 4", await db.ScalarAsync<string>("SELECT reason FROM moderation_audit WHERE object_id = @v", [("v", video)], default));
    }

    [Fact]
    public void Csv_cells_are_quoted_and_formulas_defused() =>
        Assert.Equal(["\"a\"\"b\"", "\"'=HYPERLINK(1)\"", "\"'-1\"", "\"\""], new[] { "a\"b", "=HYPERLINK(1)", "-1", "" }.Select(AuditLog.Cell).ToArray());

    [Fact]
    public async Task An_age_restricted_video_plays_only_to_signed_in_adults()
    {
        var owner = await app.NewUserAsync();
        var viewer = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var gate = app.Get<PlaybackGate>();
        var caseId = (await ReportAsync(viewer, "video", video, "sexual")).GetProperty("caseId").GetString()!;
        await ActAsync(await app.NewUserAsync("moderator"), caseId, "age-restrict");

        // No token, no play; a non-adult gets no token and no comments; an attested adult gets both.
        Assert.False(gate.Allows(video, default, null));
        using (var refused = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var anonymous = await app.SendAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        }

        var attested = await app.JsonAsync(HttpMethod.Put, "api/v1/me/age-attestation", viewer.AccessToken, new { adult = true });
        Assert.True(attested.GetProperty("adult").GetBoolean());
        var token = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { });
        Assert.True(gate.Allows(video, token.GetProperty("token").GetString(), null));
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", viewer.AccessToken);
    }

    [Fact]
    public async Task The_stored_presentation_of_a_removed_video_is_deleted_only_after_the_appeal_window()
    {
        var owner = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var blobs = app.Get<IBlobStorage>();
        var blob = $"vod/{video}/test/index.m3u8";
        await blobs.PutAsync(blob, "#EXTM3U\n"u8.ToArray(), "application/vnd.apple.mpegurl", default);
        var caseId = (await ReportAsync(await app.NewUserAsync(), "video", video)).GetProperty("caseId").GetString()!;
        await ActAsync(await app.NewUserAsync("moderator"), caseId, "remove");
        var purger = app.Services.GetServices<IHostedService>().OfType<RemovedVideoPurger>().Single();

        Assert.DoesNotContain(video, await purger.PurgeDueAsync(default));
        Assert.NotNull(await blobs.StatAsync(blob, default));

        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET moderated_at = @t WHERE id = @id", [("t", DateTimeOffset.UtcNow.AddDays(-31)), ("id", video)], default);
        }

        Assert.Contains(video, await purger.PurgeDueAsync(default));
        Assert.Null(await blobs.StatAsync(blob, default));
    }

    [Fact]
    public async Task A_blocked_account_is_hidden_from_the_blocker_and_cannot_comment_reply_or_mention_them()
    {
        var owner = await app.NewUserAsync();
        var pest = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var other = await PlayableVideoAsync(await app.NewUserAsync());
        var ownerHandle = (await app.JsonAsync(HttpMethod.Get, "api/v1/me", owner.AccessToken)).GetProperty("handle").GetString();
        var early = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", pest.AccessToken, new { text = "first!" }, HttpStatusCode.Created)).GetProperty("id").GetString();
        var ownersComment = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{other}/comments", owner.AccessToken, new { text = "nice" }, HttpStatusCode.Created))
            .GetProperty("id").GetString();

        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/blocks/{pest.Id}", owner.AccessToken, new { kind = "block" });

        // Hidden from the blocker only.
        Assert.DoesNotContain((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)).GetProperty("items").EnumerateArray(),
            c => c.GetProperty("id").GetString() == early);
        Assert.Contains((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments")).GetProperty("items").EnumerateArray(),
            c => c.GetProperty("id").GetString() == early);

        // No comment on the blocker's videos, no reply to the blocker elsewhere, no mention of them.
        using (var onVideo = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", pest.AccessToken, new { text = "again" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, onVideo.StatusCode);
        }

        using (var reply = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{other}/comments", pest.AccessToken, new { text = "reply", parentId = ownersComment }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, reply.StatusCode);
        }

        var mention = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{other}/comments", pest.AccessToken, new { text = $"hey @{ownerHandle}" }, HttpStatusCode.Created);
        Assert.Empty(mention.GetProperty("mentions").EnumerateArray());

        // A mute only hides; unblocking restores everything.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/me/blocks/{pest.Id}", owner.AccessToken, new { kind = "mute" });
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", pest.AccessToken, new { text = "muted" }, HttpStatusCode.Created);
        var blocks = await app.JsonAsync(HttpMethod.Get, "api/v1/me/blocks", owner.AccessToken);
        Assert.Equal("mute", Assert.Single(blocks.GetProperty("items").EnumerateArray()).GetProperty("kind").GetString());
        using (var self = await app.SendAsync(HttpMethod.Put, $"api/v1/me/blocks/{owner.Id}", owner.AccessToken, new { kind = "block" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/me/blocks/{pest.Id}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Contains((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)).GetProperty("items").EnumerateArray(),
            c => c.GetProperty("id").GetString() == early);
    }

    [Fact]
    public async Task Admins_grant_the_moderator_role_and_a_plain_user_cannot_reach_the_queue()
    {
        var user = await app.NewUserAsync();
        using (var refused = await app.SendAsync(HttpMethod.Get, "api/v1/moderation/cases", user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        var profile = await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{user.Id}/role", (await app.AdminAsync()).AccessToken, new { role = "moderator" });
        Assert.Equal("moderator", profile.GetProperty("role").GetString());
        var moderator = await app.LoginAsync(user.Email);
        await app.JsonAsync(HttpMethod.Get, "api/v1/moderation/cases", moderator.AccessToken);
    }
}

[CollectionDefinition("moderation-sqlite")]
public sealed class ModerationSqliteCollection : ICollectionFixture<SqliteModerationApp>;

[CollectionDefinition("moderation-postgres")]
public sealed class ModerationPostgresCollection : ICollectionFixture<PostgresModerationApp>;

[Collection("moderation-sqlite")]
public sealed class ModerationTestsSqlite(SqliteModerationApp app) : ModerationTests(app);

[Collection("moderation-postgres")]
public sealed class ModerationTestsPostgres(PostgresModerationApp app) : ModerationTests(app);
