using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Reactions;

/// <summary>What deciding on a reaction needs to know of a video.</summary>
internal sealed record ReactionTarget(string OwnerId, string Visibility, bool Playable, bool ReactionsEnabled, bool DislikesHidden);

/// <summary>The caller's reaction and the stored counts.</summary>
internal sealed record ReactionState(string? Kind, long Likes, long Dislikes);

/// <summary>
/// Every statement of reactions, once for both engines. The invariant: <c>videos.like_count</c> and
/// <c>dislike_count</c> equal the video's rows of each kind in <c>video_reactions</c>. They change only in the
/// transaction that changes a row, by what a conditional statement reports it changed: a flip
/// (<c>UPDATE ... WHERE kind = other</c>, one row: +1/-1), a new reaction (<c>INSERT ... ON CONFLICT DO NOTHING</c>,
/// one row: +1), a clear (<c>DELETE ... RETURNING kind</c>: -1 of that kind). Under PostgreSQL a racing statement on
/// the same account's row waits for the first and then matches nothing; SQLite runs one writer at a time. The count
/// update is one <c>UPDATE ... SET n = n + @d</c> under the video row's lock, so concurrent reactions of different
/// accounts add up exactly.
/// </summary>
internal sealed class ReactionStore(Database database, TimeProvider time)
{
    private const string Target =
        """
        SELECT c.owner_id, v.visibility, v.vod_prefix IS NOT NULL OR v.status IN ('live', 'ended'), v.reactions_enabled, v.dislikes_hidden
        FROM videos v JOIN channels c ON c.id = v.channel_id
        WHERE v.id = @v
        """;

    private const string State =
        """
        SELECT r.kind, v.like_count, v.dislike_count
        FROM videos v LEFT JOIN video_reactions r ON r.video_id = v.id AND r.user_id = @u
        WHERE v.id = @v
        """;

    private const string Flip = "UPDATE video_reactions SET kind = @k, created_at = @now WHERE video_id = @v AND user_id = @u AND kind = @other";

    private const string Insert =
        """
        INSERT INTO video_reactions (video_id, user_id, kind, created_at) VALUES (@v, @u, @k, @now)
        ON CONFLICT (video_id, user_id) DO NOTHING
        """;

    private const string Count = "UPDATE videos SET like_count = like_count + @dl, dislike_count = dislike_count + @dd WHERE id = @v";

    public async Task<ReactionTarget?> TargetAsync(string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(Target, [("v", videoId)],
            (r, _) => new ReactionTarget(r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetBoolean(3), r.GetBoolean(4)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the account has the premium flag now.</summary>
    public async Task<bool> IsPremiumAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<bool?>("SELECT premium FROM users WHERE id = @u AND deleted_at IS NULL", [("u", userId)], cancellationToken).ConfigureAwait(false) == true;
    }

    public async Task<ReactionState?> StateAsync(string videoId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadStateAsync(db, videoId, userId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets the account's reaction (a no-op when it is already <paramref name="kind"/>); the state after it.</summary>
    public async Task<ReactionState?> SetAsync(string videoId, string userId, string kind, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var like = kind == ReactionKind.Like;
        var other = like ? ReactionKind.Dislike : ReactionKind.Like;
        if (await db.ExecAsync(Flip, [("k", kind), ("now", now), ("v", videoId), ("u", userId), ("other", other)], cancellationToken).ConfigureAwait(false) == 1)
        {
            await db.ExecAsync(Count, [("dl", like ? 1 : -1), ("dd", like ? -1 : 1), ("v", videoId)], cancellationToken).ConfigureAwait(false);
        }
        else if (await db.ExecAsync(Insert, [("v", videoId), ("u", userId), ("k", kind), ("now", now)], cancellationToken).ConfigureAwait(false) == 1)
        {
            await db.ExecAsync(Count, [("dl", like ? 1 : 0), ("dd", like ? 0 : 1), ("v", videoId)], cancellationToken).ConfigureAwait(false);
        }

        var state = await ReadStateAsync(db, videoId, userId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return state;
    }

    /// <summary>Clears the account's reaction; nothing to do when there is none.</summary>
    public async Task ClearAsync(string videoId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var removed = await db.ScalarAsync<string>("DELETE FROM video_reactions WHERE video_id = @v AND user_id = @u RETURNING kind",
            [("v", videoId), ("u", userId)], cancellationToken).ConfigureAwait(false);
        if (removed is not null)
        {
            var like = removed == ReactionKind.Like;
            await db.ExecAsync(Count, [("dl", like ? -1 : 0), ("dd", like ? 0 : -1), ("v", videoId)], cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An account being deleted takes its reactions with it, in the deletion's transaction: the counts drop by its rows first.</summary>
    public static async Task ForgetAccountInAsync(DbSession db, string userId, CancellationToken cancellationToken)
    {
        await db.ExecAsync(
            """
            UPDATE videos SET
                like_count = like_count - (SELECT COUNT(*) FROM video_reactions r WHERE r.video_id = videos.id AND r.user_id = @u AND r.kind = 'like'),
                dislike_count = dislike_count - (SELECT COUNT(*) FROM video_reactions r WHERE r.video_id = videos.id AND r.user_id = @u AND r.kind = 'dislike')
            WHERE id IN (SELECT video_id FROM video_reactions WHERE user_id = @u)
            """,
            [("u", userId)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM video_reactions WHERE user_id = @u", [("u", userId)], cancellationToken).ConfigureAwait(false);
    }

    private static Task<ReactionState?> ReadStateAsync(DbSession db, string videoId, string userId, CancellationToken cancellationToken) =>
        db.SingleAsync(State, [("v", videoId), ("u", userId)],
            (r, _) => new ReactionState(r.IsDBNull(0) ? null : r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken);

    /// <summary>Who may react is who may watch: the owner and admins always; others only a playable video that is not
    /// private, and a premium one only with a premium account.</summary>
    public static ReactionAccess Decide(ReactionTarget target, bool ownsOrAdmin, bool premium) =>
        ownsOrAdmin ? ReactionAccess.Allowed
        : target.Visibility == Visibility.Private || !target.Playable ? ReactionAccess.Hidden
        : target.Visibility == Visibility.Premium && !premium ? ReactionAccess.NeedsPremium
        : ReactionAccess.Allowed;
}

internal enum ReactionAccess
{
    Allowed,
    Hidden,
    NeedsPremium,
}
