using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Extensions.Options;
using Session = FASTER.core.ClientSession<string, StreamVerse.Origin.Edge.CacheEntry, StreamVerse.Origin.Edge.CacheEntry, StreamVerse.Origin.Edge.CacheEntry, FASTER.core.Empty, FASTER.core.IFunctions<string, StreamVerse.Origin.Edge.CacheEntry, StreamVerse.Origin.Edge.CacheEntry, StreamVerse.Origin.Edge.CacheEntry, FASTER.core.Empty>>;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// The edge's object cache: a FASTER KV hybrid log. Recent records sit in memory (object references, so a
/// hit serves the cached buffers without a copy); older pages are flushed to the disk tier under
/// <c>edge-cache</c> and read back on demand; the oldest are truncated.
/// <para>
/// FASTER sizes the in-memory log in records, not in the bytes the records point to, so the byte budgets
/// are kept here: a ledger of (log address, body bytes) in append order. Past <see cref="EdgeOptions.MemoryBytes"/>
/// the head address moves up (those records are flushed and leave memory); past <see cref="EdgeOptions.DiskBytes"/>
/// the begin address moves up and the log is truncated.
/// </para>
/// <para>
/// Eviction is FIFO with reinsertion, i.e. CLOCK / second chance laid over the log (the log itself is the clock's
/// queue; Yang et al., "FIFO can be better than LRU", HotOS '23): a hit on a record in the older half of the memory
/// tier, or on disk, appends a copy at the tail (the same body, no copy in memory) and supersedes the old record, whose
/// bytes leave the ledger. An object read at least once per half memory tier of new data therefore never leaves memory,
/// and one read from disk comes back into memory, while an object nobody asks for again moves down and out in insertion
/// order. Hits on the newer half cost nothing (no lock, no reordering), which a list-based LRU cannot offer.
/// Every upsert appends (<see cref="AppendOnlyFunctions"/>), so the ledger stays in address order.
/// </para>
/// <para>
/// Purges (<see cref="Purge"/>, <see cref="PurgeAll"/>): an index from video id to the keys stored for it (by
/// <see cref="CacheKeyVideoIds"/>) and from key to its current record lets an invalidation delete every object of a video.
/// A purge also holds the video for a while: an object whose fetch began before the hold ended is not stored, since the
/// origin that answered it may not have learned the change yet (or the fetch was in flight when the purge ran).
/// </para>
/// </summary>
internal sealed partial class EdgeCache : IDisposable
{
    private readonly FasterKV<string, CacheEntry> _store;
    private readonly FasterKVSettings<string, CacheEntry> _settings;
    private readonly ConcurrentQueue<Session> _sessions = new();
    private readonly IFunctions<string, CacheEntry, CacheEntry, CacheEntry, Empty> _functions = new AppendOnlyFunctions();
    private readonly long _memoryBudget;
    private readonly long _diskBudget;
    private readonly Lock _ledgerLock = new();
    private readonly List<(long Address, long Bytes, string Key)> _ledger = [];

    // Under the ledger lock: the current record of each key stored, and the keys stored per video id.
    private readonly Dictionary<string, long> _addressOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _keysOf = new(StringComparer.Ordinal);

    // Under the ledger lock: per purged video id, until when (edge clock, ms) a fetch must have begun to be stored; and
    // the last purge of everything.
    private readonly Dictionary<string, long> _holdUntilMs = new(StringComparer.Ordinal);
    private long _purgedAllAtMs = long.MinValue;
    private readonly SemaphoreSlim _maintain = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _maintenance;
    private readonly ILogger<EdgeCache> _log;
    private int _diskCursor;
    private int _memoryCursor;
    private int _promoteCursor;
    private long _youngBytes;
    private long _promoteBelow;
    private long _promotions;
    private long _memoryBytes;
    private long _totalBytes;
    private long _diskReads;

    public EdgeCache(IOptions<EdgeOptions> options, ILogger<EdgeCache> log)
        : this(options.Value.CachePath!, options.Value.MemoryBytes, options.Value.DiskBytes, log)
    {
    }

