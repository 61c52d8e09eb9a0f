using System.Data.Common;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>A row of <c>chat_messages</c> with its author.</summary>
internal sealed record ChatMessageRow(string Id, string VideoId, string AuthorId, string Handle, string DisplayName, string Text, long MediaMs, DateTimeOffset CreatedAt)
{
    public const string Columns = "m.id, m.video_id, m.author_id, u.handle, u.display_name, m.text, m.media_ms, m.created_at";

    public static ChatMessageRow Read(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        Convert.ToInt64(r.GetValue(6), CultureInfo.InvariantCulture), d.ReadTimestamp(r, 7));

    public ChatMessageResponse ToResponse() => new(Id, VideoId, new ChatAuthor(AuthorId, Handle, DisplayName), Text, MediaMs / 1000.0, CreatedAt);
}

/// <summary>A video's chat as one writer meets it: the broadcast, the channel's rules, and the writer's standing in the channel.</summary>
internal sealed record ChatContext(
    string Status, string ChannelId, string OwnerId, DateTimeOffset StartedAt, int SlowModeSeconds, bool SubscribersOnly, string[] BlockedWords,
    bool IsModerator, bool Restricted, DateTimeOffset? RestrictedUntil, bool Subscribed, string? Handle, string? DisplayName,
    DateTimeOffset? PremiereAt = null, double? DurationSeconds = null)
{
    /// <summary>Whether the chat takes messages: a live broadcast's, or a premiere's from its scheduling to the end of its showing.</summary>
    public bool IsOpen(DateTimeOffset now) =>
        Status == "live" || (PremiereAt is { } at && now < at + TimeSpan.FromSeconds(DurationSeconds ?? 0));

    /// <summary>Media time 0: a premiere's instant (messages before it sit at 0, the start of the replay), else the broadcast's start.</summary>
    public DateTimeOffset ClockStart => PremiereAt ?? StartedAt;

    public ChatRules Rules => new(ChannelId, SlowModeSeconds, SubscribersOnly);
}

/// <summary>The caller's standing in a channel's chat.</summary>
internal sealed record ChatChannelRole(string OwnerId, bool IsModerator);

/// <summary>
/// Chat's SQL, both engines. Invariants: a message belongs to one video and is never edited; deletion is soft
/// (<c>deleted_at</c>) and hides it from history and replay; <c>media_ms</c> is milliseconds of the broadcast's media at sending,
/// so replay pages by (media_ms, id). Slow mode is settled by the insert itself (a conditional insert that finds no message
/// of the author's in the same chat inside the window), so two daemons do not both let a message through, on SQLite; on
/// PostgreSQL two racing inserts of one author can both pass, which the per-account rate limit bounds. One settings row per
/// channel at most (absent = defaults), one moderator row and one restriction row per (channel, account).
/// </summary>
internal sealed class ChatStore(Database database)
{
    private const string ContextSql =
        """
        SELECT v.status, v.channel_id, c.owner_id, v.created_at,
               COALESCE(s.slow_mode_seconds, 0), CASE WHEN s.subscribers_only THEN 1 ELSE 0 END, COALESCE(s.blocked_words, ''),
               CASE WHEN EXISTS (SELECT 1 FROM chat_moderators cm WHERE cm.channel_id = v.channel_id AND cm.user_id = @me) THEN 1 ELSE 0 END,
               CASE WHEN r.user_id IS NULL THEN 0 ELSE 1 END, r.until_at,
               CASE WHEN EXISTS (SELECT 1 FROM subscriptions sub WHERE sub.channel_id = v.channel_id AND sub.user_id = @me) THEN 1 ELSE 0 END,
               u.handle, u.display_name, v.premiere_at, v.duration_seconds
        FROM videos v JOIN channels c ON c.id = v.channel_id
        LEFT JOIN chat_settings s ON s.channel_id = v.channel_id
        LEFT JOIN chat_restrictions r ON r.channel_id = v.channel_id AND r.user_id = @me
        LEFT JOIN users u ON u.id = @me AND u.deleted_at IS NULL
        WHERE v.id = @v
        """;

    /// <summary>A premiere still scheduled (its video private or unlisted until then): its chat is everyone's, as its page is.</summary>
    internal const string ScheduledPremiereSql =
        """
        SELECT v.id FROM videos v
        WHERE v.id = @id AND v.premiere_at IS NOT NULL AND v.publish_at IS NOT NULL AND v.moderation IS NULL AND v.visibility IN ('private', 'unlisted')
        """;

    // Slow mode inside the insert: nothing of the author's in this chat since @since (@since = @now when slow mode is off or
    // the author is exempt, so the test is then always true).
    private const string InsertSql =
        """
        INSERT INTO chat_messages (id, video_id, author_id, text, media_ms, created_at)
        SELECT @id, @v, @me, @text, @ms, @now
        WHERE NOT EXISTS (SELECT 1 FROM chat_messages p WHERE p.video_id = @v AND p.author_id = @me AND p.created_at > @since AND p.deleted_at IS NULL)
        """;

