using System.Text.Json;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Comments through the API of the running daemon, on SQLite and PostgreSQL: threads and replies, edit, soft delete, pin,
/// heart, upvotes, sorting and keyset paging, the per-video policy and its channel default, the video's access rules on
/// every comment route, text rules and mentions, and exact counts under concurrent writers.
/// </summary>
public abstract class CommentTests(ControlPlaneApp app)
{
    private async Task<(Persona Owner, string Channel, string Video)> VideoAsync(string visibility = "public")
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, visibility, playable: true)).GetProperty("id").GetString()!;
        return (owner, channel, video);
    }

    private Task<JsonElement> PostAsync(Persona who, string video, string text, string? parentId = null, HttpStatusCode expect = HttpStatusCode.Created) =>
        app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", who.AccessToken, new { text, parentId }, expect);

    private async Task<string> IdOfPostAsync(Persona who, string video, string text, string? parentId = null) =>
        (await PostAsync(who, video, text, parentId)).GetProperty("id").GetString()!;

    private async Task<long?> CommentCountAsync(string video, Persona? who)
    {
        var v = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", who?.AccessToken);
        return v.GetProperty("commentCount").ValueKind == JsonValueKind.Null ? null : v.GetProperty("commentCount").GetInt64();
    }

    private static List<string> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();

    private async Task<JsonElement> CommentAsync(string video, string id, Persona? who = null) =>
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{id}", who?.AccessToken);

    [Fact]
    public async Task Replies_form_one_level_threads_that_keep_the_parent_and_exact_counts()
    {
        var (owner, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var aliceHandle = (await app.JsonAsync(HttpMethod.Get, "api/v1/me", alice.AccessToken)).GetProperty("handle").GetString()!;

        var thread = await PostAsync(alice, video, "  First!\nwith a second line  ");
        var threadId = thread.GetProperty("id").GetString()!;
        Assert.Equal("  First!\nwith a second line  ", thread.GetProperty("text").GetString()); // stored as written
        Assert.Equal(threadId, thread.GetProperty("threadId").GetString());
        Assert.Equal(JsonValueKind.Null, thread.GetProperty("parentId").ValueKind);
        Assert.Equal("published", thread.GetProperty("status").GetString());
        Assert.Equal(alice.Id, thread.GetProperty("author").GetProperty("id").GetString());

        var reply = await IdOfPostAsync(bob, video, "a reply", threadId);
        var replyToReply = await PostAsync(owner, video, "a reply to the reply", reply);
        Assert.Equal(threadId, replyToReply.GetProperty("threadId").GetString()); // one level: it joins the thread
        Assert.Equal(reply, replyToReply.GetProperty("parentId").GetString());     // and keeps whom it answers
        var bobHandle = (await app.JsonAsync(HttpMethod.Get, "api/v1/me", bob.AccessToken)).GetProperty("handle").GetString()!;
        Assert.Equal(bobHandle, replyToReply.GetProperty("replyingTo").GetString());

        var threads = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", null);
        Assert.Equal([threadId], Ids(threads));
        Assert.Equal(2, threads.GetProperty("items")[0].GetProperty("replyCount").GetInt64());

        var replies = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{threadId}/replies", null);
        Assert.Equal([reply, replyToReply.GetProperty("id").GetString()!], Ids(replies)); // oldest first
        Assert.Equal(aliceHandle, replies.GetProperty("items")[0].GetProperty("replyingTo").GetString());
        Assert.Equal(3, await CommentCountAsync(video, null));

        // A reply's id is not a thread.
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{reply}/replies", null, expect: HttpStatusCode.NotFound);

        // A comment of another video is not found under this one.
        var (_, _, other) = await VideoAsync();
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{other}/comments/{threadId}", null, expect: HttpStatusCode.NotFound);
        await PostAsync(bob, other, "cross-video reply", threadId, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Only_the_author_edits_and_an_edit_is_marked_with_its_time()
    {
        var (owner, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var id = await IdOfPostAsync(alice, video, "tpyo");
        Assert.False((await CommentAsync(video, id)).GetProperty("edited").GetBoolean());

        foreach (var who in new[] { owner, await app.NewUserAsync(), await app.AdminAsync() })
        {
            await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}/comments/{id}", who.AccessToken, new { text = "rewritten" }, HttpStatusCode.Forbidden);
        }

        var edited = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}/comments/{id}", alice.AccessToken, new { text = "typo" });
        Assert.Equal("typo", edited.GetProperty("text").GetString());
        Assert.True(edited.GetProperty("edited").GetBoolean());
        Assert.True(edited.GetProperty("editedAt").GetDateTimeOffset() >= edited.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal("typo", (await CommentAsync(video, id)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_deleted_comment_with_replies_stays_as_deleted_without_author_or_text_and_counts_follow()
    {
        var (owner, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var withReplies = await IdOfPostAsync(alice, video, "secret thoughts");
        var reply = await IdOfPostAsync(bob, video, "answer", withReplies);
        var alone = await IdOfPostAsync(alice, video, "alone");
        Assert.Equal(3, await CommentCountAsync(video, null));

        // Someone else's comment: not theirs to delete; the video's owner and admins may.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{withReplies}", bob.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{withReplies}", alice.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{withReplies}", alice.AccessToken, expect: HttpStatusCode.NoContent); // idempotent
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{alone}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(1, await CommentCountAsync(video, null));

        var threads = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", null);
        Assert.Equal([withReplies], Ids(threads)); // the lone deleted one is gone
        var deleted = threads.GetProperty("items")[0];
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, deleted.GetProperty("text").ValueKind);
        Assert.Equal(JsonValueKind.Null, deleted.GetProperty("author").ValueKind);
        Assert.Equal(1, deleted.GetProperty("replyCount").GetInt64());
        Assert.DoesNotContain("secret thoughts", threads.GetRawText(), StringComparison.Ordinal);

        // The text is erased from the database, not only hidden.
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.Equal("", await db.ScalarAsync<string>("SELECT text FROM comments WHERE id = @c", [("c", withReplies)], default));
        }

        // Once its last reply goes (the admin deletes it), the deleted thread leaves the list too.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{reply}", (await app.AdminAsync()).AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Empty(Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", null)));
        Assert.Equal(0, await CommentCountAsync(video, null));

        // A deleted reply stays in its thread while a published reply answers it; the answer's "replying to" goes.
        var t2 = await IdOfPostAsync(alice, video, "thread two");
        var r1 = await IdOfPostAsync(bob, video, "r1", t2);
        var r2 = await IdOfPostAsync(alice, video, "r2", r1);
        var r3 = await IdOfPostAsync(alice, video, "r3", t2);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{r1}", bob.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{r3}", alice.AccessToken, expect: HttpStatusCode.NoContent);
        var rs = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{t2}/replies", null);
        Assert.Equal([r1, r2], Ids(rs));
        Assert.True(rs.GetProperty("items")[0].GetProperty("deleted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, rs.GetProperty("items")[1].GetProperty("replyingTo").ValueKind);
        Assert.Equal(1, (await CommentAsync(video, t2)).GetProperty("replyCount").GetInt64());

        // A deleted comment takes no replies, edits or votes.
        await PostAsync(bob, video, "late", withReplies, HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}/comments/{withReplies}", alice.AccessToken, new { text = "back" }, HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{withReplies}/vote", bob.AccessToken, expect: HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task One_pin_per_video_listed_first_and_pinning_another_unpins_it()
    {
        var (owner, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var first = await IdOfPostAsync(alice, video, "one");
        var second = await IdOfPostAsync(alice, video, "two");
        var third = await IdOfPostAsync(alice, video, "three");
        var reply = await IdOfPostAsync(owner, video, "a reply", first);

        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{first}/pin", alice.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{reply}/pin", owner.AccessToken, expect: HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{first}/pin", owner.AccessToken, expect: HttpStatusCode.NoContent);
        var page = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=newest", null);
        Assert.Equal([first, third, second], Ids(page));
        Assert.True(page.GetProperty("items")[0].GetProperty("pinned").GetBoolean());

        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{second}/pin", owner.AccessToken, expect: HttpStatusCode.NoContent);
        page = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=newest", null);
        Assert.Equal([second, third, first], Ids(page));
        Assert.Equal([true, false, false], page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("pinned").GetBoolean()));

        // The pinned one is on the first page only, however the pages are cut.
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var p = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=top&limit=1" + (cursor is null ? "" : "&cursor=" + cursor), null);
            seen.AddRange(Ids(p));
            cursor = p.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal([second, third, first], seen);

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{second}/pin", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.False((await CommentAsync(video, second)).GetProperty("pinned").GetBoolean());

        // Deleting the pinned comment unpins it.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{third}/pin", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{third}", alice.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal([second, first], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=newest", null)));

        // A pin that raced a delete on PostgreSQL (its check read the comment just before the delete committed) can leave
        // pinned_comment_id on a deleted comment; made here directly: it is no pin (first has a reply, so it stays listed).
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{first}", alice.AccessToken, expect: HttpStatusCode.NoContent);
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET pinned_comment_id = @c WHERE id = @v", [("c", first), ("v", video)], default);
        }

        var raced = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=newest", null);
        Assert.Equal([second, first], Ids(raced));
        Assert.All(raced.GetProperty("items").EnumerateArray(), c => Assert.False(c.GetProperty("pinned").GetBoolean()));
    }

    [Fact]
    public async Task Only_the_videos_owner_gives_a_heart()
    {
        var (owner, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var id = await IdOfPostAsync(alice, video, "love it");
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{id}/heart", alice.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{id}/heart", (await app.AdminAsync()).AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{id}/heart", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.True((await CommentAsync(video, id)).GetProperty("hearted").GetBoolean());
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{id}/heart", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.False((await CommentAsync(video, id)).GetProperty("hearted").GetBoolean());
    }

    [Fact]
    public async Task Upvotes_are_one_per_account_and_order_top_with_recency_breaking_ties()
    {
        var (_, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var old = await IdOfPostAsync(alice, video, "old");
        var popular = await IdOfPostAsync(alice, video, "popular");
        var tie = await IdOfPostAsync(alice, video, "tie, newer than old");

        foreach (var who in new[] { alice, bob, alice })
        {
            await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{popular}/vote", who.AccessToken, expect: HttpStatusCode.NoContent);
        }

        Assert.Equal(2, (await CommentAsync(video, popular)).GetProperty("upvotes").GetInt64());
        Assert.True((await CommentAsync(video, popular, bob)).GetProperty("voted").GetBoolean());
        Assert.False((await CommentAsync(video, popular)).GetProperty("voted").GetBoolean());
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{old}/vote", bob.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{tie}/vote", bob.AccessToken, expect: HttpStatusCode.NoContent);

        Assert.Equal([popular, tie, old], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=top", null)));
        Assert.Equal([tie, popular, old], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=newest", null)));

        foreach (var _ in new[] { 1, 2 })
        {
            await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/comments/{popular}/vote", bob.AccessToken, expect: HttpStatusCode.NoContent);
        }

        Assert.Equal(1, (await CommentAsync(video, popular)).GetProperty("upvotes").GetInt64());
        Assert.False((await CommentAsync(video, popular, bob)).GetProperty("voted").GetBoolean());
        Assert.Equal([tie, popular, old], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=top", null)));
    }

    [Fact]
    public async Task Keyset_pages_cover_every_thread_once_and_a_cursor_belongs_to_its_sort()
    {
        var (_, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await IdOfPostAsync(alice, video, "comment " + i));
        }

        foreach (var id in ids.Where((_, i) => i % 3 == 0))
        {
            await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{id}/vote", bob.AccessToken, expect: HttpStatusCode.NoContent);
        }

        foreach (var sort in new[] { "top", "newest" })
        {
            var all = Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort={sort}&limit=100", null));
            var paged = new List<string>();
            string? cursor = null;
            do
            {
                var p = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort={sort}&limit=3" + (cursor is null ? "" : "&cursor=" + cursor), null);
                paged.AddRange(Ids(p));
                cursor = p.GetProperty("nextCursor").GetString();
                if (cursor is not null)
                {
                    var other = sort == "top" ? "newest" : "top";
                    var wrong = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort={other}&cursor={cursor}", null, expect: HttpStatusCode.BadRequest);
                    Assert.True(wrong.GetProperty("errors").TryGetProperty("cursor", out _));
                }
            }
            while (cursor is not null);
            Assert.Equal(all, paged);
            Assert.Equal(ids.Order(), paged.Order());
        }

        Assert.Equal(ids.Where((_, i) => i % 3 == 0).Reverse().Concat(ids.Where((_, i) => i % 3 != 0).Reverse()),
            Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=top", null)));

        var replies = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            replies.Add(await IdOfPostAsync(bob, video, "reply " + i, ids[0]));
        }

        var pagedReplies = new List<string>();
        string? next = null;
        do
        {
            var p = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{ids[0]}/replies?limit=2" + (next is null ? "" : "&cursor=" + next), null);
            pagedReplies.AddRange(Ids(p));
            next = p.GetProperty("nextCursor").GetString();
        }
        while (next is not null);
        Assert.Equal(replies, pagedReplies);

        var bad = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=best&limit=0&cursor=@@", null, expect: HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("sort", out _));
        Assert.True(bad.GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Counts_and_upvotes_stay_exact_under_concurrent_writers()
    {
        var (owner, _, video) = await VideoAsync();
        var voters = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => app.NewUserAsync()));
        var target = await IdOfPostAsync(owner, video, "vote here");
        var doomed = await IdOfPostAsync(voters[0], video, "to be deleted by two at once");

        // Every account: two racing upvotes of the target, a racing PUT/DELETE/PUT on its own, two threads and two replies;
        // the doomed comment is deleted by its author and the owner at the same time, several times over.
        var work = new List<Task>();
        var posted = new System.Collections.Concurrent.ConcurrentBag<string>();
        foreach (var v in voters)
        {
            work.Add(Send(HttpMethod.Put, $"comments/{target}/vote", v));
            work.Add(Send(HttpMethod.Put, $"comments/{target}/vote", v));
            work.Add(Task.Run(async () => posted.Add(await IdOfPostAsync(v, video, "thread"))));
            work.Add(Task.Run(async () => posted.Add(await IdOfPostAsync(v, video, "thread"))));
            work.Add(Task.Run(async () => posted.Add(await IdOfPostAsync(v, video, "reply", target))));
            work.Add(Task.Run(async () => posted.Add(await IdOfPostAsync(v, video, "reply", target))));
        }

        for (var i = 0; i < 3; i++)
        {
            work.Add(Send(HttpMethod.Delete, $"comments/{doomed}", voters[0]));
            work.Add(Send(HttpMethod.Delete, $"comments/{doomed}", owner));
        }

        await Task.WhenAll(work);

        var t = await CommentAsync(video, target);
        Assert.Equal(voters.Length, t.GetProperty("upvotes").GetInt64());
        Assert.Equal(2 * voters.Length, t.GetProperty("replyCount").GetInt64());
        Assert.Equal(1 + (4 * voters.Length), await CommentCountAsync(video, null));
        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(voters.Length, await db.ScalarAsync<long>("SELECT COUNT(*) FROM comment_votes WHERE comment_id = @c", [("c", target)], default));
        Assert.Equal(await db.ScalarAsync<long>("SELECT COUNT(*) FROM comments WHERE video_id = @v AND deleted_at IS NULL AND status = 'published'", [("v", video)], default),
            await db.ScalarAsync<long>("SELECT comment_count FROM videos WHERE id = @v", [("v", video)], default));

        // Approval racing the author's delete: each held comment is counted once if it was published before its deletion, never otherwise.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comment-policy", owner.AccessToken, new { policy = "held" });
        var held = await Task.WhenAll(voters.Take(6).Select(v => IdOfPostAsync(v, video, "held")));
        await Task.WhenAll(held.Select((id, i) => (Task)app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{id}/approve", owner.AccessToken))
            .Concat(held.Select((id, i) => Send(HttpMethod.Delete, $"comments/{id}", voters[i]))));
        Assert.Equal(1 + (4 * voters.Length), await CommentCountAsync(video, null));
        Assert.Equal(await db.ScalarAsync<long>("SELECT COUNT(*) FROM comments WHERE video_id = @v AND deleted_at IS NULL AND status = 'published'", [("v", video)], default),
            await db.ScalarAsync<long>("SELECT comment_count FROM videos WHERE id = @v", [("v", video)], default));

        async Task Send(HttpMethod method, string path, Persona who)
        {
            using var r = await app.SendAsync(method, $"api/v1/videos/{video}/{path}", who.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
    }

    [Fact]
    public async Task Disabled_comments_take_nothing_new_and_show_only_to_the_owner()
    {
        var (owner, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var id = await IdOfPostAsync(alice, video, "before");
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comment-policy", alice.AccessToken, new { policy = "disabled" }, HttpStatusCode.Forbidden);
        var bad = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comment-policy", owner.AccessToken, new { policy = "off" }, HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("policy", out _));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comment-policy", owner.AccessToken, new { policy = "disabled" });
        Assert.Equal("disabled", (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", null)).GetProperty("commentPolicy").GetString());

        await PostAsync(alice, video, "after", expect: HttpStatusCode.Conflict);
        await PostAsync(alice, video, "reply", id, HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{id}/vote", alice.AccessToken, expect: HttpStatusCode.Conflict);
        Assert.Empty(Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", alice.AccessToken)));
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{id}", null, expect: HttpStatusCode.NotFound);
        Assert.Equal([id], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)));

        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comment-policy", owner.AccessToken, new { policy = "enabled" });
        Assert.Equal([id], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", null)));
    }

    [Fact]
    public async Task Held_comments_show_to_their_author_and_the_owner_until_approved_or_rejected()
    {
        var (owner, channel, existing) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();

        // The channel's default applies to videos created after it is set; the existing video keeps "enabled".
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/comment-policy", (await app.NewUserAsync("creator")).AccessToken, new { policy = "held" }, HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/comment-policy", owner.AccessToken, new { policy = "held" });
        Assert.Equal("held", (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}", null)).GetProperty("commentPolicy").GetString());
        Assert.Equal("enabled", (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{existing}", null)).GetProperty("commentPolicy").GetString());
        var video = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;
        Assert.Equal("held", (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", null)).GetProperty("commentPolicy").GetString());

        var held = await PostAsync(alice, video, "please approve");
        Assert.Equal("held", held.GetProperty("status").GetString());
        var heldId = held.GetProperty("id").GetString()!;
        var rejected = await IdOfPostAsync(alice, video, "spam");
        var ownerOwn = await PostAsync(owner, video, "the owner is never held");
        Assert.Equal("published", ownerOwn.GetProperty("status").GetString());
        Assert.Equal(1, await CommentCountAsync(video, null));

        Assert.Equal([ownerOwn.GetProperty("id").GetString()!], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", bob.AccessToken)));
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments/{heldId}", bob.AccessToken, expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{heldId}/vote", bob.AccessToken, expect: HttpStatusCode.NotFound);
        await PostAsync(bob, video, "reply to held", heldId, HttpStatusCode.NotFound);
        Assert.Contains(heldId, Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", alice.AccessToken)));
        Assert.Contains(heldId, Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", owner.AccessToken)));

        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{heldId}/approve", alice.AccessToken, expect: HttpStatusCode.Forbidden);
        var approved = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{heldId}/approve", owner.AccessToken);
        Assert.Equal("published", approved.GetProperty("status").GetString());
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{heldId}/approve", owner.AccessToken); // idempotent
        Assert.Equal(2, await CommentCountAsync(video, null));
        Assert.Contains(heldId, Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", bob.AccessToken)));

        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{rejected}/reject", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{rejected}/reject", owner.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{rejected}/approve", owner.AccessToken, expect: HttpStatusCode.Conflict);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments/{heldId}/reject", owner.AccessToken, expect: HttpStatusCode.Conflict);
        Assert.DoesNotContain(rejected, Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments", alice.AccessToken)));
        Assert.Equal(2, await CommentCountAsync(video, null));
    }

    [Fact]
    public async Task Comments_follow_the_videos_access_rules_on_every_route()
    {
        var (owner, _, privateVideo) = await VideoAsync("private");
        var (premiumOwner, _, premiumVideo) = await VideoAsync("premium");
        var stranger = await app.NewUserAsync();
        var premiumViewer = await app.NewUserAsync(premium: true);
        var onPrivate = await IdOfPostAsync(owner, privateVideo, "owner's note");
        var onPremium = await IdOfPostAsync(premiumViewer, premiumVideo, "worth it");

        foreach (var (video, comment, who) in new[] { (privateVideo, onPrivate, (Persona?)stranger), (privateVideo, onPrivate, null), (premiumVideo, onPremium, stranger), (premiumVideo, onPremium, null) })
        {
            foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
            {
                (HttpMethod.Get, "comments", null),
                (HttpMethod.Get, $"comments/{comment}", null),
                (HttpMethod.Get, $"comments/{comment}/replies", null),
                (HttpMethod.Post, "comments", new { text = "hi" }),
                (HttpMethod.Post, "comments", new { text = "hi", parentId = comment }),
                (HttpMethod.Put, $"comments/{comment}/vote", null),
                (HttpMethod.Delete, $"comments/{comment}/vote", null),
                (HttpMethod.Delete, $"comments/{comment}", null),
                (HttpMethod.Patch, $"comments/{comment}", new { text = "hi" }),
            })
            {
                using var r = await app.SendAsync(method, $"api/v1/videos/{video}/{path}", who?.AccessToken, body);
                var expect = who is null && method != HttpMethod.Get ? HttpStatusCode.Unauthorized : HttpStatusCode.NotFound;
                Assert.True(r.StatusCode == expect, $"{method} {path} on {(video == privateVideo ? "private" : "premium")} as {(who is null ? "anonymous" : "stranger")}: {(int)r.StatusCode}");
                Assert.DoesNotContain("worth it", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        // The count of a premium video's comments is for those who may read them.
        Assert.Null(await CommentCountAsync(premiumVideo, stranger));
        Assert.Null(await CommentCountAsync(premiumVideo, null));
        Assert.Equal(1, await CommentCountAsync(premiumVideo, premiumViewer));
        Assert.Equal(1, await CommentCountAsync(premiumVideo, premiumOwner));
        Assert.Equal([onPremium], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{premiumVideo}/comments", premiumViewer.AccessToken)));
        Assert.Equal([onPrivate], Ids(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{privateVideo}/comments", (await app.AdminAsync()).AccessToken)));

        // A public video with nothing to play yet is its owner's alone, comments included.
        var draft = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public")).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{draft}/comments", stranger.AccessToken, expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Text_is_length_capped_and_refuses_control_characters_naming_the_field()
    {
        var (_, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        foreach (var text in new[] { "", "   \n\t ", "bell\u0007", "nul\u0000", "esc\u001b[31m", "del\u007f", "c1\u0085", new string('x', 10_001) })
        {
            var problem = await PostAsync(alice, video, text, expect: HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("text", out _), text);
        }

        // A lone surrogate is not text (PostgreSQL would refuse it as UTF-8): raw JSON, as a client serialiser would repair it.
        using (var raw = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", alice.AccessToken,
            content: new StringContent("{\"text\":\"lone \\ud800 surrogate\"}", System.Text.Encoding.UTF8, "application/json")))
        {
            var body = await raw.Content.ReadAsStringAsync();
            Assert.True(raw.StatusCode == HttpStatusCode.BadRequest, body);
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty("text", out _), body);
        }

        // Characters, not UTF-16 units: 10,000 emoji fit; tab and line breaks are text; links stay as written.
        await PostAsync(alice, video, string.Concat(Enumerable.Repeat("😀", 10_000)));
        var kept = await PostAsync(alice, video, "see\thttps://example.test/a?b=1&c=<2>\r\n<script>alert(1)</script>");
        Assert.Equal("see\thttps://example.test/a?b=1&c=<2>\r\n<script>alert(1)</script>", kept.GetProperty("text").GetString());

        var unknown = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/comments", alice.AccessToken, new { text = "x", authorId = "someone" }, HttpStatusCode.BadRequest);
        Assert.True(unknown.GetProperty("errors").TryGetProperty("authorId", out _));
    }

    [Fact]
    public async Task Deleting_an_account_erases_its_comments_and_their_counts()
    {
        var (owner, _, video) = await VideoAsync();
        var leaver = await app.NewUserAsync();
        var stayer = await app.NewUserAsync();
        var leaverHandle = (await app.JsonAsync(HttpMethod.Get, "api/v1/me", leaver.AccessToken)).GetProperty("handle").GetString()!;
        var thread = await IdOfPostAsync(leaver, video, "my words");
        var answer = await IdOfPostAsync(stayer, video, $"thanks @{leaverHandle}", thread);
        var other = await IdOfPostAsync(stayer, video, "another thread");
        await IdOfPostAsync(leaver, video, "my reply", other);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{video}/comments/{thread}/pin", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(4, await CommentCountAsync(video, null));

        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", leaver.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);

        Assert.Equal(2, await CommentCountAsync(video, null));
        var threads = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/comments?sort=newest", null);
        Assert.Equal([other, thread], Ids(threads)); // the erased thread stays for its reply, no longer pinned
        Assert.True(threads.GetProperty("items")[1].GetProperty("deleted").GetBoolean());
        Assert.False(threads.GetProperty("items")[1].GetProperty("pinned").GetBoolean());
        Assert.Equal(0, threads.GetProperty("items")[0].GetProperty("replyCount").GetInt64());
        Assert.DoesNotContain("my words", threads.GetRawText(), StringComparison.Ordinal);
        Assert.Empty((await CommentAsync(video, answer)).GetProperty("mentions").EnumerateArray());
        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT COUNT(*) FROM comments WHERE author_id = @a AND text <> ''", [("a", leaver.Id)], default));
    }

    [Fact]
    public async Task Mentions_of_existing_handles_are_recorded()
    {
        var (_, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var bobHandle = (await app.JsonAsync(HttpMethod.Get, "api/v1/me", bob.AccessToken)).GetProperty("handle").GetString()!;
        var comment = await PostAsync(alice, video, $"hey @{bobHandle.ToUpperInvariant()} and @{bobHandle}, not @nosuchhandle_{Guid.NewGuid():N} nor mail@{bobHandle}");
        Assert.Equal([bobHandle], comment.GetProperty("mentions").EnumerateArray().Select(m => m.GetString()));
        var id = comment.GetProperty("id").GetString()!;
        await using (var db = await app.Get<Database>().OpenAsync(default))
        {
            Assert.Equal(bob.Id, await db.ScalarAsync<string>("SELECT user_id FROM comment_mentions WHERE comment_id = @c", [("c", id)], default));
        }

        var edited = await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}/comments/{id}", alice.AccessToken, new { text = "never mind" });
        Assert.Empty(edited.GetProperty("mentions").EnumerateArray());
    }

    [Fact]
    public async Task A_posted_comment_writes_one_CommentPosted_event_with_its_mentions_and_a_refused_one_writes_none()
    {
        var (_, _, video) = await VideoAsync();
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var bobHandle = (await app.JsonAsync(HttpMethod.Get, "api/v1/me", bob.AccessToken)).GetProperty("handle").GetString()!;
        var thread = await IdOfPostAsync(alice, video, "a thread");
        var reply = await IdOfPostAsync(alice, video, $"thanks @{bobHandle}", thread);
        await PostAsync(alice, video, "bad \u0007 text", expect: HttpStatusCode.BadRequest);

        await using var db = await app.Get<Database>().OpenAsync(default);
        var events = await db.QueryAsync("SELECT type, payload FROM outbox WHERE subject_id = @v ORDER BY seq", [("v", video)],
            (r, _) => (Type: r.GetString(0), Payload: JsonDocument.Parse(r.GetString(1)).RootElement.Clone()), default);
        var posted = events.Where(e => e.Type == "comments.comment-posted.v1").Select(e => e.Payload).ToList();
        Assert.Equal([thread, reply], posted.Select(p => p.GetProperty("commentId").GetString()));
        var r = posted[1];
        Assert.Equal(video, r.GetProperty("videoId").GetString());
        Assert.Equal(thread, r.GetProperty("threadId").GetString());
        Assert.Equal(thread, r.GetProperty("parentId").GetString());
        Assert.Equal(alice.Id, r.GetProperty("authorId").GetString());
        Assert.Equal("published", r.GetProperty("status").GetString());
        Assert.Equal([bob.Id], r.GetProperty("mentionedUserIds").EnumerateArray().Select(m => m.GetString()));
    }
}

[Collection("sqlite")]
public sealed class CommentTestsSqlite(SqliteApp app) : CommentTests(app);

[Collection("postgres")]
public sealed class CommentTestsPostgres(PostgresApp app) : CommentTests(app);
