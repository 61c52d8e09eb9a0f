using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// What a throttle counts under: 128 bits of HMAC-SHA256, under a key drawn when the process starts, of what the
/// client sent (an account's normalised e-mail, a client address). Fixed-size whatever the client sent, so a window
/// costs the same for a 20 MB e-mail as for a short one (the e-mail is refused long before, but the throttle does
/// not rely on that); keyed, so no one can choose inputs whose keys collide in the dictionary's buckets. 128 bits
/// make an accidental collision (two accounts sharing a window) negligible at any number of windows a process holds.
/// </summary>
internal readonly record struct ThrottleKey(UInt128 Value)
{
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    /// <summary>An account, by its normalised e-mail (whether or not it exists).</summary>
    public static ThrottleKey Account(string normalisedEmail) => Of((byte)'a', Encoding.UTF8.GetBytes(normalisedEmail));

    /// <summary>Mail of one kind (<paramref name="purpose"/>) to one normalised e-mail, whether or not an account has it.</summary>
    public static ThrottleKey MailTo(string purpose, string normalisedEmail) => Of((byte)'m', Encoding.UTF8.GetBytes(purpose + "\n" + normalisedEmail));

    /// <summary>
    /// A client address as <see cref="ClientAddress"/> groups it. Its own kind byte: an address and an e-mail with
    /// the same bytes are different keys.
    /// </summary>
    public static ThrottleKey Address(IPAddress? address) => Of((byte)'i', ClientAddress.Group(address));

    private static ThrottleKey Of(byte kind, ReadOnlySpan<byte> value)
    {
        var input = new byte[value.Length + 1];
        input[0] = kind;
        value.CopyTo(input.AsSpan(1));
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Secret, input, mac);
        return new ThrottleKey(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(mac));
    }
}

/// <summary>
/// The client address that per-address limits count, as the request states it after
/// <c>StreamVerse:TrustedProxies</c> (the forwarded-headers middleware runs first and sets
/// <see cref="ConnectionInfo.RemoteIpAddress"/> only for a trusted peer).
/// </summary>
internal static class ClientAddress
{
    /// <summary>
    /// The bytes a limit counts: an IPv4 address (an IPv4-mapped IPv6 one too) whole, an IPv6 address by its /64, the
    /// network of one host or household (RFC 6177; a host that holds a /64 can pick any of its 2^64 addresses, so
    /// counting single IPv6 addresses would let it start over at will). No address: one shared group.
    /// </summary>
    public static byte[] Group(IPAddress? address)
    {
        if (address is null)
        {
            return [];
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? bytes[..8] : bytes;
    }
}
