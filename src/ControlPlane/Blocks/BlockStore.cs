using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Blocks;

/// <summary>How one account silences another, stored as this text.</summary>
internal static class BlockKind
{
    /// <summary>Hides the other's comments from me, and stops it commenting on my videos, replying to me and mentioning me.</summary>
    public const string Block = "block";

    /// <summary>Only hides the other's comments from me.</summary>
    public const string Mute = "mute";

    public static bool IsValid(string? k) => k is Block or Mute;
}

/// <summary><c>PUT /api/v1/me/blocks/{userId}</c>.</summary>
/// <param name="Kind">block (default) or mute.</param>
internal sealed record BlockRequest(string? Kind);

internal sealed record BlockResponse(string UserId, string Handle, string Kind, DateTimeOffset CreatedAt);

/// <summary>
/// Blocks and mutes between accounts: one row per (blocker, blocked), replaced by a new PUT. Comments/ reads them in its
/// own statements (<see cref="HiddenAuthorSql"/>, <see cref="BlocksSql"/>) so a listing stays one query.
/// </summary>
internal sealed class BlockStore(Database database, TimeProvider time)
{
    /// <summary>SQL: the comment <c>c</c>'s author is blocked or muted by the caller <c>@me</c>.</summary>
    public const string HiddenAuthorSql = "EXISTS (SELECT 1 FROM account_blocks hb WHERE hb.blocker_id = @me AND hb.blocked_id = c.author_id)";

    /// <summary>SQL: account <c>@blocker</c> blocks (not mutes) <c>@blocked</c>.</summary>
    public const string BlocksSql = "SELECT 1 FROM account_blocks WHERE blocker_id = @blocker AND blocked_id = @blocked AND kind = 'block'";

    public static async Task<bool> BlocksInAsync(DbSession db, string blocker, string blocked, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>(BlocksSql, [("blocker", blocker), ("blocked", blocked)], cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Blocks or mutes; false when there is no such account.</summary>
    public async Task<BlockResponse?> SetAsync(string me, string other, string kind, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync(
            """
            INSERT INTO account_blocks (blocker_id, blocked_id, kind, created_at)
            SELECT @me, id, @k, @now FROM users WHERE id = @o AND deleted_at IS NULL
            ON CONFLICT (blocker_id, blocked_id) DO UPDATE SET kind = excluded.kind
            """,
            [("me", me), ("o", other), ("k", kind), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return null;
        }

        return await db.SingleAsync(
            "SELECT b.blocked_id, u.handle, b.kind, b.created_at FROM account_blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = @me AND b.blocked_id = @o",
            [("me", me), ("o", other)], (r, d) => new BlockResponse(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3)), cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task RemoveAsync(string me, string other, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM account_blocks WHERE blocker_id = @me AND blocked_id = @o", [("me", me), ("o", other)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The caller's blocks and mutes, newest first.</summary>
    public async Task<Page<BlockResponse>> ListAsync(string me, (DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(
            """
            SELECT b.blocked_id, u.handle, b.kind, b.created_at FROM account_blocks b JOIN users u ON u.id = b.blocked_id
            WHERE b.blocker_id = @me AND (b.created_at < @kt OR (b.created_at = @kt AND b.blocked_id < @ki))
            ORDER BY b.created_at DESC, b.blocked_id DESC LIMIT @take
            """,
            [("me", me), ("kt", after.At), ("ki", after.Id), ("take", take + 1)],
            (r, d) => new BlockResponse(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3)), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "blocks", b => (Paging.Key(b.CreatedAt), b.UserId), b => b);
    }
}
