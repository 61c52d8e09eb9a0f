using System.Collections.Concurrent;
using System.Numerics;

namespace StreamVerse.Origin.Audience;

/// <summary>
/// Concurrent viewers of each live stream: the distinct viewer ids (<see cref="ControlPlane.Analytics.ViewerHash"/>) that
/// requested any of its objects within the last <see cref="WindowSeconds"/> (a player of a live stream asks for a
/// playlist or a part at least every target duration, so one that stopped drops out within the window).
/// <para>
/// Per stream, a ring of <see cref="BucketSeconds"/>-second buckets; each bucket is a fixed open-addressing set of ids
/// (exact up to <see cref="ExactViewers"/>) plus a HyperLogLog sketch of 2^10 registers (Flajolet et al. 2007, standard
/// error 3.2 %) that takes over when the set is full. Recording a viewer allocates nothing and takes no lock (but the
/// first request of a bucket's new period, which clears it); counting merges the window's buckets.
/// </para>
/// </summary>
internal sealed class LiveViewers(TimeProvider time)
{
    internal const int BucketSeconds = 10;

    /// <summary>Buckets counted: the current one and the two before it, so 20 to 30 seconds.</summary>
    internal const int WindowBuckets = 3;

    internal const int WindowSeconds = BucketSeconds * WindowBuckets;

    /// <summary>Viewers per stream and bucket counted exactly (half the set's slots, so probes stay short).</summary>
    internal const int ExactViewers = Slots / 2;

    private const int Slots = 512;
    private const int RegisterBits = 10;

    private readonly ConcurrentDictionary<string, StreamAudience> _streams = new(StringComparer.Ordinal);

    /// <summary>Counts <paramref name="viewer"/> (not 0) as watching <paramref name="stream"/> now.</summary>
    public void Saw(string stream, ulong viewer)
    {
        if (viewer == 0)
        {
            return;
        }

        var audience = _streams.GetOrAdd(stream, static _ => new StreamAudience());
        audience.Add(viewer, Period());
    }

    /// <summary>Distinct viewers of <paramref name="stream"/> within the window (0 for a stream nobody watched).</summary>
    public int Count(string stream) => _streams.TryGetValue(stream, out var audience) ? audience.Count(Period()) : 0;

    /// <summary>The sum over streams of <see cref="Count"/>; forgets streams nobody watched within the window.</summary>
    public long Total()
    {
        var period = Period();
        long total = 0;
        foreach (var (name, audience) in _streams)
        {
            var count = audience.Count(period);
            if (count == 0 && audience.Idle(period))
            {
                _streams.TryRemove(new KeyValuePair<string, StreamAudience>(name, audience));
            }

            total += count;
        }

        return total;
    }

    private long Period() => time.GetUtcNow().ToUnixTimeMilliseconds() / (BucketSeconds * 1000L);

    private sealed class StreamAudience
    {
        private readonly Bucket[] _ring = [new(), new(), new(), new()];

        public void Add(ulong viewer, long period)
        {
            var bucket = _ring[period & 3];
            if (Volatile.Read(ref bucket.Period) != period)
            {
                bucket.Reset(period);
            }

            bucket.Add(viewer);
        }

        public bool Idle(long period)
        {
            foreach (var bucket in _ring)
            {
                if (Volatile.Read(ref bucket.Period) > period - WindowBuckets)
                {
                    return false;
                }
            }

            return true;
        }

