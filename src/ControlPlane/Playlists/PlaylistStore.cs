using System.Data.Common;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Discovery;

namespace StreamVerse.ControlPlane.Playlists;

/// <summary>
/// Playlists and their ordered items. Invariants:
/// <list type="bullet">
/// <item>Order is <c>position</c>, a sparse key (steps of <see cref="Step"/>): appending takes the last plus a step, a move
/// takes the midpoint of its new neighbours and renumbers the playlist only when they are adjacent. Items page by keyset on
/// (position, video id), so appends during paging land after every cursor.</item>
/// <item>At most <see cref="MaxItems"/> items, a video at most once: the insert checks both in its own statement, inside a
/// transaction that first touches the playlist row (PostgreSQL: its row lock; SQLite: the write lock), so racing adds
/// cannot pass the cap together.</item>
/// <item>Every count and list of items applies <see cref="Listing.WatchableByMe"/> for the viewer.</item>
/// </list>
/// </summary>
internal sealed class PlaylistStore(Database database, TimeProvider time)
{
    public const int MaxItems = 5000;
    public const long Step = 1024;

    private const string Columns =
        $"""
        p.id, p.owner_id, p.title, p.description, p.visibility, p.created_at, p.updated_at,
        (SELECT COUNT(*) FROM playlist_items pi JOIN videos v ON v.id = pi.video_id JOIN channels c ON c.id = v.channel_id
         WHERE pi.playlist_id = p.id AND {Listing.WatchableByMe})
        """;

    private const string SelectOne = $"SELECT {Columns} FROM playlists p WHERE p.id = @id";

    private const string SelectOwned =
        $"""
        SELECT {Columns} FROM playlists p
        WHERE p.owner_id = @owner AND (@all = 1 OR p.visibility = 'public')
          AND (p.created_at < @ck OR (p.created_at = @ck AND p.id < @cid))
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT @take
        """;

    private const string SelectItems =
        $"""
        SELECT {Listing.CardColumns}, pi.added_at, pi.position
        FROM playlist_items pi JOIN videos v ON v.id = pi.video_id JOIN channels c ON c.id = v.channel_id
        WHERE pi.playlist_id = @id AND {Listing.WatchableByMe}
          AND (pi.position > @ck OR (pi.position = @ck AND pi.video_id > @cid))
        ORDER BY pi.position, pi.video_id
        LIMIT @take
        """;

    private const string Append =
        """
        INSERT INTO playlist_items (playlist_id, video_id, position, added_at)
        SELECT @id, @v, COALESCE((SELECT MAX(position) FROM playlist_items WHERE playlist_id = @id), 0) + @step, @now
        FROM playlists p WHERE p.id = @id AND (SELECT COUNT(*) FROM playlist_items WHERE playlist_id = @id) < @max
        ON CONFLICT (playlist_id, video_id) DO NOTHING
        """;

    // Positions 1, 2, 3... times the step, in the current order (moves fall back to it when two neighbours are adjacent).
    private const string Renumber =
        """
        UPDATE playlist_items SET position = @step * (SELECT COUNT(*) FROM playlist_items o WHERE o.playlist_id = playlist_items.playlist_id
            AND (o.position < playlist_items.position OR (o.position = playlist_items.position AND o.video_id <= playlist_items.video_id)))
        WHERE playlist_id = @id
        """;