    internal EdgeCache(string path, long memoryBytes, long diskBytes, ILogger<EdgeCache> log)
    {
        _log = log;
        _memoryBudget = memoryBytes;
        _diskBudget = diskBytes;
        // A cache, not a store of record: start empty (records from a previous run would have no ledger).
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        Directory.CreateDirectory(path);
        _settings = new FasterKVSettings<string, CacheEntry>(path, deleteDirOnDispose: true)
        {
            // Sizes of record slots (24 bytes: header and two references), not of bodies (see above). Pages
            // are the grain of eviction from memory and segments (a main-log file and its object-log file) the
            // grain of truncation on disk, so both are small: ~42 records a page, ~170 a segment. The disk tier
            // may therefore exceed its budget by up to one segment's bodies. 16 MiB of slots is far more than
            // the byte budget lets stay in memory.
            IndexSize = 1L << 22,
            PageSize = 1L << 10,
            MemorySize = 1L << 24,
            SegmentSize = 1L << 12,
            KeySerializer = () => new StringKeySerializer(),
            ValueSerializer = () => new CacheEntrySerializer(),
            // A record read back from disk is served and dropped; it is not copied to the tail (it would
            // re-enter memory uncounted by the byte ledger).
            ReadCopyOptions = new ReadCopyOptions(ReadCopyFrom.None, ReadCopyTo.None),
        };
        _store = new FasterKV<string, CacheEntry>(_settings);
        _maintenance = Task.Run(MaintainAsync);
    }

    public long MemoryBytes => Interlocked.Read(ref _memoryBytes);

    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    internal (long Begin, long Head, long ReadOnly, long Tail) Addresses =>
        (_store.Log.BeginAddress, _store.Log.HeadAddress, _store.Log.ReadOnlyAddress, _store.Log.TailAddress);

    /// <summary>Reads served from a record below the memory tier's head address (read back from disk).</summary>
    public long DiskReads => Interlocked.Read(ref _diskReads);

    /// <summary>Hits that moved their record to the tail (second chance).</summary>
    public long Promotions => Interlocked.Read(ref _promotions);

    /// <summary>
    /// The entry stored under <paramref name="key"/>, or null. A record in memory is read synchronously and without an
    /// allocation (the edge's fast lane answers hits on Kestrel's I/O thread); one on disk completes asynchronously.
    /// </summary>
    public ValueTask<CacheEntry?> GetAsync(string key, CancellationToken ct)
    {
        var session = Rent();
        Status status;
        CacheEntry? output = null;
        RecordMetadata meta;
        try
        {
            CacheEntry? input = null;
            var options = default(ReadOptions);
            status = session.Read(ref key, ref input!, ref output!, ref options, out meta, Empty.Default, 0);
        }
        catch
        {
            _sessions.Enqueue(session);
            throw;
        }

        if (status.IsPending)
        {
            return CompletePendingAsync(session, key, ct);
        }

        _sessions.Enqueue(session);
        return new ValueTask<CacheEntry?>(Found(key, status.Found ? output : null, meta.Address));
    }

    /// <summary>A read that went to the disk tier. The session goes back to the pool only once its pending read completed.</summary>
    private async ValueTask<CacheEntry?> CompletePendingAsync(Session session, string key, CancellationToken ct)
    {
        CacheEntry? found = null;
        var address = -1L;
        try
        {
            // Not cancelled with the request: a session must not go back to the pool with a read still pending.
            using var outputs = await session.CompletePendingWithOutputsAsync(waitForCommit: false, CancellationToken.None).ConfigureAwait(false);
            while (outputs.Next())
            {
                ref var completed = ref outputs.Current;
                found = completed.Status.Found ? completed.Output : null;
                address = completed.RecordMetadata.Address;
            }
        }
        finally
        {
            _sessions.Enqueue(session);
        }

        ct.ThrowIfCancellationRequested();
        return Found(key, found, address);
    }

    private CacheEntry? Found(string key, CacheEntry? found, long address)
    {
        if (found is null)
        {
            return null;
        }

        if (address < _store.Log.HeadAddress)
        {
            Interlocked.Increment(ref _diskReads);
        }

        // Disk reads give a fresh instance; memory hits the stored one, whose address may have moved since.
        if (found.Address < 0)
        {
            found.Address = address;
        }

        if (address < Interlocked.Read(ref _promoteBelow))
        {
            Append(key, found, supersedes: address, promotion: true);
        }

        return found;
    }

    /// <summary>Stores <paramref name="entry"/>, unless a purge since <paramref name="fetchStartedMs"/> (or its hold) forbids it; returns whether it did.</summary>
    /// <param name="fetchStartedMs">When the fetch that produced it began (edge clock); the default, for tests, is "after every purge".</param>
    public bool Put(string key, CacheEntry entry, long fetchStartedMs = long.MaxValue) => Append(key, entry, supersedes: -1, promotion: false, fetchStartedMs);

    /// <summary>Stores <paramref name="fresh"/> in place of <paramref name="old"/> (a revalidated entry): the old record's bytes leave the ledger.</summary>
    public bool Replace(string key, CacheEntry old, CacheEntry fresh, long fetchStartedMs = long.MaxValue) =>
        Append(key, fresh, supersedes: old.Address, promotion: false, fetchStartedMs);