        public int Count(long period)
        {
            Span<int> window = stackalloc int[WindowBuckets];
            var used = 0;
            var saturated = false;
            for (var age = 0; age < WindowBuckets; age++)
            {
                var index = (int)((period - age) & 3);
                if (Volatile.Read(ref _ring[index].Period) == period - age)
                {
                    window[used++] = index;
                    saturated |= _ring[index].Saturated;
                }
            }

            if (used == 0)
            {
                return 0;
            }

            if (saturated)
            {
                Span<byte> registers = stackalloc byte[1 << RegisterBits];
                registers.Clear();
                foreach (var index in window[..used])
                {
                    _ring[index].MergeInto(registers);
                }

                return Estimate(registers);
            }

            // Exact: each id counted in the newest bucket of the window that holds it.
            var count = 0;
            for (var i = 0; i < used; i++)
            {
                foreach (var id in _ring[window[i]].Ids)
                {
                    if (id == 0)
                    {
                        continue;
                    }

                    var newer = false;
                    for (var j = 0; j < i && !newer; j++)
                    {
                        newer = _ring[window[j]].Contains(id);
                    }

                    count += newer ? 0 : 1;
                }
            }

            return count;
        }
    }

    private sealed class Bucket
    {
        public long Period = long.MinValue;
        public readonly ulong[] Ids = new ulong[Slots];
        private readonly byte[] _registers = new byte[1 << RegisterBits];
        private readonly Lock _reset = new();
        private int _filled;
        private volatile bool _saturated;

        public bool Saturated => _saturated;

        public void Reset(long period)
        {
            lock (_reset)
            {
                if (Period == period)
                {
                    return;
                }

                Array.Clear(Ids);
                Array.Clear(_registers);
                _filled = 0;
                _saturated = false;
                Volatile.Write(ref Period, period);
            }
        }

        public void Add(ulong id)
        {
            // HyperLogLog: the top bits pick a register, which keeps the longest run of leading zeros of the rest seen.
            var register = (int)(id >> (64 - RegisterBits));
            var rank = (byte)(BitOperations.LeadingZeroCount((id << RegisterBits) | (1UL << (RegisterBits - 1))) + 1);
            if (_registers[register] < rank)
            {
                _registers[register] = rank; // a lost race loses one update of a maximum, not a viewer
            }

            if (_saturated)
            {
                return;
            }

            var mask = Slots - 1;
            var slot = (int)(Mix(id) & (ulong)mask);
            for (var probe = 0; probe < Slots; probe++, slot = (slot + 1) & mask)
            {
                var seen = Volatile.Read(ref Ids[slot]);
                if (seen == id)
                {
                    return;
                }

                if (seen == 0)
                {
                    seen = Interlocked.CompareExchange(ref Ids[slot], id, 0);
                    if (seen == 0)
                    {
                        if (Interlocked.Increment(ref _filled) >= ExactViewers)
                        {
                            _saturated = true;
                        }

                        return;
                    }

                    if (seen == id)
                    {
                        return;
                    }
                }
            }

            _saturated = true;
        }

        public bool Contains(ulong id)
        {
            var mask = Slots - 1;
            var slot = (int)(Mix(id) & (ulong)mask);
            for (var probe = 0; probe < Slots; probe++, slot = (slot + 1) & mask)
            {
                var seen = Volatile.Read(ref Ids[slot]);
                if (seen == id)
                {
                    return true;
                }

                if (seen == 0)
                {
                    return false;
                }
            }

            return false;
        }

        public void MergeInto(Span<byte> registers)
        {
            for (var i = 0; i < registers.Length; i++)
            {
                registers[i] = Math.Max(registers[i], _registers[i]);
            }
        }

        /// <summary>The slot from the low bits, stirred (the register index took the top bits).</summary>
        private static ulong Mix(ulong id) => (id ^ (id >> 29)) * 0xbf58476d1ce4e5b9UL;
    }

    /// <summary>HyperLogLog's estimate with the small-range correction (linear counting while registers are empty).</summary>
    internal static int Estimate(ReadOnlySpan<byte> registers)
    {
        var m = registers.Length;
        double sum = 0;
        var zeros = 0;
        foreach (var r in registers)
        {
            sum += Math.ScaleB(1.0, -r);
            zeros += r == 0 ? 1 : 0;
        }

        var alpha = 0.7213 / (1 + (1.079 / m));
        var estimate = alpha * m * m / sum;
        if (estimate <= 2.5 * m && zeros > 0)
        {
            estimate = m * Math.Log((double)m / zeros);
        }

        return (int)Math.Round(estimate);
    }
}
