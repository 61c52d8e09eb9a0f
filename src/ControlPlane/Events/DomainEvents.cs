using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Events;

/// <summary>
/// A fact that happened (past tense: <c>ChannelSubscribed</c>, <c>VideoPublished</c>), written to the outbox in the
/// transaction that made it true. Payloads carry ids and the values consumers need, never rows.
/// </summary>
internal interface IDomainEvent
{
    /// <summary>The id of what the event is about (a channel, a video); stored beside the payload for operators.</summary>
    [JsonIgnore]
    string SubjectId { get; }
}

/// <summary>What every handler learns besides the payload: the event's unique id (the deduplication key) and when it happened.</summary>
internal sealed record EventEnvelope(string EventId, string Type, DateTimeOffset OccurredAt, int Attempt);

/// <summary>
/// Runs for every event of type <typeparamref name="TEvent"/>, at least once. <paramref name="db"/> is inside the
/// transaction that also records <c>(event id, handler)</c> in <c>outbox_handled</c>: what the handler writes there
/// commits exactly once; anything it does outside the database (a mail, a push) may repeat after a crash.
/// Throwing rolls the transaction back and the event is retried later with a backoff.
/// </summary>
internal interface IEventHandler<in TEvent>
    where TEvent : IDomainEvent
{
    Task HandleAsync(DbSession db, TEvent @event, EventEnvelope envelope, CancellationToken cancellationToken);
}

/// <summary>An event type and its stable wire name (<c>"subscriptions.channel-subscribed.v1"</c>).</summary>
internal sealed record EventRegistration(Type Type, string Name, JsonTypeInfo TypeInfo);

/// <summary>A named handler of one event type. The name is stored in <c>outbox_handled</c>: never rename a released one.</summary>
internal sealed record HandlerRegistration(
    Type EventType, string Name, Func<IServiceProvider, DbSession, IDomainEvent, EventEnvelope, CancellationToken, Task> Invoke);

/// <summary>
/// Every registered event type by CLR type and by name, built once from the explicit registrations
/// (<see cref="EventServices.AddEvent{T}"/>); no assembly scanning. A duplicate name or type stops the daemon at start.
/// </summary>
internal sealed class EventTypes
{
    private readonly Dictionary<Type, EventRegistration> _byType = [];
    private readonly Dictionary<string, EventRegistration> _byName = new(StringComparer.Ordinal);

    public EventTypes(IEnumerable<EventRegistration> registrations)
    {
        foreach (var r in registrations)
        {
            if (!_byType.TryAdd(r.Type, r) || !_byName.TryAdd(r.Name, r))
            {
                throw new InvalidOperationException($"event {r.Type.Name} or name {r.Name} is registered twice");
            }
        }
    }

    public EventRegistration Of(Type type) =>
        _byType.TryGetValue(type, out var r) ? r : throw new InvalidOperationException($"event type {type.Name} is not registered (AddEvent<{type.Name}>)");

    public EventRegistration? Named(string name) => _byName.GetValueOrDefault(name);
}