    /// <summary>
    /// Deletes every object stored for <paramref name="videoId"/>, and holds it for <paramref name="holdMs"/>: nothing
    /// fetched before <paramref name="nowMs"/> + <paramref name="holdMs"/> is stored for it. Returns how many objects went.
    /// </summary>
    public int Purge(string videoId, long nowMs, long holdMs)
    {
        var session = Rent();
        try
        {
            lock (_ledgerLock)
            {
                if (_holdUntilMs.Count > 256)
                {
                    foreach (var (id, until) in _holdUntilMs)
                    {
                        if (until <= nowMs)
                        {
                            _holdUntilMs.Remove(id);
                        }
                    }
                }

                _holdUntilMs[videoId] = Math.Max(_holdUntilMs.GetValueOrDefault(videoId, long.MinValue), nowMs + holdMs);
                if (!_keysOf.Remove(videoId, out var keys))
                {
                    return 0;
                }

                var dropped = 0;
                foreach (var key in keys)
                {
                    dropped += Drop(session, key) ? 1 : 0;
                }

                return dropped;
            }
        }
        finally
        {
            _sessions.Enqueue(session);
        }
    }

    /// <summary>Deletes every object, and stores nothing fetched before <paramref name="nowMs"/>. Returns how many objects went.</summary>
    public int PurgeAll(long nowMs)
    {
        var session = Rent();
        try
        {
            lock (_ledgerLock)
            {
                _purgedAllAtMs = Math.Max(_purgedAllAtMs, nowMs);
                var dropped = 0;
                foreach (var key in _addressOf.Keys.ToList())
                {
                    dropped += Drop(session, key) ? 1 : 0;
                }

                _keysOf.Clear();
                return dropped;
            }
        }
        finally
        {
            _sessions.Enqueue(session);
        }
    }

    /// <summary>Deletes <paramref name="key"/>'s record and forgets it; its bytes leave the ledger as a superseded record's do. Caller holds the ledger lock.</summary>
    private bool Drop(Session session, string key)
    {
        if (!_addressOf.Remove(key, out var address))
        {
            return false;
        }

        var k = key;
        session.Delete(ref k);
        Supersede(address);
        Unindex(key);
        return true;
    }

    /// <summary>Whether an object fetched from <paramref name="fetchStartedMs"/> on may be stored under <paramref name="key"/>. Caller holds the ledger lock.</summary>
    private bool MayStore(string key, long fetchStartedMs)
    {
        if (fetchStartedMs <= _purgedAllAtMs)
        {
            return false;
        }

        if (_holdUntilMs.Count == 0)
        {
            return true;
        }

        var id = CacheKeyVideoIds.Of(key);
        return !(id is not null && _holdUntilMs.TryGetValue(id, out var until) && fetchStartedMs < until);
    }

    /// <summary>Records <paramref name="key"/> at <paramref name="address"/>, under its video id. Caller holds the ledger lock.</summary>
    private void Index(string key, long address)
    {
        _addressOf[key] = address;
        if (CacheKeyVideoIds.Of(key) is not { } id)
        {
            return;
        }

        if (!_keysOf.TryGetValue(id, out var keys))
        {
            _keysOf[id] = keys = new HashSet<string>(StringComparer.Ordinal);
        }

        keys.Add(key);
    }

    /// <summary>Removes <paramref name="key"/> from the per-video index. Caller holds the ledger lock.</summary>
    private void Unindex(string key)
    {
        if (CacheKeyVideoIds.Of(key) is { } id && _keysOf.TryGetValue(id, out var keys) && keys.Remove(key) && keys.Count == 0)
        {
            _keysOf.Remove(id);
        }
    }

    private bool Append(string key, CacheEntry entry, long supersedes, bool promotion, long fetchStartedMs = long.MaxValue)
    {
        var session = Rent();
        try
        {
            var input = entry;
            var output = default(CacheEntry);
            long bytes = entry.Body.Length + key.Length * 2 + 128;
            lock (_ledgerLock)
            {
                if (promotion)
                {
                    // Promoted already by a concurrent hit on the same stored instance (it now lives at a newer address),
                    // or purged since the hit read it.
                    if (entry.Address != supersedes || !_addressOf.TryGetValue(key, out var current) || current != supersedes)
                    {
                        return false;
                    }

                    Interlocked.Increment(ref _promotions);
                }
                else if (!MayStore(key, fetchStartedMs))
                {
                    return false;
                }

                if (supersedes >= 0)
                {
                    Supersede(supersedes);
                }

                session.Upsert(ref key, ref input, ref entry, ref output!, out RecordMetadata meta);
                entry.Address = meta.Address;
                _ledger.Add((meta.Address, bytes, key));
                Index(key, meta.Address);
                _memoryBytes += bytes;
                _totalBytes += bytes;
                _youngBytes += bytes;
                // The newer half of the memory tier: hits there are free; below it a hit appends a copy at the tail.
                while (_youngBytes > _memoryBudget / 2 && _promoteCursor < _ledger.Count - 1)
                {
                    _youngBytes -= _ledger[_promoteCursor].Bytes;
                    _promoteCursor++;
                }

                Interlocked.Exchange(ref _promoteBelow, _ledger[Math.Max(_promoteCursor, _memoryCursor)].Address);
            }
        }
        finally
        {
            _sessions.Enqueue(session);
        }

        if (Interlocked.Read(ref _memoryBytes) > _memoryBudget || Interlocked.Read(ref _totalBytes) > _diskBudget)
        {
            // Shifting addresses flushes pages: done off the request path, one pass at a time.
            if (_maintain.CurrentCount == 0)
            {
                try
                {
                    _maintain.Release();
                }
                catch (SemaphoreFullException)
                {
                }
            }
        }

        return true;
    }

