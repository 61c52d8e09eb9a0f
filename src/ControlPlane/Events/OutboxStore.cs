using System.Data.Common;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Events;

/// <summary>A claimed row of <c>outbox</c>.</summary>
internal sealed record OutboxMessage(long Seq, string EventId, string Type, string SubjectId, string Payload, DateTimeOffset OccurredAt, int Attempts)
{
    public const string Columns = "seq, event_id, type, subject_id, payload, occurred_at, attempts";

    public static OutboxMessage Read(DbDataReader r, Dialect d) => new(
        Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        d.ReadTimestamp(r, 5), Convert.ToInt32(r.GetValue(6), System.Globalization.CultureInfo.InvariantCulture));

    public EventEnvelope Envelope => new(EventId, Type, OccurredAt, Attempts);
}

/// <summary>
/// Every statement of the outbox's delivery side, once for SQLite and PostgreSQL. The invariants:
/// <list type="bullet">
/// <item>A row is claimed by one <c>UPDATE ... RETURNING</c> whose own WHERE repeats "not done, due, not leased": under
/// PostgreSQL's row lock a racing claimer re-evaluates that WHERE on the winner's version and skips the row; SQLite
/// runs one writer at a time. So at most one live lease per row.</item>
/// <item>Only the lease owner completes, retries or releases a row (<c>AND lease_owner = @o</c>); a process that lost
/// its lease (stalled past it) changes nothing.</item>
/// <item>A handler records <c>(event_id, handler)</c> in <c>outbox_handled</c> in its own transaction and runs only if that
/// insert added the row, so a row delivered twice (a lease that ran out, a crash before <c>done_at</c>) has no second effect.</item>
/// </list>
/// </summary>
internal sealed class OutboxStore(Database database, TimeProvider time)
{
    private const string Claim =
        $"""
        UPDATE outbox SET lease_owner = @o, lease_expires_at = @exp, attempts = attempts + 1
        WHERE seq IN (
                SELECT seq FROM outbox
                WHERE done_at IS NULL AND run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                ORDER BY seq LIMIT @n)
            AND done_at IS NULL AND run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
        RETURNING {OutboxMessage.Columns}
        """;

    /// <summary>Claims up to <paramref name="count"/> due events for <paramref name="owner"/>, oldest first.</summary>
    public async Task<List<OutboxMessage>> ClaimAsync(string owner, int count, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var claimed = await db.QueryAsync(Claim, [("o", owner), ("exp", now + lease), ("now", now), ("n", count)], OutboxMessage.Read, cancellationToken).ConfigureAwait(false);
        claimed.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return claimed;
    }

    /// <summary>Every handler ran (or had run before): the event is done.</summary>
    public async Task<bool> CompleteAsync(long seq, string owner, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return await db.ExecAsync(
            "UPDATE outbox SET done_at = @now, error = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE seq = @s AND lease_owner = @o AND done_at IS NULL",
            [("now", now), ("s", seq), ("o", owner)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>A handler failed: due again after <paramref name="delay"/>, with the error kept for operators.</summary>
    public async Task RetryLaterAsync(long seq, string owner, string error, TimeSpan delay, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await db.ExecAsync(
            "UPDATE outbox SET run_after = @after, error = @e, lease_owner = NULL, lease_expires_at = NULL WHERE seq = @s AND lease_owner = @o AND done_at IS NULL",
            [("after", now + delay), ("e", error.Length > 2000 ? error[..2000] : error), ("s", seq), ("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Graceful shutdown: every event this owner still holds is due again at once, and the interrupted
    /// delivery is not counted as an attempt.</summary>
    public async Task<int> ReleaseAllAsync(string owner, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync(
            "UPDATE outbox SET attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = @o AND done_at IS NULL",
            [("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Events leased by an earlier run of this node (same machine and data directory, so it cannot still be running:
    /// it crashed) are due again at once instead of after their lease. Leases of other nodes run out on their own.
    /// </summary>
    public async Task<int> RecoverAsync(string node, string me, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync(
            "UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE done_at IS NULL AND lease_owner LIKE @node AND lease_owner <> @me",
            [("node", node + ":%"), ("me", me)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes events done before <paramref name="cutoff"/> (their <c>outbox_handled</c> rows go by cascade).</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync("DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < @cutoff", [("cutoff", cutoff)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records that <paramref name="handler"/> handles <paramref name="eventId"/>, in <paramref name="db"/>'s transaction:
    /// false when it already has (the caller skips the event).
    /// </summary>
    public async Task<bool> TryMarkHandledInAsync(DbSession db, string eventId, string handler, CancellationToken cancellationToken) =>
        await db.ExecAsync(
            "INSERT INTO outbox_handled (event_id, handler, handled_at) VALUES (@e, @h, @now) ON CONFLICT (event_id, handler) DO NOTHING",
            [("e", eventId), ("h", handler), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false) == 1;
}
