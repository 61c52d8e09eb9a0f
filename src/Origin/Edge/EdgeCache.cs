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
/// the begin address moves up and the log is truncated. Eviction is therefore FIFO by insertion — for an
/// edge of live media, where every object is hot for a few segment durations and then cold, that is LRU's
/// result at none of its cost. A rewritten key (a playlist) appends a new record; the old one counts until it
/// ages out, which keeps the budget conservative.
/// </para>
/// </summary>
internal sealed partial class EdgeCache : IDisposable
{
    private readonly FasterKV<string, CacheEntry> _store;
    private readonly FasterKVSettings<string, CacheEntry> _settings;
    private readonly ConcurrentQueue<Session> _sessions = new();
    private readonly IFunctions<string, CacheEntry, CacheEntry, CacheEntry, Empty> _functions = new SimpleFunctions<string, CacheEntry, Empty>();
    private readonly long _memoryBudget;
    private readonly long _diskBudget;
    private readonly Lock _ledgerLock = new();
    private readonly List<(long Address, long Bytes)> _ledger = [];
    private readonly SemaphoreSlim _maintain = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _maintenance;
    private readonly ILogger<EdgeCache> _log;
    private int _diskCursor;
    private int _memoryCursor;
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

    public async ValueTask<CacheEntry?> GetAsync(string key, CancellationToken ct)
    {
        var session = Rent();
        try
        {
            var result = await session.ReadAsync(key, Empty.Default, 0, ct).ConfigureAwait(false);
            var (status, output) = result.Complete(out var meta);
            if (status.Found && meta.Address < _store.Log.HeadAddress)
            {
                Interlocked.Increment(ref _diskReads);
            }

            return status.Found ? output : null;
        }
        finally
        {
            _sessions.Enqueue(session);
        }
    }

    public void Put(string key, CacheEntry entry)
    {
        var session = Rent();
        try
        {
            var input = entry;
            var output = default(CacheEntry);
            RecordMetadata meta;
            long bytes = entry.Body.Length + key.Length * 2 + 128;
            lock (_ledgerLock)
            {
                session.Upsert(ref key, ref input, ref entry, ref output!, out meta);
                _ledger.Add((meta.Address, bytes));
                _memoryBytes += bytes;
                _totalBytes += bytes;
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
                _totalBytes -= _ledger[_diskCursor].Bytes;
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

            if (_diskCursor > 4096)
            {
                _ledger.RemoveRange(0, _diskCursor);
                _memoryCursor -= _diskCursor;
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 1600, Level = LogLevel.Warning, Message = "Edge cache eviction failed")]
        public static partial void EvictionFailed(ILogger logger, Exception e);
    }
}
