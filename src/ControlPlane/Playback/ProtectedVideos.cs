using System.Collections.Concurrent;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>
/// The ids of private and premium videos, in memory, so the origin can decide whether a stream needs a playback
/// token without a database query. Updated at once by this process's writes and reloaded by
/// <see cref="ControlPlaneCacheRefresher"/> for other processes' writes.
/// </summary>
internal sealed class ProtectedVideos(Database database)
{
    private volatile ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);

    public bool IsProtected(string videoId) => _ids.ContainsKey(videoId);

    public void Set(string videoId, string visibility)
    {
        if (Videos.Visibility.NeedsToken(visibility))
        {
            _ids[videoId] = 0;
        }
        else
        {
            _ids.TryRemove(videoId, out _);
        }
    }

    public void Remove(string videoId) => _ids.TryRemove(videoId, out _);

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var ids = await db.QueryAsync("SELECT id FROM videos WHERE visibility IN ('private', 'premium')", [], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        _ids = new ConcurrentDictionary<string, byte>(ids.Select(id => KeyValuePair.Create(id, (byte)0)), StringComparer.Ordinal);
    }
}
