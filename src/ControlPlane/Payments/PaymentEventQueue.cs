using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>Wakes the payment worker when this process queued an event.</summary>
internal sealed class PaymentWake : WakeSignal;

/// <summary>One verified webhook event waiting in <c>payment_events</c>.</summary>
internal sealed record QueuedPaymentEvent(long Seq, string Processor, string EventId, string Type, DateTimeOffset CreatedAt, string Payload, int Attempts);

/// <summary>
/// The durable queue of verified webhook events. Invariants: an event id is stored once per processor (a redelivery finds
/// it and changes nothing); an event is done exactly when the transaction that applied its effects committed (that
/// transaction's <see cref="CompleteInAsync"/> decides by its row count); a lease that lapsed (a process died) makes the
/// event due again, and a failure backs it off through <c>run_after</c>.
/// </summary>
internal sealed class PaymentEventQueue(Database database, PaymentWake wake)
{
    private const string Insert = """
        INSERT INTO payment_events (processor, event_id, type, created_at, payload, received_at, run_after)
        VALUES (@p, @id, @type, @created, @payload, @now, @now)
        ON CONFLICT (processor, event_id) DO NOTHING
        """;

    private const string Claim = """
        UPDATE payment_events SET lease_owner = @owner, lease_expires_at = @until, attempts = attempts + 1
        WHERE seq IN (SELECT seq FROM payment_events
                      WHERE done_at IS NULL AND run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                      ORDER BY created_at, seq LIMIT @n)
          AND done_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at < @now)
        RETURNING seq, processor, event_id, type, created_at, payload, attempts
        """;

    /// <summary>Stores a verified event; false when it was delivered before (a duplicate or a replay of a stored one).</summary>
    public async Task<bool> EnqueueAsync(string processor, string eventId, string type, DateTimeOffset created, string payload, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync(Insert, [("p", processor), ("id", eventId), ("type", type), ("created", created), ("payload", payload), ("now", now)],
            cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            wake.Wake();
        }

        return n > 0;
    }

    /// <summary>Leases up to <paramref name="max"/> due events, oldest (by the processor's clock) first.</summary>
    public async Task<List<QueuedPaymentEvent>> ClaimAsync(string owner, int max, TimeSpan lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(Claim, [("owner", owner), ("until", now + lease), ("now", now), ("n", max)],
            (r, d) => new QueuedPaymentEvent(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), d.ReadTimestamp(r, 4), r.GetString(5), r.GetInt32(6)),
            cancellationToken).ConfigureAwait(false);
        return [.. rows.OrderBy(e => e.CreatedAt).ThenBy(e => e.Seq)];
    }

    /// <summary>Marks the event done inside the transaction of its effects; false when another worker finished it first (roll back).</summary>
    public static async Task<bool> CompleteInAsync(DbSession db, long seq, string owner, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecAsync("UPDATE payment_events SET done_at = @now, lease_owner = NULL, lease_expires_at = NULL, error = NULL WHERE seq = @s AND done_at IS NULL AND lease_owner = @o",
            [("now", now), ("s", seq), ("o", owner)], cancellationToken).ConfigureAwait(false) == 1;

    public async Task FailAsync(long seq, string error, DateTimeOffset retryAt, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE payment_events SET lease_owner = NULL, lease_expires_at = NULL, run_after = @r, error = @e WHERE seq = @s AND done_at IS NULL",
            [("r", retryAt), ("e", error.Length > 2000 ? error[..2000] : error), ("s", seq)], cancellationToken).ConfigureAwait(false);
    }
}