    private const string RecentSql =
        $"""
        SELECT {ChatMessageRow.Columns} FROM chat_messages m JOIN users u ON u.id = m.author_id
        WHERE m.video_id = @v AND m.deleted_at IS NULL
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT @take
        """;

    private const string ReplaySql =
        $"""
        SELECT {ChatMessageRow.Columns} FROM chat_messages m JOIN users u ON u.id = m.author_id
        WHERE m.video_id = @v AND m.deleted_at IS NULL AND m.media_ms < @to
          AND (m.media_ms > @ck OR (m.media_ms = @ck AND m.id > @cid))
        ORDER BY m.media_ms, m.id
        LIMIT @take
        """;

    private const string AuthorSql = "SELECT author_id FROM chat_messages WHERE id = @id AND video_id = @v AND deleted_at IS NULL";

    private const string DeleteSql = "UPDATE chat_messages SET deleted_at = @now, deleted_by = @me WHERE id = @id AND video_id = @v AND deleted_at IS NULL";

    private const string ChannelRoleSql =
        """
        SELECT c.owner_id, CASE WHEN EXISTS (SELECT 1 FROM chat_moderators cm WHERE cm.channel_id = c.id AND cm.user_id = @me) THEN 1 ELSE 0 END
        FROM channels c WHERE c.id = @c
        """;

    private const string SettingsSql =
        """
        SELECT COALESCE(s.slow_mode_seconds, 0), CASE WHEN s.subscribers_only THEN 1 ELSE 0 END, COALESCE(s.blocked_words, '')
        FROM channels c LEFT JOIN chat_settings s ON s.channel_id = c.id WHERE c.id = @c
        """;

    private const string UpsertSettingsSql =
        """
        INSERT INTO chat_settings (channel_id, slow_mode_seconds, subscribers_only, blocked_words, updated_at) VALUES (@c, @slow, @subs, @words, @now)
        ON CONFLICT (channel_id) DO UPDATE SET slow_mode_seconds = @slow, subscribers_only = @subs, blocked_words = @words, updated_at = @now
        """;

    private const string LiveVideosSql = "SELECT id FROM videos WHERE channel_id = @c AND status = 'live'";

    private const string ModeratorsSql =
        """
        SELECT m.channel_id, m.user_id, u.handle, m.created_at FROM chat_moderators m JOIN users u ON u.id = m.user_id
        WHERE m.channel_id = @c AND m.user_id > @after ORDER BY m.user_id LIMIT @take
        """;

    private const string AddModeratorSql =
        """
        INSERT INTO chat_moderators (channel_id, user_id, created_at) SELECT @c, u.id, @now FROM users u WHERE u.id = @u AND u.deleted_at IS NULL
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """;

    private const string UserExistsSql = "SELECT id FROM users WHERE id = @u AND deleted_at IS NULL";

    private const string RemoveModeratorSql = "DELETE FROM chat_moderators WHERE channel_id = @c AND user_id = @u";

    private const string RestrictionsSql =
        """
        SELECT channel_id, user_id, until_at, created_at FROM chat_restrictions
        WHERE channel_id = @c AND (until_at IS NULL OR until_at > @now) AND user_id > @after ORDER BY user_id LIMIT @take
        """;

    private const string RestrictSql =
        """
        INSERT INTO chat_restrictions (channel_id, user_id, until_at, created_by, created_at) VALUES (@c, @u, @until, @me, @now)
        ON CONFLICT (channel_id, user_id) DO UPDATE SET until_at = @until, created_by = @me, created_at = @now
        """;

    private const string LiftSql = "DELETE FROM chat_restrictions WHERE channel_id = @c AND user_id = @u";

