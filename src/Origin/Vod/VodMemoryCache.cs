using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Http;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Vod;

/// <summary>
/// Recent VOD segments in memory, bounded by <see cref="DeliveryOptions.VodMemoryCacheBytes"/>, so a popular video is
/// served by copying its buffers into Kestrel's output with no file I/O and no per-request allocation (lookups take
/// the key as a span of the request path).
/// <para>
/// Eviction is CLOCK (second chance): a hit only sets the slot's reference bit (no lock, no list reordering, unlike a
/// linked-list LRU that needs a lock on every hit); when over budget the hand passes over the oldest slots, clearing
/// set bits and evicting the first slot whose bit is clear. CLOCK approximates LRU closely (Corbató 1968; FIFO with
/// reinsertion, Yang et al., HotOS '23).
/// </para>
/// <para>
/// Admission on the second request: the first request of a segment is served from disk (sendfile) and only remembered;
/// a second one within the window copies it in. One-off views of a long tail of cold segments then never push the
/// hot ones out, and a cold segment is never loaded whole onto the managed heap.
/// </para>
/// </summary>
internal sealed class VodMemoryCache
{
    /// <summary>Keys remembered as "seen once"; past this the memory of first requests starts over.</summary>
    internal const int MaxSeen = 65_536;

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Slot>.AlternateLookup<ReadOnlySpan<char>> _slotsBySpan;
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte>.AlternateLookup<ReadOnlySpan<char>> _seenBySpan;
    private readonly Queue<Slot> _hand = new();
    private readonly Lock _lock = new();
    private readonly long _budget;
    private long _bytes;
    private int _seenCount;

    public VodMemoryCache(IOptions<DeliveryOptions> options)
        : this(options.Value.VodMemoryCacheBytes)
    {
    }

    internal VodMemoryCache(long budget)
    {
        _budget = budget;
        // An object larger than a quarter of the budget would evict too much of the working set for one entry.
        MaxObjectBytes = Math.Min(budget / 4, 32L << 20);
        _slotsBySpan = _slots.GetAlternateLookup<ReadOnlySpan<char>>();
        _seenBySpan = _seen.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public bool Enabled => _budget > 0;

    public long MaxObjectBytes { get; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _slots.Count;

    public StoredObject? TryGet(ReadOnlySpan<char> key)
    {
        if (!_slotsBySpan.TryGetValue(key, out var slot))
        {
            return null;
        }

        // Written only when clear: a hot slot's cache line is not dirtied by every hit.
        if (Volatile.Read(ref slot.Referenced) == 0)
        {
            Volatile.Write(ref slot.Referenced, 1);
        }

        return slot.Object;
    }

    /// <summary>True on the second request for <paramref name="key"/> since it was first seen: copy it in now.</summary>
    public bool ShouldAdmit(ReadOnlySpan<char> key, long length)
    {
        if (!Enabled || length > MaxObjectBytes)
        {
            return false;
        }

        if (_seenBySpan.TryRemove(key, out _, out _))
        {
            Interlocked.Decrement(ref _seenCount);
            return true;
        }

        // A counter rather than ConcurrentDictionary.Count, which takes every lock of the dictionary.
        if (Interlocked.Increment(ref _seenCount) > MaxSeen)
        {
            _seen.Clear();
            Volatile.Write(ref _seenCount, 1);
        }

        if (!_seen.TryAdd(key.ToString(), 0))
        {
            Interlocked.Decrement(ref _seenCount);
        }

        return false;
    }

    public void Add(string key, StoredObject obj)
    {
        if (!Enabled || obj.Length > MaxObjectBytes)
        {
            return;
        }

        lock (_lock)
        {
            // Enters with its bit clear: its place at the back of the queue already gives it a full turn of the hand.
            // (Entering with the bit set would let a burst of admissions clear every bit and evict in plain FIFO order.)
            var slot = new Slot(key, obj);
            if (!_slots.TryAdd(key, slot))
            {
                return;
            }

            _hand.Enqueue(slot);
            _bytes += obj.Length;
            VodMetrics.Admit(_bytes);
            while (_bytes > _budget && _hand.TryDequeue(out var oldest))
            {
                if (Volatile.Read(ref oldest.Referenced) == 1)
                {
                    Volatile.Write(ref oldest.Referenced, 0);
                    _hand.Enqueue(oldest);
                    continue;
                }

                _slots.TryRemove(oldest.Key, out _);
                _bytes -= oldest.Object.Length;
                VodMetrics.Evict(_bytes);
            }
        }
    }

    private sealed class Slot(string key, StoredObject obj)
    {
        public readonly string Key = key;
        public readonly StoredObject Object = obj;
        public int Referenced;
    }
}
