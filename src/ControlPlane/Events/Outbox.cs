using System.Text.Json;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Events;

/// <summary>
/// Writes domain events into the <c>outbox</c> table inside the caller's transaction, so an event exists if and only
/// if the change it describes committed (a crash between the two is impossible: they are one commit). After the
/// commit this process's <see cref="OutboxDispatcher"/> is woken; other processes find the row when they poll.
/// </summary>
internal sealed class Outbox(EventTypes types, OutboxSignal signal, TimeProvider time)
{
    private const string Insert =
        """
        INSERT INTO outbox (event_id, type, subject_id, payload, occurred_at, run_after, attempts)
        VALUES (@id, @type, @subject, @payload, @now, @now, 0)
        """;

    /// <summary>Adds <paramref name="event"/>; returns its event id. Throws unless <paramref name="db"/> is inside a transaction.</summary>
    public async Task<string> AddAsync<T>(DbSession db, T @event, CancellationToken cancellationToken)
        where T : class, IDomainEvent
    {
        if (!db.InTransaction)
        {
            // Outside a transaction the event could commit without its change, or the change without its event.
            throw new InvalidOperationException($"Outbox.AddAsync({typeof(T).Name}) must run inside the transaction of the change it records (call BeginAsync first)");
        }

        var registration = types.Of(typeof(T));
        var id = Ids.New();
        await db.ExecAsync(Insert,
            [("id", id), ("type", registration.Name), ("subject", @event.SubjectId), ("payload", JsonSerializer.Serialize(@event, registration.TypeInfo)),
             ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        db.AfterCommit(signal.Wake);
        return id;
    }
}
