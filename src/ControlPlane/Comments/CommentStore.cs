using System.Data.Common;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Comments;

/// <summary>A row of <c>comments</c> as one caller reads it (with the author, the parent's author and the caller's vote).</summary>
internal sealed record CommentRow(
    string Id, string VideoId, string ThreadId, string? ParentId, string AuthorId, string AuthorHandle, string AuthorName, string Text,
    string Status, long Upvotes, long ReplyCount, bool Hearted, DateTimeOffset CreatedAt, DateTimeOffset? EditedAt, DateTimeOffset? DeletedAt,
    string? ReplyingTo, bool Voted, string? HoldReason)
{
    /// <summary>Columns of <see cref="From"/>; <c>@me</c> is the caller ("" when anonymous).</summary>
    public const string Columns =
        """
        c.id, c.video_id, c.thread_id, c.parent_id, c.author_id, u.handle, u.display_name, c.text, c.status, c.upvotes, c.reply_count,
        CASE WHEN c.hearted THEN 1 ELSE 0 END, c.created_at, c.edited_at, c.deleted_at,
        CASE WHEN p.deleted_at IS NULL THEN pu.handle END,
        CASE WHEN EXISTS (SELECT 1 FROM comment_votes cv WHERE cv.comment_id = c.id AND cv.user_id = @me) THEN 1 ELSE 0 END,
        c.hold_reason
        """;

    public const string From =
        """
        FROM comments c JOIN users u ON u.id = c.author_id
        LEFT JOIN comments p ON p.id = c.parent_id LEFT JOIN users pu ON pu.id = p.author_id
        """;

    /// <summary>What the caller may see: published comments, and held ones to their author and the video's managers (<c>@manages</c> 1).</summary>
    public const string Visible = "(c.status = 'published' OR (c.status = 'held' AND (c.author_id = @me OR @manages = 1)))";

    /// <summary>In listings: not written by an account the caller blocked or muted (Blocks/). A direct read still finds it.</summary>
    public const string NotHiddenFromMe = "NOT " + Blocks.BlockStore.HiddenAuthorSql;

    public static CommentRow Read(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
        r.GetString(7), r.GetString(8), Convert.ToInt64(r.GetValue(9), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(10), CultureInfo.InvariantCulture),
        Convert.ToInt64(r.GetValue(11), CultureInfo.InvariantCulture) == 1, d.ReadTimestamp(r, 12), d.ReadNullableTimestamp(r, 13),
        d.ReadNullableTimestamp(r, 14), r.IsDBNull(15) ? null : r.GetString(15), Convert.ToInt64(r.GetValue(16), CultureInfo.InvariantCulture) == 1,
        r.IsDBNull(17) ? null : r.GetString(17));

    public bool IsDeleted => DeletedAt is not null;

    public bool IsTopLevel => ParentId is null;

    /// <summary>The answer: a deleted comment keeps its place in the thread without author or text.</summary>
    /// <param name="manages">The caller manages the video: only they are told why a held comment is held (its author is not: a
    /// limited account is not told it is limited).</param>
    public CommentResponse ToResponse(string? pinnedId, string[] mentions, bool manages) => new(
        Id, VideoId, ThreadId, ParentId, ReplyingTo, IsDeleted ? null : new CommentAuthor(AuthorId, AuthorHandle, AuthorName), IsDeleted ? null : Text,
        Status, IsDeleted, EditedAt is not null, EditedAt, CreatedAt, Upvotes, Voted, IsTopLevel ? ReplyCount : 0,
        string.Equals(Id, pinnedId, StringComparison.Ordinal), Hearted, IsDeleted ? [] : mentions,
        manages && Status == CommentStatus.Held ? HoldReason : null);
}

/// <summary>What a write found: done, or why not (the endpoint maps it to 404/403/409).</summary>
internal enum CommentOutcome
{
    Done,
    NotFound,
    Forbidden,
    Deleted,
    NotPublished,
    NotTopLevel,
    AlreadyPublished,
    Rejected,

    /// <summary>The video's owner or the parent's author blocked the caller.</summary>
    Blocked,

    /// <summary>The caller's account is suspended or banned (<see cref="Moderation.AccountStanding.MayInteractSql"/>).</summary>
    Suspended,
}

