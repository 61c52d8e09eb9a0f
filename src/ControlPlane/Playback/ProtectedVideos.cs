using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>
/// The ids of private and premium videos, and of deleted ones, in memory, so the origin can decide whether a stream
/// needs a playback token (or may not play at all) without a database query. Updated at once by this process's
/// writes and reloaded by <see cref="ControlPlaneCacheRefresher"/> for other processes' writes.
/// </summary>
/// <remarks>
/// Deleted videos are remembered because their live recordings outlive their rows (a node keeps a recording for
/// <c>Segmenter:RecordingRetention</c> after its last write, and a publish may still be running): the origin serves
/// a stream name the control plane does not know as public (<c>--stream</c> names), so a forgotten deleted video
/// would play to anyone, private or not. Their ids are kept in <c>deleted_videos</c> for
/// <see cref="ControlPlaneOptions.DeletedVideoRetention"/>.
/// </remarks>
internal sealed class ProtectedVideos(Database database, IOptions<ControlPlaneOptions> options, TimeProvider time)
{
    private const byte NeedsToken = 0;
    private const byte Gone = 1;

    // Hidden or removed by a moderator: plays to nobody like a deleted video, but a granted appeal or a dismissal lifts it
    // (Moderated/Unmoderated); a visibility write does not (the owner cannot republish a removed video).
    private const byte Blocked = 2;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    private readonly Lock _gate = new();
    private readonly TimeSpan _deletedRetention = options.Value.DeletedVideoRetention;
    private volatile ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);

    // Age-restricted videos: they need a token (which only an adult's request gets), whatever their visibility.
    private volatile ConcurrentDictionary<string, byte> _adult = new(StringComparer.Ordinal);

    // Local changes made while a reload's query ran: the snapshot may predate them, so they are replayed onto it.
    // Without this, a video made private during a reload could play unprotected until the next reload.
    private readonly List<(string Id, byte? State)> _changesDuringReload = [];
    private int _reloads;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <summary>Needs a playback token: private, premium, or deleted (which no token opens).</summary>
    public bool IsProtected(string videoId) => _ids.ContainsKey(videoId) || (!_adult.IsEmpty && _adult.ContainsKey(videoId));

    /// <summary>Deleted, or hidden or removed by a moderator: plays to nobody, token or not.</summary>
    public bool IsDeleted(string videoId) => _ids.TryGetValue(videoId, out var state) && state is Gone or Blocked;

    /// <summary>This process hid or removed <paramref name="videoId"/> (committed): it plays to nobody until <see cref="Unmoderated"/>.</summary>
    public void Moderated(string videoId) => Apply(videoId, Blocked, force: true);

    /// <summary>A dismissal or a granted appeal lifted the block (committed): the video plays as its visibility says.</summary>
    public void Unmoderated(string videoId, string visibility) => Apply(videoId, Videos.Visibility.NeedsToken(visibility) ? NeedsToken : null, force: true);

    /// <summary>This process age-restricted <paramref name="videoId"/> (committed): from now on it needs a token.</summary>
    public void AgeRestricted(string videoId)
    {
        lock (_gate)
        {
            _adult[videoId] = 0;
            if (_reloads > 0)
            {
                _changesDuringReload.Add((videoId, AdultMark));
            }
        }
    }

    // A replayed change that means "age-restricted" rather than a state of _ids.
    private const byte AdultMark = 255;

    public void Set(string videoId, string visibility) => Apply(videoId, Videos.Visibility.NeedsToken(visibility) ? NeedsToken : null);

    /// <summary>This process deleted <paramref name="videoId"/> (and recorded it with <see cref="RecordDeletedAsync"/>).</summary>
    public void Deleted(string videoId) => Apply(videoId, Gone);

    /// <summary>
    /// Records, in the caller's transaction, that the videos <paramref name="whereVideos"/> selects are being
    /// deleted (run it before the rows go, and before the transaction's other writes to videos): their tombstones, and
    /// the <see cref="EdgeInvalidations"/> that make edges drop what they hold of them. Returns their ids for
    /// <see cref="Deleted"/> after the commit.
    /// </summary>
    public async Task<IReadOnlyList<string>> RecordDeletedAsync(DbSession db, string whereVideos, (string Name, object? Value)[] parameters,
        CancellationToken cancellationToken)
    {
        await EdgeInvalidations.LockWritersInAsync(db, cancellationToken).ConfigureAwait(false);
        await db.ExecAsync($"INSERT INTO deleted_videos (id, deleted_at) SELECT id, @now FROM videos WHERE {whereVideos} ON CONFLICT (id) DO NOTHING",
            [.. parameters, ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync($"INSERT INTO edge_invalidations (video_id, created_at) SELECT id, @now FROM videos WHERE {whereVideos}",
            [.. parameters, ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        return await db.QueryAsync($"SELECT id FROM videos WHERE {whereVideos}", parameters, (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    private void Apply(string videoId, byte? state, bool force = false)
    {
        lock (_gate)
        {
            if (_ids.TryGetValue(videoId, out var current) && (current == Gone || (current == Blocked && !force)))
            {
                // Deleted is final: a late visibility write (a request that raced the delete) must not reopen it. A
                // moderator's block is lifted only by the moderation path (force).
                return;
            }

            if (state is { } s)
            {
                _ids[videoId] = s;
            }
            else
            {
                _ids.TryRemove(videoId, out _);
            }

            if (_reloads > 0)
            {
                _changesDuringReload.Add((videoId, state));
            }
        }
    }

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _reloads++;
        }

        try
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            if (now - _lastPrune >= PruneInterval)
            {
                await db.ExecAsync("DELETE FROM deleted_videos WHERE deleted_at < @cutoff", [("cutoff", now - _deletedRetention)], cancellationToken).ConfigureAwait(false);
                _lastPrune = now;
            }

            var rows = await db.QueryAsync(
                """
                SELECT id, 0 FROM videos WHERE visibility IN ('private', 'premium')
                UNION ALL SELECT id, 2 FROM videos WHERE moderation IS NOT NULL
                UNION ALL SELECT id, 3 FROM videos WHERE age_restricted
                UNION ALL SELECT id, 1 FROM deleted_videos
                """, [],
                (r, _) => (Id: r.GetString(0), State: (byte)r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
            var fresh = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            var adult = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            foreach (var (id, state) in rows)
            {
                // A deleted id wins over a row still listed (a delete committing while the query ran), and a block over a
                // visibility.
                if (state == 3)
                {
                    adult[id] = 0;
                }
                else if (state == Gone || (state == Blocked && (!fresh.TryGetValue(id, out var had) || had != Gone)))
                {
                    fresh[id] = state;
                }
                else
                {
                    fresh.TryAdd(id, state);
                }
            }

            lock (_gate)
            {
                foreach (var (id, state) in _changesDuringReload)
                {
                    if (state == AdultMark)
                    {
                        adult[id] = 0;
                        continue;
                    }

                    if (fresh.TryGetValue(id, out var current) && current == Gone)
                    {
                        continue;
                    }

                    if (state is { } s)
                    {
                        fresh[id] = s;
                    }
                    else
                    {
                        fresh.TryRemove(id, out _);
                    }
                }

                _ids = fresh;
                _adult = adult;
            }
        }
        finally
        {
            lock (_gate)
            {
                if (--_reloads == 0)
                {
                    _changesDuringReload.Clear();
                }
            }
        }
    }
}
