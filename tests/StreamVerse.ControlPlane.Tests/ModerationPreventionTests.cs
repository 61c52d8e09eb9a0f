using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Prevention (issue 21): the instance word list and the channel's hold comments and refuse chat messages; links from new
/// accounts are held; a limited account's comments are held without it being told; a suspended account neither comments nor
/// chats; a chat message can be reported and removed. On both engines, in the moderation daemon (its tests run one at a time,
/// and each word here is unique to its test, so the instance list of one does not reach another).
/// </summary>
public abstract class ModerationPreventionTests(ModerationApp app)
{
    private async Task<string> PlayableVideoAsync(Persona owner) =>
        (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public", playable: true)).GetProperty("id").GetString()!;

    private async Task<JsonElement> CommentAsync(Persona author, string video, string text) =>
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", author.AccessToken, new { text }, HttpStatusCode.Created);

    private async Task<string> CaseOfAsync(string kind, string objectId) =>
        (await app.JsonAsync(HttpMethod.Post, "api/v1/reports", (await app.NewUserAsync()).AccessToken, new { kind, objectId, reason = "spam", text = "look" },
            HttpStatusCode.Created)).GetProperty("caseId").GetString()!;

    private async Task<JsonElement> ActAsync(Persona moderator, string caseId, string action, int? days = null, HttpStatusCode expect = HttpStatusCode.Created) =>
        await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/cases/{caseId}/actions", moderator.AccessToken,
            days is null ? new { action, reason = "rule 7" } : new { action, reason = "rule 7", days }, expect);

    private async Task<string[]> ListedTextsAsync(string video, Persona? caller = null) =>
        [.. (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", caller?.AccessToken)).GetProperty("items").EnumerateArray()
            .Select(c => c.GetProperty("text").GetString()!)];

    private async Task AgeAccountAsync(Persona account, TimeSpan age)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        await db.ExecAsync("UPDATE users SET created_at = @t WHERE id = @id", [("t", DateTimeOffset.UtcNow - age), ("id", account.Id)], default);
    }

    [Fact]
    public async Task The_instance_word_list_holds_comments_for_the_owner_refuses_chat_and_is_audited()
    {
        var moderator = await app.NewUserAsync("moderator");
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);

        // Only moderators and admins read and write the list; bad entries name their index.
        await app.JsonAsync(HttpMethod.Get, "api/v1/moderation/words", writer.AccessToken, expect: HttpStatusCode.Forbidden);
        using (var bad = await app.SendAsync(HttpMethod.Put, "api/v1/moderation/words", moderator.AccessToken, new { words = new[] { "ok", "two words", "**" } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var body = await bad.Content.ReadAsStringAsync();
            Assert.Contains("words[1]", body, StringComparison.Ordinal);
            Assert.Contains("words[2]", body, StringComparison.Ordinal);
        }

        var list = await app.JsonAsync(HttpMethod.Put, "api/v1/moderation/words", moderator.AccessToken, new { words = new[] { "Qzvbad*", "qzv?ord" } });
        Assert.Equal(["qzv?ord", "qzvbad*"], list.GetProperty("words").EnumerateArray().Select(w => w.GetString()));
        try
        {
            var held = await CommentAsync(writer, video, "you are all QZVBADDIES");
            Assert.Equal("held", held.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, held.GetProperty("heldReason").ValueKind); // the author is not told why
            var clean = await CommentAsync(writer, video, "a fine video");
            Assert.Equal("published", clean.GetProperty("status").GetString());

            // Others see only the clean one; the owner sees both, and why the first waits; the owner's own words are not held.
            Assert.Equal(["a fine video"], await ListedTextsAsync(video));
            var forOwner = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal("words", forOwner.Single(c => c.GetProperty("status").GetString() == "held").GetProperty("heldReason").GetString());
            Assert.Equal("published", (await CommentAsync(owner, video, "qzvbad myself")).GetProperty("status").GetString());
            Assert.Equal(2L, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}")).GetProperty("commentCount").GetInt64());

            // An edit that brings a listed word back into a published comment sends it back to review.
            var edited = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}/comments/{clean.GetProperty("id").GetString()}", writer.AccessToken,
                new { text = "a fine qzvword" });
            Assert.Equal("held", edited.GetProperty("status").GetString());
            Assert.Equal(["qzvbad myself"], await ListedTextsAsync(video));
            Assert.Equal(1L, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}")).GetProperty("commentCount").GetInt64());

            // The owner approves what the list held.
            await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{held.GetProperty("id").GetString()}/approve", owner.AccessToken);
            Assert.Contains("you are all QZVBADDIES", await ListedTextsAsync(video));

            // Chat refuses a listed word outright.
            var (live, _) = await ChatClient.LiveVideoAsync(app, owner);
            await using var chat = await ChatClient.ConnectAsync(app.BaseUrl, writer.AccessToken);
            Assert.Equal("blocked-word", await chat.RefusedAsync(live, "qzvbadness"));
            await chat.SendAsync(live, "hello");

            // The change is in the audit log with the list before it.
            var audit = (await app.JsonAsync(HttpMethod.Get, "api/v1/moderation/audit?limit=100", (await app.AdminAsync()).AccessToken)).GetProperty("items")
                .EnumerateArray().First(e => e.GetProperty("action").GetString() == "word-list");
            Assert.Equal(moderator.Id, audit.GetProperty("moderatorId").GetString());
            Assert.Contains("\"words\"", audit.GetProperty("beforeState").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await app.JsonAsync(HttpMethod.Put, "api/v1/moderation/words", moderator.AccessToken, new { words = Array.Empty<string>() });
        }
    }