    private static PlaylistResponse Read(DbDataReader r, Dialect d) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        Convert.ToInt64(r.GetValue(7), CultureInfo.InvariantCulture), d.ReadTimestamp(r, 5), d.ReadTimestamp(r, 6));

    public async Task<PlaylistResponse> CreateAsync(string owner, PlaylistFields f, CancellationToken cancellationToken)
    {
        var id = Ids.New();
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            "INSERT INTO playlists (id, owner_id, title, description, visibility, created_at, updated_at) VALUES (@id, @o, @t, @d, @vis, @now, @now)",
            [("id", id), ("o", owner), ("t", f.Title), ("d", f.Description ?? ""), ("vis", f.Visibility), ("now", now)], cancellationToken).ConfigureAwait(false);
        return (await FindAsync(db, id, owner, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The playlist as <paramref name="viewer"/> ("" when anonymous) counts it; null when there is none.</summary>
    public async Task<PlaylistResponse?> FindAsync(string id, string viewer, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await FindAsync(db, id, viewer, cancellationToken).ConfigureAwait(false);
    }

    private static Task<PlaylistResponse?> FindAsync(DbSession db, string id, string viewer, CancellationToken cancellationToken) =>
        db.SingleAsync(SelectOne, [("id", id), ("me", viewer)], Read, cancellationToken);

    public async Task<PlaylistResponse?> UpdateAsync(string id, string viewer, PlaylistFields f, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            UPDATE playlists SET title = COALESCE(@t, title), description = COALESCE(@d, description), visibility = COALESCE(@vis, visibility), updated_at = @now
            WHERE id = @id
            """,
            [("t", f.Title), ("d", f.Description), ("vis", f.Visibility), ("now", time.GetUtcNow()), ("id", id)], cancellationToken).ConfigureAwait(false);
        return await FindAsync(db, id, viewer, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM playlists WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A user's playlists, newest first: all of them (<paramref name="all"/>, the owner's own view) or the public ones.</summary>
    public async Task<Page<PlaylistResponse>> OwnedAsync(string owner, bool all, string viewer, (DateTimeOffset At, string Id) after, int take, string sort,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectOwned, [("owner", owner), ("all", all ? 1 : 0), ("me", viewer), ("ck", after.At), ("cid", after.Id), ("take", take + 1)],
            Read, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, sort, p => (Paging.Key(p.CreatedAt), p.Id), p => p);
    }

    public async Task<Page<PlaylistItem>> ItemsAsync(string id, string viewer, (long Key, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectItems, [("id", id), ("me", viewer), ("ck", after.Key), ("cid", after.Id), ("take", take + 1)],
            (r, d) => (Item: new PlaylistItem(Listing.ReadCard(r, d), d.ReadTimestamp(r, Listing.CardColumnCount)), Position: r.GetInt64(Listing.CardColumnCount + 1)),
            cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "playlist", x => (x.Position.ToString(CultureInfo.InvariantCulture), x.Item.Video.Id), x => x.Item);
    }

    /// <summary>The first page's bound of an ascending integer keyset.</summary>
    public static (long Key, string Id) AfterPosition(string? cursor, Validation v)
    {
        var (key, id) = Paging.After(cursor, "playlist", v);
        if (key is null || id is null)
        {
            return (long.MinValue, "");
        }

        if (long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            return (n, id);
        }

        v.Add("cursor", "is not a cursor of this listing");
        return (0, "");
    }

    public enum AddOutcome { Added, AlreadyThere, Full }

    /// <summary>Appends the video (the caller checked the playlist and the video); see the class invariants.</summary>
    public async Task<AddOutcome> AddInAsync(DbSession db, string id, string videoId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await Touch(db, id, now, cancellationToken).ConfigureAwait(false);
        var added = await db.ExecAsync(Append, [("id", id), ("v", videoId), ("step", Step), ("now", now), ("max", MaxItems)], cancellationToken).ConfigureAwait(false);
        var present = added > 0 || await db.ScalarAsync<long?>("SELECT 1 FROM playlist_items WHERE playlist_id = @id AND video_id = @v", [("id", id), ("v", videoId)],
            cancellationToken).ConfigureAwait(false) is not null;
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added > 0 ? AddOutcome.Added : present ? AddOutcome.AlreadyThere : AddOutcome.Full;
    }

    public async Task RemoveAsync(string id, string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await Touch(db, id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM playlist_items WHERE playlist_id = @id AND video_id = @v", [("id", id), ("v", videoId)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public enum MoveOutcome { Moved, NoItem, NoBefore }

    /// <summary>Moves the item before <paramref name="before"/> (or to the end when null).</summary>
    public async Task<MoveOutcome> MoveAsync(string id, string videoId, string? before, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await Touch(db, id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (await PositionAsync(db, id, videoId, cancellationToken).ConfigureAwait(false) is null)
        {
            return MoveOutcome.NoItem;
        }

        long target;
        if (before is null)
        {
            target = (await db.ScalarAsync<long?>("SELECT MAX(position) FROM playlist_items WHERE playlist_id = @id", [("id", id)], cancellationToken).ConfigureAwait(false) ?? 0) + Step;
        }
        else if (before == videoId)
        {
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            return MoveOutcome.Moved;
        }
        else
        {
            for (var attempt = 0; ; attempt++)
            {
                if (await PositionAsync(db, id, before, cancellationToken).ConfigureAwait(false) is not { } next)
                {
                    return MoveOutcome.NoBefore;
                }

                var previous = await db.ScalarAsync<long?>(
                    "SELECT MAX(position) FROM playlist_items WHERE playlist_id = @id AND position < @p AND video_id <> @v",
                    [("id", id), ("p", next), ("v", videoId)], cancellationToken).ConfigureAwait(false) ?? next - 2 * Step;
                if (next - previous >= 2 || attempt > 0)
                {
                    target = previous + ((next - previous) / 2);
                    break;
                }

                await db.ExecAsync(Renumber, [("id", id), ("step", Step)], cancellationToken).ConfigureAwait(false);
            }
        }

        await db.ExecAsync("UPDATE playlist_items SET position = @p WHERE playlist_id = @id AND video_id = @v", [("p", target), ("id", id), ("v", videoId)],
            cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return MoveOutcome.Moved;
    }

    private static Task<long?> PositionAsync(DbSession db, string id, string videoId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT position FROM playlist_items WHERE playlist_id = @id AND video_id = @v", [("id", id), ("v", videoId)], cancellationToken);

    private static Task<int> Touch(DbSession db, string id, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ExecAsync("UPDATE playlists SET updated_at = @now WHERE id = @id", [("now", now), ("id", id)], cancellationToken);
}