    /// <summary>
    /// A record replaced by a newer copy of its key. In memory the copy shares its body, so its bytes leave both counts;
    /// on disk it still takes file space until truncated, so it stays in the total. Caller holds the ledger lock.
    /// </summary>
    private void Supersede(long address)
    {
        var lo = _memoryCursor;
        var hi = _ledger.Count - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            var at = _ledger[mid].Address;
            if (at == address)
            {
                var bytes = _ledger[mid].Bytes;
                _ledger[mid] = (address, 0, _ledger[mid].Key);
                _memoryBytes -= bytes;
                _totalBytes -= bytes;
                if (mid >= _promoteCursor)
                {
                    _youngBytes -= bytes;
                }

                return;
            }

            if (at < address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
    }

    private Session Rent() => _sessions.TryDequeue(out var s) ? s : _store.NewSession<CacheEntry, CacheEntry, Empty>(_functions);

    private async Task MaintainAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _maintain.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                Evict();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.EvictionFailed(_log, e);
            }
        }
    }

    private void Evict()
    {
        long headTarget = -1, beginTarget = -1;
        lock (_ledgerLock)
        {
            while (_memoryBytes > _memoryBudget && _memoryCursor < _ledger.Count - 1)
            {
                _memoryBytes -= _ledger[_memoryCursor].Bytes;
                _memoryCursor++;
                headTarget = _ledger[_memoryCursor].Address;
            }

            while (_totalBytes > _diskBudget && _diskCursor < _ledger.Count - 1)
            {
                var (address, bytes, key) = _ledger[_diskCursor];
                _totalBytes -= bytes;
                if (_addressOf.TryGetValue(key, out var current) && current == address)
                {
                    // Its last record is truncated: the key is gone from the cache, and from the purge index.
                    _addressOf.Remove(key);
                    Unindex(key);
                }

                _diskCursor++;
                beginTarget = _ledger[_diskCursor].Address;
            }

            if (_memoryCursor < _diskCursor)
            {
                for (var i = _memoryCursor; i < _diskCursor; i++)
                {
                    _memoryBytes -= _ledger[i].Bytes;
                }

                _memoryCursor = _diskCursor;
            }

            if (_promoteCursor < _memoryCursor)
            {
                _youngBytes = _memoryBytes;
                _promoteCursor = _memoryCursor;
            }

            if (_diskCursor > 4096)
            {
                _ledger.RemoveRange(0, _diskCursor);
                _memoryCursor -= _diskCursor;
                _promoteCursor -= _diskCursor;
                _diskCursor = 0;
            }
        }

        // FASTER closes whole pages: the page holding the first record to keep stays in memory.
        if (headTarget > _store.Log.HeadAddress)
        {
            _store.Log.ShiftHeadAddress(Math.Min(headTarget, _store.Log.TailAddress), wait: true);
        }

        if (beginTarget > _store.Log.BeginAddress)
        {
            _store.Log.ShiftBeginAddress(beginTarget, snapToPageStart: false, truncateLog: true);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _maintenance.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        while (_sessions.TryDequeue(out var s))
        {
            s.Dispose();
        }

        _store.Dispose();
        _settings.Dispose();
        _stop.Dispose();
        _maintain.Dispose();
    }

    /// <summary>
    /// Never update a record in place: an upsert always appends, so a promoted or revalidated object really moves to the
    /// tail (FASTER updates records of the mutable region in place unless ConcurrentWriter declines) and ledger
    /// addresses only grow. Cached objects are immutable anyway; only the record that points to them changes.
    /// </summary>
    private sealed class AppendOnlyFunctions : SimpleFunctions<string, CacheEntry, Empty>
    {
        public override bool ConcurrentWriter(ref string key, ref CacheEntry input, ref CacheEntry src, ref CacheEntry dst, ref CacheEntry output, ref UpsertInfo upsertInfo) => false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1600, Level = LogLevel.Warning, Message = "Edge cache eviction failed")]
        public static partial void EvictionFailed(ILogger logger, Exception e);
    }
}
