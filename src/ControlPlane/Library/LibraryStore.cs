using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Discovery;

namespace StreamVerse.ControlPlane.Library;

/// <summary>
/// The viewer's history (one row per video: the last position and when) and watch-later list. Lists show only what the
/// viewer may watch now (<see cref="Listing.WatchableByMe"/>): a saved video that became private or was deleted drops out
/// (deletion cascades). Recording is one upsert that checks the pause flag in the same statement, so a pause that
/// committed first always wins.
/// </summary>
internal sealed class LibraryStore(Database database, TimeProvider time)
{
    private const string Record =
        """
        INSERT INTO watch_history (user_id, video_id, position_seconds, watched_at)
        SELECT @me, @v, @p, @now FROM users u WHERE u.id = @me AND NOT u.history_paused
        ON CONFLICT (user_id, video_id) DO UPDATE SET position_seconds = excluded.position_seconds, watched_at = excluded.watched_at
        """;

    private const string SelectHistory =
        $"""
        SELECT {Listing.CardColumns}, h.position_seconds, h.watched_at
        FROM watch_history h JOIN videos v ON v.id = h.video_id JOIN channels c ON c.id = v.channel_id
        WHERE h.user_id = @me AND {Listing.WatchableByMe}
          AND (@cont = 0 OR (v.duration_seconds IS NOT NULL AND h.position_seconds > 0 AND h.position_seconds < v.duration_seconds * 0.95))
          AND (h.watched_at < @ck OR (h.watched_at = @ck AND h.video_id < @cid))
        ORDER BY h.watched_at DESC, h.video_id DESC
        LIMIT @take
        """;

    private const string SelectWatchLater =
        $"""
        SELECT {Listing.CardColumns}, w.added_at
        FROM watch_later w JOIN videos v ON v.id = w.video_id JOIN channels c ON c.id = v.channel_id
        WHERE w.user_id = @me AND {Listing.WatchableByMe}
          AND (w.added_at < @ck OR (w.added_at = @ck AND w.video_id < @cid))
        ORDER BY w.added_at DESC, w.video_id DESC
        LIMIT @take
        """;

    /// <summary>Records the position (in the caller's session, after its access check); false when the history is paused.</summary>
    public async Task<bool> RecordInAsync(DbSession db, string me, string videoId, double position, CancellationToken cancellationToken) =>
        await db.ExecAsync(Record, [("me", me), ("v", videoId), ("p", position), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false) > 0;

    /// <summary>The history newest first, or (<paramref name="continueWatching"/>) only videos started and not finished (under 95%).</summary>
    public async Task<Page<HistoryEntry>> HistoryAsync(string me, bool continueWatching, (DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        var sort = continueWatching ? "continue" : "history";
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectHistory, [("me", me), ("cont", continueWatching ? 1 : 0), ("ck", after.At), ("cid", after.Id), ("take", take + 1)],
            (r, d) => new HistoryEntry(Listing.ReadCard(r, d), r.GetDouble(Listing.CardColumnCount), d.ReadTimestamp(r, Listing.CardColumnCount + 1)),
            cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, sort, e => (Paging.Key(e.WatchedAt), e.Video.Id), e => e);
    }

    public async Task RemoveFromHistoryAsync(string me, string? videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM watch_history WHERE user_id = @me AND (CAST(@v AS VARCHAR(32)) IS NULL OR video_id = @v)", [("me", me), ("v", videoId)],
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<HistorySettings> SettingsAsync(string me, bool? paused, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var value = await db.ScalarAsync<bool>(
            "UPDATE users SET history_paused = COALESCE(@p, history_paused) WHERE id = @me RETURNING history_paused", [("p", paused), ("me", me)],
            cancellationToken).ConfigureAwait(false);
        return new HistorySettings(value);
    }

    public async Task AddToWatchLaterInAsync(DbSession db, string me, string videoId, CancellationToken cancellationToken) =>
        await db.ExecAsync("INSERT INTO watch_later (user_id, video_id, added_at) VALUES (@me, @v, @now) ON CONFLICT (user_id, video_id) DO NOTHING",
            [("me", me), ("v", videoId), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);

    public async Task RemoveFromWatchLaterAsync(string me, string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM watch_later WHERE user_id = @me AND video_id = @v", [("me", me), ("v", videoId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<Page<WatchLaterEntry>> WatchLaterAsync(string me, (DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectWatchLater, [("me", me), ("ck", after.At), ("cid", after.Id), ("take", take + 1)],
            (r, d) => new WatchLaterEntry(Listing.ReadCard(r, d), d.ReadTimestamp(r, Listing.CardColumnCount)), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "watch-later", e => (Paging.Key(e.AddedAt), e.Video.Id), e => e);
    }
}
