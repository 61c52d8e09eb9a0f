using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>
/// Withdraws playback tokens before they expire: "tokens issued before T are void", per video (made private or
/// premium: earlier tokens of viewers who may no longer see it) and per viewer (lost the premium flag, deleted their
/// account). Tokens for a long video live as long as the video (<see cref="PlaybackOptions.LifetimeFor"/>), so
/// expiry alone would let a viewer who lost access play on for hours. The watermarks are rows of
/// <c>playback_revocations</c>, written in the transaction of the change; the origin's <see cref="PlaybackGate"/>
/// reads them from memory: this process applies its own at once, and <see cref="ControlPlaneCacheRefresher"/>
/// reloads everyone's every <see cref="ControlPlaneOptions.CacheRefreshInterval"/>.
/// </summary>
/// <remarks>
/// Invariants: a watermark only moves forward (upserts keep the later time; the in-memory merge keeps the maximum),
/// so a reload that raced a local write never reopens a withdrawn token; one applied locally for a transaction that
/// then rolled back only refuses tokens early (their viewers ask for new ones). A watermark older than
/// <see cref="PlaybackOptions.MaxTokenLifetime"/> voids nothing (every token issued before it has expired) and is
/// pruned. Times are the issuing process's clock against the writer's: processes sharing a database keep their
/// clocks in sync (NTP), as the expiry check already assumes.
/// </remarks>
internal sealed class PlaybackRevocations(Database database, IOptions<PlaybackOptions> options, TimeProvider time, Cluster.ClusterRedis? cluster = null)
{
    private const string VideoKind = "video";
    private const string ViewerKind = "viewer";

    private const string Upsert =
        """
        INSERT INTO playback_revocations (kind, subject_id, not_before) VALUES (@k, @s, @t)
        ON CONFLICT (kind, subject_id) DO UPDATE SET not_before = CASE
            WHEN excluded.not_before > playback_revocations.not_before THEN excluded.not_before ELSE playback_revocations.not_before END
        """;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, long> _videos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _viewers = new(StringComparer.Ordinal);
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <summary>Whether a token for <paramref name="videoId"/>, issued to <paramref name="viewer"/> at
    /// <paramref name="issuedUnixMilliseconds"/>, was withdrawn. Allocates nothing.</summary>
    public bool Voids(string videoId, ReadOnlySpan<char> viewer, long issuedUnixMilliseconds)
    {
        if (!_videos.IsEmpty && _videos.TryGetValue(videoId, out var video) && issuedUnixMilliseconds < video)
        {
            return true;
        }

        return !viewer.IsEmpty && !_viewers.IsEmpty
            && _viewers.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(viewer, out var since) && issuedUnixMilliseconds < since;
    }

    /// <summary>
    /// In the caller's transaction, before the visibility is written: if the video is changing to
    /// <paramref name="visibility"/> from another visibility, every token issued for it until now is void (the owner and
    /// admins ask for new ones; other viewers may no longer get one). Re-saving the same visibility voids nothing.
    /// </summary>
    public async Task VisibilityChangingInAsync(DbSession db, string videoId, string visibility, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var changed = await db.ExecAsync(
            """
            INSERT INTO playback_revocations (kind, subject_id, not_before)
            SELECT @k, id, @t FROM videos WHERE id = @s AND visibility <> @vis
            ON CONFLICT (kind, subject_id) DO UPDATE SET not_before = CASE
                WHEN excluded.not_before > playback_revocations.not_before THEN excluded.not_before ELSE playback_revocations.not_before END
            """,
            [("k", VideoKind), ("t", now), ("s", videoId), ("vis", visibility)], cancellationToken).ConfigureAwait(false);
        if (changed > 0)
        {
            RaiseAndTell(video: true, videoId, now);
        }
    }

    /// <summary>In the caller's transaction: every token issued for <paramref name="videoId"/> until now is void (a moderator
    /// age-restricted it: tokens of viewers who did not attest being adults must stop).</summary>
    public async Task VoidVideoInAsync(DbSession db, string videoId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await db.ExecAsync(Upsert, [("k", VideoKind), ("s", videoId), ("t", now)], cancellationToken).ConfigureAwait(false);
        RaiseAndTell(video: true, videoId, now);
    }

    /// <summary>In the caller's transaction: every token issued to <paramref name="viewerId"/> until now is void (the
    /// account is being deleted, or lost what admitted it).</summary>
    public async Task VoidViewerInAsync(DbSession db, string viewerId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await db.ExecAsync(Upsert, [("k", ViewerKind), ("s", viewerId), ("t", now)], cancellationToken).ConfigureAwait(false);
        RaiseAndTell(video: false, viewerId, now);
    }

    /// <summary>Reads every watermark that can still void a token (and prunes older ones at most once an hour).</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = (now - options.Value.MaxTokenLifetime).ToUnixTimeMilliseconds();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (now - _lastPrune >= PruneInterval)
        {
            await db.ExecAsync("DELETE FROM playback_revocations WHERE not_before < @since", [("since", since)], cancellationToken).ConfigureAwait(false);
            _lastPrune = now;
        }

        var rows = await db.QueryAsync("SELECT kind, subject_id, not_before FROM playback_revocations WHERE not_before >= @since", [("since", since)],
            (r, _) => (Kind: r.GetString(0), Id: r.GetString(1), At: Convert.ToInt64(r.GetValue(2), System.Globalization.CultureInfo.InvariantCulture)),
            cancellationToken).ConfigureAwait(false);
        foreach (var (kind, id, at) in rows)
        {
            Raise(kind == VideoKind ? _videos : _viewers, id, at);
        }

        foreach (var map in (ReadOnlySpan<ConcurrentDictionary<string, long>>)[_videos, _viewers])
        {
            foreach (var (id, at) in map)
            {
                if (at < since)
                {
                    map.TryRemove(new KeyValuePair<string, long>(id, at));
                }
            }
        }
    }

    /// <summary>A watermark another node of the cluster applied (<see cref="Cluster.RevocationFeed"/>).</summary>
    public void Apply(bool video, string subjectId, long unixMilliseconds) => Raise(video ? _videos : _viewers, subjectId, unixMilliseconds);

    // This process at once, the cluster's other nodes through Redis (their poll of the table is the fallback).
    private void RaiseAndTell(bool video, string subjectId, long unixMilliseconds)
    {
        Apply(video, subjectId, unixMilliseconds);
        cluster?.Publish(Cluster.RevocationFeed.Channel, Cluster.RevocationFeed.PlaybackMessage(video, subjectId, unixMilliseconds));
    }

    private static void Raise(ConcurrentDictionary<string, long> map, string id, long at) =>
        map.AddOrUpdate(id, at, (_, current) => Math.Max(current, at));
}