    [Fact]
    public async Task The_channel_word_list_holds_comments_too()
    {
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/chat/settings", owner.AccessToken,
            new { slowModeSeconds = 0, subscribersOnly = false, blockedWords = new[] { "xqjunk" } });
        Assert.Equal("held", (await CommentAsync(writer, video, "pure XQJUNK")).GetProperty("status").GetString());
        Assert.Equal("published", (await CommentAsync(writer, video, "pure gold")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Links_from_new_accounts_are_held_and_from_older_ones_published()
    {
        var owner = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var fresh = await app.NewUserAsync();
        foreach (var text in new[] { "see https://example.com/x", "see HTTP://example.com", "at www.example.com" })
        {
            Assert.Equal("held", (await CommentAsync(fresh, video, text)).GetProperty("status").GetString());
        }

        Assert.Equal("published", (await CommentAsync(fresh, video, "no link here")).GetProperty("status").GetString());
        var forOwner = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)).GetProperty("items").EnumerateArray();
        Assert.All(forOwner.Where(c => c.GetProperty("status").GetString() == "held"), c => Assert.Equal("link", c.GetProperty("heldReason").GetString()));

        var older = await app.NewUserAsync();
        await AgeAccountAsync(older, TimeSpan.FromDays(2));
        Assert.Equal("published", (await CommentAsync(older, video, "see https://example.com/y")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_limited_account_is_held_without_being_told_and_a_granted_appeal_lifts_it()
    {
        var owner = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var spammer = await app.NewUserAsync();
        var (moderator, decider) = (await app.NewUserAsync("moderator"), await app.NewUserAsync("moderator"));
        var limit = await ActAsync(moderator, await CaseOfAsync("account", spammer.Id), "limit");
        Assert.Equal("limit", limit.GetProperty("action").GetString());
        await ActAsync(moderator, await CaseOfAsync("account", spammer.Id), "limit", expect: HttpStatusCode.Conflict);

        var comment = await CommentAsync(spammer, video, "buy followers");
        Assert.Equal(JsonValueKind.Null, comment.GetProperty("heldReason").ValueKind);
        Assert.Equal(["buy followers"], await ListedTextsAsync(video, spammer)); // it sees its own comment
        Assert.Empty(await ListedTextsAsync(video)); // nobody else does
        var forOwner = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)).GetProperty("items")[0];
        Assert.Equal("limited", forOwner.GetProperty("heldReason").GetString());

        var appeal = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/actions/{limit.GetProperty("id").GetString()}/appeal", spammer.AccessToken,
            new { text = "I stopped" }, HttpStatusCode.Created);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/appeals/{appeal.GetProperty("id").GetString()}/decision", decider.AccessToken,
            new { granted = true, reason = "ok" });
        Assert.Equal("published", (await CommentAsync(spammer, video, "thanks")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_suspended_account_can_neither_comment_edit_nor_chat_until_the_suspension_ends()
    {
        var owner = await app.NewUserAsync();
        var video = await PlayableVideoAsync(owner);
        var (live, _) = await ChatClient.LiveVideoAsync(app, owner);
        var member = await app.NewUserAsync();
        var earlier = (await CommentAsync(member, video, "before")).GetProperty("id").GetString()!;
        await using var chat = await ChatClient.ConnectAsync(app.BaseUrl, member.AccessToken);
        await chat.SendAsync(live, "before");

        await ActAsync(await app.NewUserAsync("moderator"), await CaseOfAsync("account", member.Id), "suspend", days: 3);
        using (var refused = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", member.AccessToken, new { text = "during" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("suspended", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var edit = await app.SendAsync(HttpMethod.Patch, $"api/v1/videos/{video}/comments/{earlier}", member.AccessToken, new { text = "changed" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, edit.StatusCode);
        }

        Assert.Equal("suspended", await chat.RefusedAsync(live, "during"));

        // The suspension ends by itself at its time.
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE users SET suspended_until = @t WHERE id = @id", [("t", DateTimeOffset.UtcNow.AddSeconds(-1)), ("id", member.Id)], default);
        }

        await CommentAsync(member, video, "after");
        await chat.SendAsync(live, "after");
    }

    [Fact]
    public async Task A_reported_chat_message_is_removed_for_everyone_and_a_granted_appeal_restores_it_to_the_replay()
    {
        var owner = await app.NewUserAsync();
        var author = await app.NewUserAsync();
        var (live, _) = await ChatClient.LiveVideoAsync(app, owner);
        await using var viewer = await ChatClient.ConnectAsync(app.BaseUrl);
        await viewer.JoinAsync(live);
        await using var writer = await ChatClient.ConnectAsync(app.BaseUrl, author.AccessToken);
        var message = (await writer.SendAsync(live, "something nasty")).GetProperty("id").GetString()!;
        await viewer.NextAsync("chat.message");

        var caseId = await CaseOfAsync("chat-message", message);
        var (moderator, decider) = (await app.NewUserAsync("moderator"), await app.NewUserAsync("moderator"));
        var detail = await app.JsonAsync(HttpMethod.Get, $"api/v1/moderation/cases/{caseId}", moderator.AccessToken);
        Assert.Equal(author.Id, detail.GetProperty("case").GetProperty("ownerId").GetString());
        await ActAsync(moderator, caseId, "hide", expect: HttpStatusCode.Conflict);
        var removal = await ActAsync(moderator, caseId, "remove");
        Assert.Equal(message, (await viewer.NextAsync("chat.deleted")).GetProperty("messageId").GetString());
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{live}/chat/messages")).GetProperty("items").EnumerateArray());

        // A message nobody may see cannot be reported; a removed one is gone.
        using (var gone = await app.SendAsync(HttpMethod.Post, "api/v1/reports", (await app.NewUserAsync()).AccessToken,
                   new { kind = "chat-message", objectId = message, reason = "spam" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        var appeal = await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/actions/{removal.GetProperty("id").GetString()}/appeal", author.AccessToken,
            new { text = "it was a joke" }, HttpStatusCode.Created);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/appeals/{appeal.GetProperty("id").GetString()}/decision", decider.AccessToken,
            new { granted = true, reason = "fine" });
        Assert.Equal(message, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{live}/chat/messages")).GetProperty("items")[0].GetProperty("id").GetString());
    }
}

[Collection("moderation-sqlite")]
public sealed class ModerationPreventionTestsSqlite(SqliteModerationApp app) : ModerationPreventionTests(app);

[Collection("moderation-postgres")]
public sealed class ModerationPreventionTestsPostgres(PostgresModerationApp app) : ModerationPreventionTests(app);