    public async Task<ChatContext?> ContextAsync(string videoId, string me, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(ContextSql, [("v", videoId), ("me", me)], (r, d) => new ChatContext(
            r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3), Convert.ToInt32(r.GetValue(4), CultureInfo.InvariantCulture),
            Flag(r, 5), SplitWords(r.GetString(6)), Flag(r, 7), Flag(r, 8), d.ReadNullableTimestamp(r, 9), Flag(r, 10),
            r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : r.GetString(12), d.ReadNullableTimestamp(r, 13),
            r.IsDBNull(14) ? null : r.GetDouble(14)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a message unless the author wrote in this chat after <paramref name="since"/>; false when slow mode refused it.</summary>
    public async Task<bool> InsertAsync(ChatMessageRow row, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync(InsertSql,
            [("id", row.Id), ("v", row.VideoId), ("me", row.AuthorId), ("text", row.Text), ("ms", row.MediaMs), ("now", row.CreatedAt), ("since", since)],
            cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>The newest <paramref name="take"/> messages, oldest first.</summary>
    public async Task<List<ChatMessageResponse>> RecentAsync(string videoId, int take, CancellationToken cancellationToken)
    {
        if (take == 0)
        {
            return [];
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(RecentSql, [("v", videoId), ("take", take)], ChatMessageRow.Read, cancellationToken).ConfigureAwait(false);
        rows.Reverse();
        return rows.ConvertAll(r => r.ToResponse());
    }

    public const string ReplaySort = "chat-media";

    /// <summary>Messages with media time in [<paramref name="fromMs"/>, <paramref name="toMs"/>), by media time, keyset paged.</summary>
    public async Task<Page<ChatMessageResponse>> ReplayAsync(string videoId, long fromMs, long toMs, (string? Key, string? Id) after, int take,
        CancellationToken cancellationToken)
    {
        // Without a cursor: just before the first message at fromMs (every id sorts after "").
        var (ck, cid) = after.Key is { } key && long.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) ? (k, after.Id!) : (fromMs, "");
        if (ck < fromMs)
        {
            (ck, cid) = (fromMs, "");
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(ReplaySql, [("v", videoId), ("to", toMs), ("ck", ck), ("cid", cid), ("take", take + 1)], ChatMessageRow.Read, cancellationToken)
            .ConfigureAwait(false);

        // The first page also holds the messages at exactly fromMs with the smallest ids (cid "" is below all of them).
        return Paging.Cut(rows, take, ReplaySort, r => (r.MediaMs.ToString(CultureInfo.InvariantCulture), r.Id), r => r.ToResponse());
    }

    /// <summary>The author of a visible message of this video; null when there is none (never was, or deleted).</summary>
    public async Task<string?> AuthorOfAsync(string videoId, string messageId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>(AuthorSql, [("id", messageId), ("v", videoId)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Soft-deletes a message; false when it was already gone.</summary>
    public async Task<bool> DeleteAsync(string videoId, string messageId, string by, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync(DeleteSql, [("id", messageId), ("v", videoId), ("now", now), ("me", by)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>The channel's owner and whether <paramref name="me"/> moderates its chat; null when there is no such channel.</summary>
    public async Task<ChatChannelRole?> ChannelRoleAsync(string channelId, string me, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(ChannelRoleSql, [("c", channelId), ("me", me)], (r, _) => new ChatChannelRole(r.GetString(0), Flag(r, 1)), cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<ChatSettingsResponse?> SettingsAsync(string channelId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(SettingsSql, [("c", channelId)], (r, _) => new ChatSettingsResponse(
            channelId, Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture), Flag(r, 1), SplitWords(r.GetString(2))), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the settings; returns the channel's live videos, whose chats are told.</summary>
    public async Task<List<string>> UpdateSettingsAsync(string channelId, ChatSettings settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(UpsertSettingsSql,
            [("c", channelId), ("slow", settings.SlowModeSeconds), ("subs", settings.SubscribersOnly), ("words", string.Join('\n', settings.BlockedWords)), ("now", now)],
            cancellationToken).ConfigureAwait(false);
        return await db.QueryAsync(LiveVideosSql, [("c", channelId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    public const string UserSort = "chat-user";

    public async Task<Page<ChatModeratorResponse>> ModeratorsAsync(string channelId, string? afterUser, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(ModeratorsSql, [("c", channelId), ("after", afterUser ?? ""), ("take", take + 1)],
            (r, d) => new ChatModeratorResponse(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3)), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, UserSort, m => (m.UserId, m.UserId), m => m);
    }

    /// <summary>Appoints a moderator (idempotent); false when there is no such account.</summary>
    public async Task<bool> AddModeratorAsync(string channelId, string userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(AddModeratorSql, [("c", channelId), ("u", userId), ("now", now)], cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>(UserExistsSql, [("u", userId)], cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task RemoveModeratorAsync(string channelId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(RemoveModeratorSql, [("c", channelId), ("u", userId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<Page<ChatRestrictionResponse>> RestrictionsAsync(string channelId, string? afterUser, int take, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(RestrictionsSql, [("c", channelId), ("now", now), ("after", afterUser ?? ""), ("take", take + 1)],
            (r, d) => new ChatRestrictionResponse(r.GetString(0), r.GetString(1), d.ReadNullableTimestamp(r, 2), d.ReadTimestamp(r, 3)), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, UserSort, x => (x.UserId, x.UserId), x => x);
    }

    /// <summary>Bans (<paramref name="until"/> null) or times out an account; null when there is no such account.</summary>
    public async Task<ChatRestrictionResponse?> RestrictAsync(string channelId, string userId, DateTimeOffset? until, string by, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<string>(UserExistsSql, [("u", userId)], cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        await db.ExecAsync(RestrictSql, [("c", channelId), ("u", userId), ("until", until is { } u ? db.Dialect.ToDb(u) : null), ("me", by), ("now", now)],
            cancellationToken).ConfigureAwait(false);
        return new ChatRestrictionResponse(channelId, userId, until, now);
    }

    public async Task LiftAsync(string channelId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(LiftSql, [("c", channelId), ("u", userId)], cancellationToken).ConfigureAwait(false);
    }

    private static bool Flag(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture) == 1;

    private static string[] SplitWords(string stored) => stored.Length == 0 ? [] : stored.Split('\n');
}
