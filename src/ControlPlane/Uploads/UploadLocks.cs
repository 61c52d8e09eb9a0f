namespace StreamVerse.ControlPlane.Uploads;

/// <summary>
/// One async gate per upload id, held while a request changes that upload's file. Entries are reference-counted
/// and removed when nobody holds or waits for them, so the map stays as small as the number of busy uploads.
/// In-process only: one daemon owns a data directory.
/// </summary>
internal sealed class UploadLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Null when the gate stayed busy for <paramref name="timeout"/>.</summary>
    public async Task<IDisposable?> AcquireAsync(string id, TimeSpan timeout, CancellationToken cancellationToken)
    {
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

        return acquired ? entry : null;
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

    private sealed class Entry(UploadLocks owner, string id) : IDisposable
    {
        public string Id { get; } = id;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Refs { get; set; }

        public void Dispose()
        {
            Gate.Release();
            owner.Leave(this);
        }
    }
}
