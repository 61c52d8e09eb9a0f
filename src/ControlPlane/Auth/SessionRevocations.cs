using System.Collections.Concurrent;

namespace StreamVerse.ControlPlane.Auth;

/// <summary>
/// Sessions revoked within the last access-token lifetime, so a bearer token is checked against memory rather
/// than the database on every request. Fed by this process's revocations at once and by the database (other
/// processes') on every <see cref="ControlPlaneCacheRefresher"/> pass. An entry can be forgotten once every
/// access token that names the session has expired.
/// </summary>
internal sealed class SessionRevocations(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new(StringComparer.Ordinal);

    public bool IsRevoked(string sessionId) => _revoked.ContainsKey(sessionId);

    public void Revoke(string sessionId, DateTimeOffset forgetAfter) => _revoked[sessionId] = forgetAfter;

    public void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (id, until) in _revoked)
        {
            if (until < now)
            {
                _revoked.TryRemove(id, out _);
            }
        }
    }
}
