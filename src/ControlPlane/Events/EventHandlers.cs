using System.Text.Json;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Events;

/// <summary>
/// The consuming side: runs every handler registered for a message's type, each in a transaction of its own that first
/// records <c>(event id, handler)</c> (<see cref="OutboxStore.TryMarkHandledInAsync"/>) and skips the handler when that
/// row exists. Handlers that succeeded stay done when a later one fails; the retry runs only the rest. The in-process
/// transport calls this directly; a broker's consumer would call it for each message it receives.
/// </summary>
internal sealed partial class EventHandlers(
    IServiceProvider services, EventTypes types, IEnumerable<HandlerRegistration> handlers, Database database, OutboxStore store, ILogger<EventHandlers> logger)
{
    private readonly ILookup<Type, HandlerRegistration> _byType = handlers.ToLookup(h => h.EventType);

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var registration = types.Named(message.Type)
            ?? throw new InvalidOperationException($"event {message.EventId} has type {message.Type}, which this version does not register");
        var @event = (IDomainEvent)(JsonSerializer.Deserialize(message.Payload, registration.TypeInfo)
            ?? throw new InvalidOperationException($"event {message.EventId} has an empty payload"));
        var envelope = message.Envelope;
        foreach (var handler in _byType[registration.Type])
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            if (!await store.TryMarkHandledInAsync(db, message.EventId, handler.Name, cancellationToken).ConfigureAwait(false))
            {
                Log.AlreadyHandled(logger, message.EventId, handler.Name);
                continue;
            }

            await handler.Invoke(services, db, @event, envelope, cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5320, Level = LogLevel.Debug, Message = "Event {EventId} was already handled by {Handler}; skipped")]
        public static partial void AlreadyHandled(ILogger logger, string eventId, string handler);
    }
}

/// <summary>
/// How a claimed outbox event reaches its handlers. The embedded default runs them in this process
/// (<see cref="InProcessEventTransport"/>); a broker transport (RabbitMQ) publishes instead, with publisher confirms,
/// and any daemon's consumer calls <see cref="EventHandlers.HandleAsync"/> with acknowledgements.
/// </summary>
internal interface IEventTransport
{
    /// <summary>Returns once the event is safely handed on (handled here, or confirmed by a broker); throws to have the
    /// dispatcher retry it later.</summary>
    Task DeliverAsync(OutboxMessage message, CancellationToken cancellationToken);
}

internal sealed class InProcessEventTransport(EventHandlers handlers) : IEventTransport
{
    public Task DeliverAsync(OutboxMessage message, CancellationToken cancellationToken) => handlers.HandleAsync(message, cancellationToken);
}
