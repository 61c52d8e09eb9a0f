using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// Per-address backoff after refused stream keys (a guesser's loop): after <see cref="RtmpOptions.FailedPublishesBeforeBackoff"/>
/// refusals within <see cref="RtmpOptions.FailedPublishWindow"/>, the address's connections are closed on arrival for
/// <see cref="RtmpOptions.FirstPublishBackoff"/>, a time that doubles with each further refusal, up to <see cref="RtmpOptions.MaxPublishBackoff"/>. Keys are the address's 16 bytes
/// (IPv4 mapped into IPv6) in memory only, never stored or logged; the table is bounded (<see cref="MaxAddresses"/>: past it,
/// entries whose window and backoff are over go first, and a full table of live entries refuses to track more rather than grow).
/// </summary>
internal sealed class PublishBackoff(IOptionsMonitor<RtmpOptions> options, TimeProvider time)
{
    public const int MaxAddresses = 100_000;

    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();

    private sealed class Entry
    {
        public long WindowStart;
        public int Failures;
        public long BlockedUntil;
    }

    /// <summary>Whether connections from <paramref name="address"/> wait now; how long is left.</summary>
    public bool IsBlocked(IPAddress? address, out TimeSpan remaining)
    {
        remaining = TimeSpan.Zero;
        if (address is null || !_entries.TryGetValue(Key(address), out var entry))
        {
            return false;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (entry)
        {
            if (entry.BlockedUntil <= now)
            {
                return false;
            }

            remaining = TimeSpan.FromMilliseconds(entry.BlockedUntil - now);
            return true;
        }
    }

    /// <summary>A refused key from <paramref name="address"/>.</summary>
    public void Failed(IPAddress? address)
    {
        var o = options.CurrentValue;
        if (address is null || o.FailedPublishesBeforeBackoff == 0)
        {
            return;
        }

        var key = Key(address);
        if (!_entries.TryGetValue(key, out var entry))
        {
            if (_entries.Count >= MaxAddresses && !Sweep(o))
            {
                return;
            }

            entry = _entries.GetOrAdd(key, _ => new Entry());
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (entry)
        {
            if (now - entry.WindowStart > (long)o.FailedPublishWindow.TotalMilliseconds && entry.BlockedUntil <= now)
            {
                entry.WindowStart = now;
                entry.Failures = 0;
            }

            entry.Failures++;
            var over = entry.Failures - o.FailedPublishesBeforeBackoff;
            if (over >= 0)
            {
                var backoff = Math.Min((long)o.MaxPublishBackoff.TotalMilliseconds, (long)o.FirstPublishBackoff.TotalMilliseconds << Math.Min(over, 20));
                entry.BlockedUntil = now + backoff;
            }
        }
    }

    /// <summary>A good key from <paramref name="address"/>: it starts clean.</summary>
    public void Succeeded(IPAddress? address)
    {
        if (address is not null)
        {
            _entries.TryRemove(Key(address), out _);
        }
    }

    /// <summary>Drops entries whose window and backoff are over; whether there is room now.</summary>
    private bool Sweep(RtmpOptions o)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var window = (long)o.FailedPublishWindow.TotalMilliseconds;
        foreach (var (key, entry) in _entries)
        {
            bool over;
            lock (entry)
            {
                over = entry.BlockedUntil <= now && now - entry.WindowStart > window;
            }

            if (over)
            {
                _entries.TryRemove(key, out _);
            }
        }

        return _entries.Count < MaxAddresses;
    }

    private static UInt128 Key(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.MapToIPv6().TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
