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
    private readonly Lock _gate = new();
    private volatile ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);

    // Local changes made while a reload's query ran: the snapshot may predate them, so they are replayed onto it.
    // Without this, a video made private during a reload could play unprotected until the next reload.
    private readonly List<(string Id, bool Protected)> _changesDuringReload = [];
    private int _reloads;

    public bool IsProtected(string videoId) => _ids.ContainsKey(videoId);

    public void Set(string videoId, string visibility) => Apply(videoId, Videos.Visibility.NeedsToken(visibility));

    public void Remove(string videoId) => Apply(videoId, false);

    private void Apply(string videoId, bool isProtected)
    {
        lock (_gate)
        {
            if (isProtected)
            {
                _ids[videoId] = 0;
            }
            else
            {
                _ids.TryRemove(videoId, out _);
            }

            if (_reloads > 0)
            {
                _changesDuringReload.Add((videoId, isProtected));
            }
        }
    }

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _reloads++;
        }

        try
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            var ids = await db.QueryAsync("SELECT id FROM videos WHERE visibility IN ('private', 'premium')", [], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
            var fresh = new ConcurrentDictionary<string, byte>(ids.Select(id => KeyValuePair.Create(id, (byte)0)), StringComparer.Ordinal);
            lock (_gate)
            {
                foreach (var (id, isProtected) in _changesDuringReload)
                {
                    if (isProtected)
                    {
                        fresh[id] = 0;
                    }
                    else
                    {
                        fresh.TryRemove(id, out _);
                    }
                }

                _ids = fresh;
            }
        }
        finally
        {
            lock (_gate)
            {
                if (--_reloads == 0)
                {
                    _changesDuringReload.Clear();
                }
            }
        }
    }
}