/// <summary>
/// Every statement of comments, written once for SQLite and PostgreSQL. The invariants:
/// <list type="bullet">
/// <item><c>videos.comment_count</c> is the number of published, undeleted comments (threads and replies) of the video, and
/// <c>comments.reply_count</c> (on a thread's top-level comment) that of its published, undeleted replies. Both change only
/// by <c>+ 1</c>/<c>- 1</c> in the transaction of the row change that decides it, and only when that change's conditional
/// statement changed a row (publish: insert as published, or <c>held -&gt; published</c>; unpublish: <c>deleted_at</c> set on a
/// published row). PostgreSQL's row lock makes a racing second change match nothing; SQLite serialises writers. So the counts
/// are exact under any concurrency, without a <c>COUNT(*)</c>.</item>
/// <item><c>comments.upvotes</c> is the number of <c>comment_votes</c> rows of the comment: a vote is an
/// <c>INSERT ... ON CONFLICT DO NOTHING</c> (an unvote a <c>DELETE</c>) and the counter moves only when that changed a row,
/// in the same transaction; so a repeated or racing PUT/DELETE from one account counts once.</item>
/// <item>One pin per video: it is <c>videos.pinned_comment_id</c>, so pinning another replaces it. Deleting the pinned comment clears it.</item>
/// <item>A deleted comment's text and mentions are erased at once; the row stays for the thread's shape.</item>
/// </list>
/// Callers have already checked the caller may watch the video (<see cref="VideoAccess"/>); every statement here is also
/// confined to <c>video_id = @v</c>, so a comment id of another video is "not found".
/// </summary>
internal sealed partial class CommentStore(Database database, Events.Outbox outbox, Microsoft.Extensions.Options.IOptions<Moderation.ModerationOptions> moderation,
    TimeProvider time, ILogger<CommentStore> logger)
{
    private const string ThreadsTop =
        $"""
        SELECT {CommentRow.Columns} {CommentRow.From}
        WHERE c.video_id = @v AND c.parent_id IS NULL AND {CommentRow.Visible} AND {CommentRow.NotHiddenFromMe} AND (c.deleted_at IS NULL OR c.reply_count > 0)
          AND (@mode = 0
               OR (@mode = 1 AND c.id <> @pinned)
               OR (@mode = 2 AND c.id <> @pinned
                   AND (c.upvotes < @kv OR (c.upvotes = @kv AND (c.created_at < @kt OR (c.created_at = @kt AND c.id < @ki))))))
        ORDER BY CASE WHEN c.id = @pinned THEN 0 ELSE 1 END, c.upvotes DESC, c.created_at DESC, c.id DESC
        LIMIT @take
        """;

    private const string ThreadsNewest =
        $"""
        SELECT {CommentRow.Columns} {CommentRow.From}
        WHERE c.video_id = @v AND c.parent_id IS NULL AND {CommentRow.Visible} AND {CommentRow.NotHiddenFromMe} AND (c.deleted_at IS NULL OR c.reply_count > 0)
          AND (@mode = 0
               OR (@mode = 1 AND c.id <> @pinned)
               OR (@mode = 2 AND c.id <> @pinned AND (c.created_at < @kt OR (c.created_at = @kt AND c.id < @ki))))
        ORDER BY CASE WHEN c.id = @pinned THEN 0 ELSE 1 END, c.created_at DESC, c.id DESC
        LIMIT @take
        """;

    // A deleted reply stays while a published reply answers it (so "replying to" has something to point at).
    private const string Replies =
        $"""
        SELECT {CommentRow.Columns} {CommentRow.From}
        WHERE c.video_id = @v AND c.thread_id = @t AND c.parent_id IS NOT NULL AND {CommentRow.Visible} AND {CommentRow.NotHiddenFromMe}
          AND (c.deleted_at IS NULL
               OR EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = c.id AND r.deleted_at IS NULL AND r.status = 'published'))
          AND (@mode = 0 OR c.created_at > @kt OR (c.created_at = @kt AND c.id > @ki))
        ORDER BY c.created_at, c.id
        LIMIT @take
        """;

    private const string One = $"SELECT {CommentRow.Columns} {CommentRow.From} WHERE c.id = @c AND c.video_id = @v AND {CommentRow.Visible}";

    /// <summary>The comment if the caller may see it (deleted ones included: callers decide what a deleted one allows).</summary>
    public static Task<CommentRow?> FindInAsync(DbSession db, VideoAccess a, string commentId, CancellationToken cancellationToken) =>
        db.SingleAsync(One, [("c", commentId), ("v", a.VideoId), ("me", a.CallerId), ("manages", a.Manages ? 1 : 0)], CommentRow.Read, cancellationToken);

    public async Task<CommentRow?> FindAsync(VideoAccess a, string commentId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Posts a comment (a reply when <see cref="CreateComment.ParentId"/> is set) in one transaction: the row, its mentions and
    /// the counts. Published at once unless the video holds comments for approval and the caller does not manage it.
    /// </summary>
    public async Task<(CommentOutcome Outcome, CommentRow? Row)> CreateAsync(VideoAccess a, CreateComment c, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (!await Moderation.AccountStanding.MayInteractAsync(db, a.CallerId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            return (CommentOutcome.Suspended, null);
        }

        // The video's owner blocked the caller (Blocks/): no comment on its videos.
        if (!a.IsOwner && await Blocks.BlockStore.BlocksInAsync(db, a.OwnerId, a.CallerId, cancellationToken).ConfigureAwait(false))
        {
            return (CommentOutcome.Blocked, null);
        }

        var id = Ids.New();
        var thread = id;
        if (c.ParentId is not null)
        {
            var parent = await FindInAsync(db, a, c.ParentId, cancellationToken).ConfigureAwait(false);
            if (parent is null)
            {
                return (CommentOutcome.NotFound, null);
            }

            if (parent.IsDeleted)
            {
                return (CommentOutcome.Deleted, null);
            }

            if (parent.Status != CommentStatus.Published)
            {
                return (CommentOutcome.NotPublished, null);
            }

            if (await Blocks.BlockStore.BlocksInAsync(db, parent.AuthorId, a.CallerId, cancellationToken).ConfigureAwait(false))
            {
                return (CommentOutcome.Blocked, null);
            }

            thread = parent.ThreadId;
        }

        var now = time.GetUtcNow();
        var holdReason = a.Manages ? null : await HoldReasonInAsync(db, a, c.Text, now, cancellationToken).ConfigureAwait(false);
        var status = holdReason is null ? CommentStatus.Published : CommentStatus.Held;
        await db.ExecAsync(
            """
            INSERT INTO comments (id, video_id, thread_id, parent_id, author_id, text, status, hold_reason, created_at)
            VALUES (@id, @v, @t, @p, @me, @text, @s, @hr, @now)
            """,
            [("id", id), ("v", a.VideoId), ("t", thread), ("p", c.ParentId), ("me", a.CallerId), ("text", c.Text), ("s", status), ("hr", holdReason), ("now", now)],
            cancellationToken).ConfigureAwait(false);
        await AddMentionsInAsync(db, id, a.CallerId, c.MentionedHandles, cancellationToken).ConfigureAwait(false);
        if (status == CommentStatus.Published)
        {
            await CountInAsync(db, a.VideoId, thread, c.ParentId, +1, cancellationToken).ConfigureAwait(false);
        }

        // In this transaction: the event exists if and only if the comment does.
        var mentioned = await db.QueryAsync("SELECT user_id FROM comment_mentions WHERE comment_id = @c ORDER BY user_id", [("c", id)],
            (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        await outbox.AddAsync(db, new CommentPosted(id, a.VideoId, thread, c.ParentId, a.CallerId, status, [.. mentioned], now), cancellationToken).ConfigureAwait(false);
        var row = await FindInAsync(db, a, id, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        Log.Posted(logger, id, a.VideoId, status);
        return (CommentOutcome.Done, row);
    }

    /// <summary>
    /// Why a new comment of someone who does not manage the video waits for review, or null to publish it: the author is
    /// limited; its text has a word of the instance's list or of the channel's (the list its chat refuses); it has a link and
    /// the account is younger than <see cref="Moderation.ModerationOptions.LinkHoldAccountAge"/>; the video holds every comment.
    /// </summary>
    private async Task<string?> HoldReasonInAsync(DbSession db, VideoAccess a, string text, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var authors = await db.QueryAsync("SELECT limited_at, created_at FROM users WHERE id = @me", [("me", a.CallerId)],
            (r, d) => (Limited: !r.IsDBNull(0), CreatedAt: d.ReadTimestamp(r, 1)), cancellationToken).ConfigureAwait(false);
        var author = authors[0];
        if (author.Limited)
        {
            return HoldReason.Limited;
        }

        var words = new List<string>(await Moderation.WordList.ReadInAsync(db, cancellationToken).ConfigureAwait(false));
        var channelWords = await db.ScalarAsync<string>(
            "SELECT s.blocked_words FROM chat_settings s JOIN videos v ON v.channel_id = s.channel_id WHERE v.id = @v", [("v", a.VideoId)], cancellationToken)
            .ConfigureAwait(false);
        if (!string.IsNullOrEmpty(channelWords))
        {
            words.AddRange(channelWords.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        if (Chat.BlockedWords.FirstMatch(text, words) is not null)
        {
            return HoldReason.Words;
        }

        var linkAge = moderation.Value.LinkHoldAccountAge;
        if (linkAge > TimeSpan.Zero && now - author.CreatedAt < linkAge && HoldReason.HasLink(text))
        {
            return HoldReason.Link;
        }

        return a.CommentPolicy == CommentPolicy.Held ? HoldReason.Policy : null;
    }

    /// <summary>The author's new text: marks the comment edited and re-reads its mentions. Not on a deleted comment.</summary>
    public async Task<(CommentOutcome Outcome, CommentRow? Row)> EditAsync(VideoAccess a, string commentId, CreateComment c, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (!await Moderation.AccountStanding.MayInteractAsync(db, a.CallerId, now, cancellationToken).ConfigureAwait(false))
        {
            return (CommentOutcome.Suspended, null);
        }

        var changed = await db.ExecAsync(
            "UPDATE comments SET text = @text, edited_at = @now WHERE id = @c AND video_id = @v AND author_id = @me AND deleted_at IS NULL AND status <> 'rejected'",
            [("text", c.Text), ("now", now), ("c", commentId), ("v", a.VideoId), ("me", a.CallerId)], cancellationToken).ConfigureAwait(false);
        if (changed == 0)
        {
            var found = await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
            return (found is null ? CommentOutcome.NotFound : found.IsDeleted ? CommentOutcome.Deleted : CommentOutcome.Forbidden, null);
        }

        // An edit must not slip past what would have held the comment: a published comment whose new text would be held goes back
        // to review (the video's policy alone does not: the owner approved it under that policy already).
        if (!a.Manages && await HoldReasonInAsync(db, a, c.Text, now, cancellationToken).ConfigureAwait(false) is { } reason && reason != HoldReason.Policy)
        {
            var held = await db.QueryAsync(
                "UPDATE comments SET status = 'held', hold_reason = @r WHERE id = @c AND status = 'published' AND deleted_at IS NULL RETURNING thread_id, parent_id",
                [("r", reason), ("c", commentId)], (r, _) => (Thread: r.GetString(0), Parent: r.IsDBNull(1) ? null : r.GetString(1)), cancellationToken).ConfigureAwait(false);
            if (held.Count == 1)
            {
                await CountInAsync(db, a.VideoId, held[0].Thread, held[0].Parent, -1, cancellationToken).ConfigureAwait(false);
            }
        }

        await db.ExecAsync("DELETE FROM comment_mentions WHERE comment_id = @c", [("c", commentId)], cancellationToken).ConfigureAwait(false);
        await AddMentionsInAsync(db, commentId, a.CallerId, c.MentionedHandles, cancellationToken).ConfigureAwait(false);
        var row = await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (CommentOutcome.Done, row);
    }

    /// <summary>
    /// Soft delete by its author, the video's owner or an admin: text and mentions erased, counts and pin updated. Idempotent:
    /// deleting a deleted comment is done.
    /// </summary>
    public async Task<CommentOutcome> DeleteAsync(VideoAccess a, string commentId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var found = await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return CommentOutcome.NotFound;
        }

        if (!a.Manages && !string.Equals(found.AuthorId, a.CallerId, StringComparison.Ordinal))
        {
            return CommentOutcome.Forbidden;
        }

        var deleted = await db.QueryAsync(
            "UPDATE comments SET deleted_at = @now, text = '' WHERE id = @c AND video_id = @v AND deleted_at IS NULL RETURNING status, thread_id, parent_id",
            [("now", time.GetUtcNow()), ("c", commentId), ("v", a.VideoId)],
            (r, _) => (Status: r.GetString(0), Thread: r.GetString(1), Parent: r.IsDBNull(2) ? null : r.GetString(2)), cancellationToken).ConfigureAwait(false);
        if (deleted.Count == 1)
        {
            var (status, thread, parent) = deleted[0];
            if (status == CommentStatus.Published)
            {
                await CountInAsync(db, a.VideoId, thread, parent, -1, cancellationToken).ConfigureAwait(false);
            }

            await db.ExecAsync("DELETE FROM comment_mentions WHERE comment_id = @c", [("c", commentId)], cancellationToken).ConfigureAwait(false);
            await db.ExecAsync("UPDATE videos SET pinned_comment_id = NULL WHERE id = @v AND pinned_comment_id = @c", [("v", a.VideoId), ("c", commentId)],
                cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (deleted.Count == 1 && !string.Equals(found.AuthorId, a.CallerId, StringComparison.Ordinal))
        {
            Log.DeletedByModerator(logger, commentId, a.VideoId, a.CallerId);
        }

        return CommentOutcome.Done;
    }

    /// <summary>
    /// Account deletion, in its transaction: every comment the account wrote is soft-deleted as its author would delete it
    /// (text and mentions erased, counts and pins updated), and mentions of it are dropped. The counts move by what this
    /// statement changed (its <c>RETURNING</c>), so a moderator deleting one of them at the same time is not counted twice.
    /// </summary>
    public static async Task EraseAuthorInAsync(DbSession db, string userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var erased = await db.QueryAsync(
            "UPDATE comments SET deleted_at = @now, text = '' WHERE author_id = @id AND deleted_at IS NULL RETURNING id, video_id, thread_id, parent_id, status",
            [("now", now), ("id", userId)],
            (r, _) => (Id: r.GetString(0), Video: r.GetString(1), Thread: r.GetString(2), IsReply: !r.IsDBNull(3), Published: r.GetString(4) == CommentStatus.Published),
            cancellationToken).ConfigureAwait(false);
        var published = erased.Where(e => e.Published).ToList();
        foreach (var video in published.GroupBy(e => e.Video, StringComparer.Ordinal))
        {
            await db.ExecAsync("UPDATE videos SET comment_count = comment_count - @n WHERE id = @v", [("n", video.Count()), ("v", video.Key)], cancellationToken)
                .ConfigureAwait(false);
        }

        foreach (var thread in published.Where(e => e.IsReply).GroupBy(e => e.Thread, StringComparer.Ordinal))
        {
            await db.ExecAsync("UPDATE comments SET reply_count = reply_count - @n WHERE id = @t", [("n", thread.Count()), ("t", thread.Key)], cancellationToken)
                .ConfigureAwait(false);
        }

        await db.ExecAsync(
            "DELETE FROM comment_mentions WHERE user_id = @id OR comment_id IN (SELECT id FROM comments WHERE author_id = @id)", [("id", userId)], cancellationToken)
            .ConfigureAwait(false);
        if (erased.Count > 0)
        {
            await db.ExecAsync($"UPDATE videos SET pinned_comment_id = NULL WHERE pinned_comment_id {db.Dialect.InList("ids")}",
                [("ids", db.Dialect.ListValue(erased.ConvertAll(e => e.Id)))], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sets (<paramref name="on"/>) or clears the caller's upvote; idempotent both ways. Only on a published, undeleted comment.</summary>
    public async Task<CommentOutcome> VoteAsync(VideoAccess a, string commentId, bool on, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var found = await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
        var refused = Usable(found);
        if (refused != CommentOutcome.Done)
        {
            return refused;
        }

        var changed = on
            ? await db.ExecAsync(
                "INSERT INTO comment_votes (comment_id, user_id, created_at) VALUES (@c, @me, @now) ON CONFLICT (comment_id, user_id) DO NOTHING",
                [("c", commentId), ("me", a.CallerId), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false)
            : await db.ExecAsync("DELETE FROM comment_votes WHERE comment_id = @c AND user_id = @me", [("c", commentId), ("me", a.CallerId)],
                cancellationToken).ConfigureAwait(false);
        if (changed == 1)
        {
            await db.ExecAsync("UPDATE comments SET upvotes = upvotes + @d WHERE id = @c", [("d", on ? 1 : -1), ("c", commentId)], cancellationToken)
                .ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return CommentOutcome.Done;
    }

    /// <summary>The owner's heart, set or cleared; idempotent. Only on a published, undeleted comment.</summary>
    public async Task<CommentOutcome> HeartAsync(VideoAccess a, string commentId, bool on, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var refused = Usable(await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false));
        if (refused != CommentOutcome.Done)
        {
            return refused;
        }

        await db.ExecAsync("UPDATE comments SET hearted = @h WHERE id = @c AND video_id = @v", [("h", on), ("c", commentId), ("v", a.VideoId)], cancellationToken)
            .ConfigureAwait(false);
        return CommentOutcome.Done;
    }

    /// <summary>Pins a published, undeleted top-level comment: the video's one pin, replacing any other.</summary>
    public async Task<CommentOutcome> PinAsync(VideoAccess a, string commentId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var found = await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
        var refused = Usable(found);
        if (refused != CommentOutcome.Done)
        {
            return refused;
        }

        if (!found!.IsTopLevel)
        {
            return CommentOutcome.NotTopLevel;
        }

        await db.ExecAsync("UPDATE videos SET pinned_comment_id = @c WHERE id = @v", [("c", commentId), ("v", a.VideoId)], cancellationToken).ConfigureAwait(false);
        return CommentOutcome.Done;
    }

    /// <summary>Unpins the comment if it is the pinned one; idempotent.</summary>
    public async Task UnpinAsync(VideoAccess a, string commentId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE videos SET pinned_comment_id = NULL WHERE id = @v AND pinned_comment_id = @c", [("v", a.VideoId), ("c", commentId)],
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes a held comment (counts follow); approving a published one is done, a rejected or deleted one is not.</summary>
    public async Task<(CommentOutcome Outcome, CommentRow? Row)> ApproveAsync(VideoAccess a, string commentId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var approved = await db.QueryAsync(
            "UPDATE comments SET status = 'published' WHERE id = @c AND video_id = @v AND status = 'held' AND deleted_at IS NULL RETURNING thread_id, parent_id",
            [("c", commentId), ("v", a.VideoId)], (r, _) => (Thread: r.GetString(0), Parent: r.IsDBNull(1) ? null : r.GetString(1)), cancellationToken)
            .ConfigureAwait(false);
        if (approved.Count == 1)
        {
            await CountInAsync(db, a.VideoId, approved[0].Thread, approved[0].Parent, +1, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var state = await StateInAsync(db, a.VideoId, commentId, cancellationToken).ConfigureAwait(false);
            if (state is null || state.Value.Deleted)
            {
                return (state is null ? CommentOutcome.NotFound : CommentOutcome.Deleted, null);
            }

            if (state.Value.Status == CommentStatus.Rejected)
            {
                return (CommentOutcome.Rejected, null);
            }
        }

        var row = await FindInAsync(db, a, commentId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (CommentOutcome.Done, row);
    }

    /// <summary>Rejects a held comment: nobody sees it any more. Rejecting a rejected one is done; a published one is deleted instead.</summary>
    public async Task<CommentOutcome> RejectAsync(VideoAccess a, string commentId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await db.ExecAsync("UPDATE comments SET status = 'rejected' WHERE id = @c AND video_id = @v AND status = 'held'",
            [("c", commentId), ("v", a.VideoId)], cancellationToken).ConfigureAwait(false);
        if (changed == 1)
        {
            Log.Rejected(logger, commentId, a.VideoId, a.CallerId);
            return CommentOutcome.Done;
        }

        var state = await StateInAsync(db, a.VideoId, commentId, cancellationToken).ConfigureAwait(false);
        return state switch
        {
            null => CommentOutcome.NotFound,
            { Status: CommentStatus.Rejected } => CommentOutcome.Done,
            _ => CommentOutcome.AlreadyPublished,
        };
    }

    /// <summary>A page of the video's threads (top-level comments); the pinned one first.</summary>
    public async Task<Page<CommentResponse>> ThreadsAsync(VideoAccess a, string sort, (string? Key, string? Id) after, int take, CancellationToken cancellationToken)
    {
        if (a.CommentPolicy == CommentPolicy.Disabled && !a.Manages)
        {
            return new Page<CommentResponse>([], null);
        }

        var (mode, votes, at) = ParseKey(sort, after.Key);
        var pinned = a.PinnedCommentId ?? "";
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        (string, object?)[] args =
        [
            ("v", a.VideoId), ("me", a.CallerId), ("manages", a.Manages ? 1 : 0), ("mode", mode), ("pinned", pinned), ("kt", at), ("ki", after.Id ?? ""),
            ("take", take + 1),
        ];
        var rows = sort == CommentSort.Top
            ? await db.QueryAsync(ThreadsTop, [.. args, ("kv", votes)], CommentRow.Read, cancellationToken).ConfigureAwait(false)
            : await db.QueryAsync(ThreadsNewest, args, CommentRow.Read, cancellationToken).ConfigureAwait(false);
        return await PageAsync(db, a, rows, take, sort, r =>
        {
            var isPinned = r.Id == pinned;
            return sort == CommentSort.Top ? CommentRules.Key(isPinned, r.Upvotes, r.CreatedAt) : CommentRules.Key(isPinned, r.CreatedAt);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A page of a thread's replies, oldest first; null when the caller cannot see the thread.</summary>
    public async Task<Page<CommentResponse>?> RepliesAsync(VideoAccess a, string threadId, (string? Key, string? Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var thread = await FindInAsync(db, a, threadId, cancellationToken).ConfigureAwait(false);
        if (thread is null || !thread.IsTopLevel || (a.CommentPolicy == CommentPolicy.Disabled && !a.Manages))
        {
            return null;
        }

        var (mode, _, at) = ParseKey(CommentSort.Replies, after.Key);
        var rows = await db.QueryAsync(Replies,
            [("v", a.VideoId), ("t", threadId), ("me", a.CallerId), ("manages", a.Manages ? 1 : 0), ("mode", mode), ("kt", at), ("ki", after.Id ?? ""),
             ("take", take + 1)],
            CommentRow.Read, cancellationToken).ConfigureAwait(false);
        return await PageAsync(db, a, rows, take, CommentSort.Replies, r => CommentRules.Key(false, r.CreatedAt), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The answer for one row (with its mentions).</summary>
    public async Task<CommentResponse> ResponseAsync(VideoAccess a, CommentRow row, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var mentions = await MentionsInAsync(db, [row.Id], cancellationToken).ConfigureAwait(false);
        return row.ToResponse(a.PinnedCommentId, mentions.TryGetValue(row.Id, out var m) ? [.. m] : [], a.Manages);
    }

    public async Task SetVideoPolicyAsync(string videoId, string policy, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE videos SET comment_policy = @p WHERE id = @v", [("p", policy), ("v", videoId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task SetChannelPolicyAsync(string channelId, string policy, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE channels SET comment_policy = @p WHERE id = @c", [("p", policy), ("c", channelId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> ChannelPolicyAsync(string channelId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>("SELECT comment_policy FROM channels WHERE id = @c", [("c", channelId)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Done if the comment can be voted on, hearted or pinned: visible, undeleted, published.</summary>
    private static CommentOutcome Usable(CommentRow? found) => found switch
    {
        null => CommentOutcome.NotFound,
        { IsDeleted: true } => CommentOutcome.Deleted,
        { Status: not CommentStatus.Published } => CommentOutcome.NotPublished,
        _ => CommentOutcome.Done,
    };

    /// <summary>
    /// A moderator's change of an undeleted comment's status from <paramref name="from"/> to <paramref name="to"/> (hide,
    /// remove, restore), in the caller's transaction; the counts follow as for any publish or unpublish (the class's
    /// invariant). False when the comment was not in <paramref name="from"/>.
    /// </summary>
    public static async Task<bool> ModerateInAsync(DbSession db, string commentId, string from, string to, CancellationToken cancellationToken)
    {
        var changed = await db.QueryAsync(
            "UPDATE comments SET status = @to WHERE id = @c AND status = @from AND deleted_at IS NULL RETURNING video_id, thread_id, parent_id",
            [("to", to), ("c", commentId), ("from", from)],
            (r, _) => (Video: r.GetString(0), Thread: r.GetString(1), Parent: r.IsDBNull(2) ? null : r.GetString(2)), cancellationToken).ConfigureAwait(false);
        if (changed.Count == 0)
        {
            return false;
        }

        var delta = (from == CommentStatus.Published ? -1 : 0) + (to == CommentStatus.Published ? 1 : 0);
        if (delta != 0)
        {
            await CountInAsync(db, changed[0].Video, changed[0].Thread, changed[0].Parent, delta, cancellationToken).ConfigureAwait(false);
        }

        if (from == CommentStatus.Published)
        {
            await db.ExecAsync("UPDATE videos SET pinned_comment_id = NULL WHERE id = @v AND pinned_comment_id = @c", [("v", changed[0].Video), ("c", commentId)],
                cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Moves the video's count and, for a reply, its thread's reply count by <paramref name="delta"/>.</summary>
    private static async Task CountInAsync(DbSession db, string videoId, string threadId, string? parentId, int delta, CancellationToken cancellationToken)
    {
        await db.ExecAsync("UPDATE videos SET comment_count = comment_count + @d WHERE id = @v", [("d", delta), ("v", videoId)], cancellationToken)
            .ConfigureAwait(false);
        if (parentId is not null)
        {
            await db.ExecAsync("UPDATE comments SET reply_count = reply_count + @d WHERE id = @t", [("d", delta), ("t", threadId)], cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Records the mentions of existing accounts, except those that block the author (Blocks/: a blocked account cannot mention them).</summary>
    private static async Task AddMentionsInAsync(DbSession db, string commentId, string authorId, string[] handles, CancellationToken cancellationToken)
    {
        if (handles.Length == 0)
        {
            return;
        }

        await db.ExecAsync(
            $"""
            INSERT INTO comment_mentions (comment_id, user_id) SELECT @c, id FROM users
            WHERE handle {db.Dialect.InList("h")} AND deleted_at IS NULL
              AND id NOT IN (SELECT blocker_id FROM account_blocks WHERE blocked_id = @author AND kind = 'block')
            """,
            [("c", commentId), ("h", db.Dialect.ListValue(handles)), ("author", authorId)], cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Dictionary<string, List<string>>> MentionsInAsync(DbSession db, List<string> commentIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (commentIds.Count == 0)
        {
            return result;
        }

        var rows = await db.QueryAsync(
            $"SELECT cm.comment_id, u.handle FROM comment_mentions cm JOIN users u ON u.id = cm.user_id WHERE cm.comment_id {db.Dialect.InList("ids")} ORDER BY u.handle",
            [("ids", db.Dialect.ListValue(commentIds))], (r, _) => (r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        foreach (var (comment, handle) in rows)
        {
            if (!result.TryGetValue(comment, out var list))
            {
                result[comment] = list = [];
            }

            list.Add(handle);
        }

        return result;
    }

    private static async Task<(string Status, bool Deleted)?> StateInAsync(DbSession db, string videoId, string commentId, CancellationToken cancellationToken)
    {
        var rows = await db.QueryAsync("SELECT status, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM comments WHERE id = @c AND video_id = @v",
            [("c", commentId), ("v", videoId)], (r, _) => (r.GetString(0), Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture) == 1), cancellationToken)
            .ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    private static async Task<Page<CommentResponse>> PageAsync(DbSession db, VideoAccess a, List<CommentRow> rows, int take, string sort,
        Func<CommentRow, string> keyOf, CancellationToken cancellationToken)
    {
        var shown = rows.Count > take ? rows.GetRange(0, take) : rows;
        var mentions = await MentionsInAsync(db, shown.ConvertAll(r => r.Id), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, sort, r => (keyOf(r), r.Id),
            r => r.ToResponse(a.PinnedCommentId, mentions.TryGetValue(r.Id, out var m) ? [.. m] : [], a.Manages));
    }

    /// <summary>
    /// A cursor's key (validated by the endpoint through <see cref="TryParseKey"/>) as the statement's parameters: mode 0 for the
    /// first page, 1 after the pinned comment (every other comment follows), 2 after an ordinary one (keyset on the sort's columns).
    /// </summary>
    private static (int Mode, long Votes, DateTimeOffset At) ParseKey(string sort, string? key)
    {
        if (key is null || !TryParseKey(sort, key, out var pinned, out var votes, out var at))
        {
            return (0, 0, DateTimeOffset.UnixEpoch);
        }

        return (pinned ? 1 : 2, votes, at);
    }

    /// <summary>Whether <paramref name="key"/> is a key of <paramref name="sort"/>'s cursors ("pinned:votes:ticks" for top, "pinned:ticks" otherwise).</summary>
    public static bool TryParseKey(string sort, string key, out bool pinned, out long votes, out DateTimeOffset at)
    {
        pinned = false;
        votes = 0;
        at = default;
        var parts = key.Split(':');
        var expected = sort == CommentSort.Top ? 3 : 2;
        if (parts.Length != expected || parts[0] is not ("0" or "1")
            || !long.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || (expected == 3 && !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out votes)))
        {
            return false;
        }

        pinned = parts[0] == "1";
        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5700, Level = LogLevel.Debug, Message = "Comment {CommentId} posted on video {VideoId} ({Status})")]
        public static partial void Posted(ILogger logger, string commentId, string videoId, string status);

        [LoggerMessage(EventId = 5701, Level = LogLevel.Information, Message = "Comment {CommentId} on video {VideoId} deleted by moderator {AccountId}")]
        public static partial void DeletedByModerator(ILogger logger, string commentId, string videoId, string accountId);

        [LoggerMessage(EventId = 5702, Level = LogLevel.Information, Message = "Held comment {CommentId} on video {VideoId} rejected by {AccountId}")]
        public static partial void Rejected(ILogger logger, string commentId, string videoId, string accountId);
    }
}
