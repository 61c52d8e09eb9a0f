using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Users;

internal enum RoleChange
{
    Changed,
    Unchanged,
    NotFound,

    /// <summary>Refused: the account is the last admin, and the change would leave the deployment without one.</summary>
    LastAdmin,
}

/// <summary>
/// Accounts' roles. Invariants:
/// <list type="bullet">
/// <item>A deployment that has an admin keeps one: demoting or deleting the last admin is refused. The condition is
/// in the statement that changes the row, and every transaction that can remove an admin first takes
/// <see cref="AdminLock"/> (<see cref="DbSession.SerialiseAsync"/>), so two admins demoting each other at once leave
/// one of them an admin on both engines.</item>
/// <item>A role change ends every session of the account in the same transaction: its access tokens die at once in
/// this process and within <see cref="ControlPlaneOptions.CacheRefreshInterval"/> in others, and its refresh tokens
/// at once everywhere; the account signs in again and gets tokens that carry the new role. An unchanged role ends
/// nothing.</item>
/// <item>An access token that says <c>admin</c> is checked against the database on every request
/// (<see cref="IsAdminAsync"/>, from the bearer handler), so admin rights end with the commit that removes them,
/// in every process, whatever a cache still holds. Admin requests are few; they pay one indexed read.</item>
/// </list>
/// </summary>
internal sealed class RoleStore(Database database, Sessions sessions, Playback.PlaybackRevocations playbackRevocations)
{
    /// <summary>The advisory lock of transactions that can remove an admin ("Admins").</summary>
    public const long AdminLock = 0x4164_6D69_6E73;

    public async Task<RoleChange> SetAsync(string userId, string role, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.SerialiseAsync(AdminLock, cancellationToken).ConfigureAwait(false);
        var changed = await db.ExecAsync(
            """
            UPDATE users SET role = @r
            WHERE id = @id AND deleted_at IS NULL AND role <> @r
                AND (@r = 'admin' OR role <> 'admin'
                    OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.deleted_at IS NULL AND o.id <> @id))
            """,
            [("r", role), ("id", userId)], cancellationToken).ConfigureAwait(false);
        if (changed == 0)
        {
            var current = await db.ScalarAsync<string>("SELECT role FROM users WHERE id = @id AND deleted_at IS NULL", [("id", userId)], cancellationToken).ConfigureAwait(false);
            return current is null ? RoleChange.NotFound : current == role ? RoleChange.Unchanged : RoleChange.LastAdmin;
        }

        await sessions.RevokeAllInAsync(db, userId, cancellationToken).ConfigureAwait(false);

        // Playback tokens the account got under its old role (an admin's for others' private videos) end with it too.
        await playbackRevocations.VoidViewerInAsync(db, userId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return RoleChange.Changed;
    }

    /// <summary>What refusing to remove the last admin says.</summary>
    public const string LastAdminDetail = "This is the last admin: make another account an admin before deleting this one.";

    /// <summary>
    /// Whether <paramref name="userId"/> is an admin and no other live account is: a question asked ahead of work that
    /// must not start for a removal the invariant will refuse (the statement that removes an admin still decides, under
    /// <see cref="AdminLock"/>).
    /// </summary>
    public static async Task<bool> IsLastAdminAsync(DbSession db, string userId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>(
            """
            SELECT 1 FROM users u WHERE u.id = @id AND u.role = 'admin' AND u.deleted_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.deleted_at IS NULL AND o.id <> @id)
            """,
            [("id", userId)], cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Whether the account is an admin now (false for a deleted or unknown one).</summary>
    public async Task<bool> IsAdminAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>("SELECT role FROM users WHERE id = @id AND deleted_at IS NULL", [("id", userId)], cancellationToken).ConfigureAwait(false)
            == Roles.Admin;
    }

    /// <summary>Ends every session of a live account; false when there is no such account.</summary>
    public async Task<bool> RevokeSessionsAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<long?>("SELECT 1 FROM users WHERE id = @id AND deleted_at IS NULL", [("id", userId)], cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await sessions.RevokeAllInAsync(db, userId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }
}
