using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Uploads;

/// <summary>
/// One gate per upload id, held while a request changes that upload's bytes or row. Two layers: an in-process async gate
/// (reference-counted entries, removed when nobody holds or waits for them, so the map stays as small as the number of busy
/// uploads), and, on PostgreSQL, a session-level advisory lock on the upload's key, so daemons that share the database (and
/// the uploads directory, <c>Uploads:Path</c> on shared storage) never write one upload at once: a tus PATCH on node B for an
/// upload node A is still writing answers 409 like one on A would. Requests of one process queue on the local gate first, so a
/// busy upload holds at most one database connection per process. SQLite is one daemon's file: the local gate is the whole lock.
/// </summary>
/// <remarks>
/// The advisory lock lives as long as the connection that took it: a daemon killed mid-write loses its connection and with it
/// the lock (PostgreSQL ends the backend when the socket closes), so another node can resume. It is released explicitly before
/// the connection goes back to the pool, where it would otherwise outlive the request.
/// </remarks>
internal sealed class UploadLocks(Database? database = null)
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Null when the gate stayed busy for <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: wait as long as it takes).</summary>
    public async Task<IAsyncDisposable?> AcquireAsync(string id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Environment.TickCount64;
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(id, out entry!))
            {
                _entries[id] = entry = new Entry(this, id);
            }

            entry.Refs++;
        }

        var acquired = false;
        try
        {
            acquired = await entry.Gate.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!acquired)
            {
                Leave(entry);
            }
        }

        if (!acquired)
        {
            return null;
        }

        if (database is not { Provider: DatabaseProvider.Postgres })
        {
            return new Held(entry, null, 0);
        }

        DbSession? db = null;
        try
        {
            var key = DbSession.LockKey("upload:" + id);
            db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            while (!await db.ScalarAsync<bool>("SELECT pg_try_advisory_lock(@k)", [("k", key)], cancellationToken).ConfigureAwait(false))
            {
                var left = timeout == Timeout.InfiniteTimeSpan ? RetryInterval : timeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                if (left <= TimeSpan.Zero)
                {
                    await db.DisposeAsync().ConfigureAwait(false);
                    entry.Release();
                    return null;
                }

                await Task.Delay(left < RetryInterval ? left : RetryInterval, cancellationToken).ConfigureAwait(false);
            }

            return new Held(entry, db, key);
        }
        catch
        {
            if (db is not null)
            {
                await db.DisposeAsync().ConfigureAwait(false);
            }

            entry.Release();
            throw;
        }
    }

    private void Leave(Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Refs == 0)
            {
                _entries.Remove(entry.Id);
                entry.Gate.Dispose();
            }
        }
    }

    private sealed class Entry(UploadLocks owner, string id)
    {
        public string Id { get; } = id;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Refs { get; set; }

        public void Release()
        {
            Gate.Release();
            owner.Leave(this);
        }
    }

    private sealed class Held(Entry entry, DbSession? db, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (db is not null)
                {
                    await using (db.ConfigureAwait(false))
                    {
                        await db.ExecAsync("SELECT pg_advisory_unlock(@k)", [("k", key)], CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                entry.Release();
            }
        }
    }
}
