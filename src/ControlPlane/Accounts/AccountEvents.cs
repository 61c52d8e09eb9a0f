using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// An account was deleted (written to the outbox in the deletion's transaction). Features that keep data about the account
/// outside the control-plane database (analytics) erase it on this event.
/// </summary>
internal sealed record AccountDeleted(string AccountId, DateTimeOffset DeletedAt) : IDomainEvent
{
    public string SubjectId => AccountId;
}
