using System.Buffers.Binary;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// Viewer ids that name no one: a keyed 64-bit hash (SipHash-2-4) under a salt of 128 random bits that this process draws
/// for each UTC day and keeps only in memory. So the same viewer has the same id all day in this daemon, a different one
/// the next day, and once a day has passed nobody (not even this process) can link its ids to addresses, user agents or
/// the next day's ids. Raw addresses and user agents never leave the call. Ids from two daemons (an origin and its edges)
/// differ for the same viewer: each counts its own viewers.
/// <para>
/// Used by the media path for every response it serves (<see cref="OfClient(IPAddress?, ReadOnlySpan{byte}, long)"/>,
/// <see cref="OfSession"/>) and by analytics for beacons; allocation-free (one small object a day for the salt).
/// </para>
/// </summary>
public static class ViewerHash
{
    /// <summary>Bytes of the user agent that count; a longer one is cut (the fast lane reads no more of a header).</summary>
    public const int MaxUserAgentBytes = 512;

    private const long DayMs = 86_400_000;

    private const byte ClientDomain = 1;
    private const byte SessionDomain = 2;

    private static Salt? s_salt;

    /// <summary>The viewer behind an address and user agent on the UTC day of <paramref name="unixMs"/>.</summary>
    /// <param name="userAgent">The <c>User-Agent</c> field value's bytes (ASCII; other bytes count as they are).</param>
    public static ulong OfClient(IPAddress? address, ReadOnlySpan<byte> userAgent, long unixMs)
    {
        Span<byte> input = stackalloc byte[1 + 1 + 16 + MaxUserAgentBytes];
        input[0] = ClientDomain;
        var length = 2;
        if (address is not null)
        {
            // One viewer whether the socket was IPv4 or dual-stack IPv6.
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            if (address.TryWriteBytes(input[2..], out var written))
            {
                length += written;
                input[1] = (byte)written;
            }
        }

        if (userAgent.Length > MaxUserAgentBytes)
        {
            userAgent = userAgent[..MaxUserAgentBytes];
        }

        userAgent.CopyTo(input[length..]);
        length += userAgent.Length;
        return Keyed(input[..length], unixMs);
    }

    /// <summary>As <see cref="OfClient(IPAddress?, ReadOnlySpan{byte}, long)"/> for a user agent held as a string (its Latin-1 bytes, as HTTP carries it).</summary>
    public static ulong OfClient(IPAddress? address, ReadOnlySpan<char> userAgent, long unixMs)
    {
        Span<byte> bytes = stackalloc byte[MaxUserAgentBytes];
        var length = Encoding.Latin1.GetBytes(userAgent.Length > MaxUserAgentBytes ? userAgent[..MaxUserAgentBytes] : userAgent, bytes);
        return OfClient(address, bytes[..length], unixMs);
    }

    /// <summary>A player's own session id (CMCD <c>sid</c>, a beacon's session), given as a hash of its bytes, salted for the day.</summary>
    public static ulong OfSession(ulong sessionIdHash, long unixMs)
    {
        Span<byte> input = stackalloc byte[9];
        input[0] = SessionDomain;
        BinaryPrimitives.WriteUInt64LittleEndian(input[1..], sessionIdHash);
        return Keyed(input, unixMs);
    }

    private static ulong Keyed(ReadOnlySpan<byte> input, long unixMs)
    {
        var salt = SaltOf(unixMs / DayMs);
        var hash = SipHash24(salt.K0, salt.K1, input);
        return hash == 0 ? 1 : hash; // 0 is "no viewer" to the counters
    }

    private static Salt SaltOf(long day)
    {
        var salt = Volatile.Read(ref s_salt);
        Span<byte> key = stackalloc byte[16];
        while (salt is null || salt.Day != day)
        {
            if (salt is not null && salt.Day > day)
            {
                // A caller with an older clock reading than the salt's: the salt of that day is gone on purpose; use today's.
                return salt;
            }

            RandomNumberGenerator.Fill(key);
            var fresh = new Salt(day, BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]));
            var seen = Interlocked.CompareExchange(ref s_salt, fresh, salt);
            salt = ReferenceEquals(seen, salt) ? fresh : seen;
        }

        return salt;
    }

    private sealed record Salt(long Day, ulong K0, ulong K1);

    /// <summary>SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudo-random function, so ids cannot be reversed without the day's salt.</summary>
    internal static ulong SipHash24(ulong k0, ulong k1, ReadOnlySpan<byte> data)
    {
        ulong v0 = 0x736f6d6570736575UL ^ k0, v1 = 0x646f72616e646f6dUL ^ k1, v2 = 0x6c7967656e657261UL ^ k0, v3 = 0x7465646279746573UL ^ k1;
        var whole = data.Length & ~7;
        for (var i = 0; i < whole; i += 8)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        var last = (ulong)(data.Length & 0xff) << 56;
        var tail = data[whole..];
        for (var i = 0; i < tail.Length; i++)
        {
            last |= (ulong)tail[i] << (8 * i);
        }

        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;
        v2 ^= 0xff;
        for (var i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }
}
