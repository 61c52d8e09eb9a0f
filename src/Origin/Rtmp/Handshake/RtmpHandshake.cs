using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace StreamVerse.Origin.Rtmp.Handshake;

/// <summary>C0+C1 as received: the version byte and the 1536-byte C1.</summary>
internal sealed class RtmpHandshakeRequest(byte version, byte[] c1)
{
    public byte Version { get; } = version;

    public byte[] C1 { get; } = c1;
}

/// <summary>
/// The RTMP handshake (RTMP specification 1.0, §5.2) including the undocumented Flash Player 9 "digest" form
/// that clients use to detect a genuine server: C1 hides an HMAC-SHA256 digest at an offset derived from four
/// bytes at position 8 (scheme 0) or 772 (scheme 1). When C1 carries a valid digest we answer S1/S2 with
/// digests under the Flash Media Server key (as SRS, nginx-rtmp and gortmplib do); otherwise S2 echoes C1.
/// </summary>
internal static class RtmpHandshake
{
    public const byte Version = 3;
    public const int PacketSize = 1536;
    public const int DigestLength = 32;

    /// <summary>The 32-byte constant that follows the text part of both keys.</summary>
    private static ReadOnlySpan<byte> KeySuffix =>
    [
        0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
        0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
    ];

    /// <summary>"Genuine Adobe Flash Player 001" + <see cref="KeySuffix"/> (62 bytes); C1 uses the first 30.</summary>
    public static byte[] PlayerKey { get; } = [.. "Genuine Adobe Flash Player 001"u8, .. KeySuffix];

    /// <summary>"Genuine Adobe Flash Media Server 001" + <see cref="KeySuffix"/> (68 bytes); S1 uses the first 36.</summary>
    public static byte[] ServerKey { get; } = [.. "Genuine Adobe Flash Media Server 001"u8, .. KeySuffix];

    public const int PlayerKeyTextLength = 30;
    public const int ServerKeyTextLength = 36;

    /// <summary>Our S1 version field; non-zero announces the digest form.</summary>
    private static ReadOnlySpan<byte> ServerVersion => [0x04, 0x05, 0x00, 0x01];

    /// <summary>Reads C0 and C1 (1537 bytes).</summary>
    /// <exception cref="RtmpProtocolException">C0 is not version 3.</exception>
    public static bool TryReadC0C1(ref SequenceReader<byte> reader, out RtmpHandshakeRequest request)
    {
        request = null!;
        if (reader.Remaining < 1 + PacketSize)
        {
            // Reject a wrong version byte at once rather than waiting for 1536 more bytes.
            if (reader.TryPeek(out var early))
            {
                ValidateVersion(early);
            }

            return false;
        }

        reader.TryRead(out var version);
        ValidateVersion(version);

        var c1 = new byte[PacketSize];
        reader.TryCopyTo(c1);
        reader.Advance(PacketSize);
        request = new RtmpHandshakeRequest(version, c1);
        return true;
    }

    /// <exception cref="RtmpProtocolException">C0 is not version 3 (6 would be RTMPE, which is not offered).</exception>
    public static void ValidateVersion(byte c0)
    {
        if (c0 != Version)
        {
            throw new RtmpProtocolException($"Unsupported RTMP version {c0} in C0.");
        }
    }

    /// <summary>Skips C2 (1536 bytes). Its content is not checked: clients differ in what they echo.</summary>
    public static bool TrySkipC2(ref SequenceReader<byte> reader)
    {
        if (reader.Remaining < PacketSize)
        {
            return false;
        }

        reader.Advance(PacketSize);
        return true;
    }

    /// <summary>Finds the C1 digest, trying scheme 0 (offset base 8) then scheme 1 (offset base 772).</summary>
    /// <returns>The offset of the digest in C1, or -1 if neither scheme validates.</returns>
    public static int FindClientDigest(ReadOnlySpan<byte> c1)
    {
        foreach (var scheme in (ReadOnlySpan<int>)[0, 1])
        {
            var offset = DigestOffset(c1, scheme);
            if (VerifyDigest(c1, offset, PlayerKey.AsSpan(0, PlayerKeyTextLength)))
            {
                return offset;
            }
        }

        return -1;
    }

    /// <summary>The digest offset for a scheme: the sum of four bytes, modulo 728, past them.</summary>
    public static int DigestOffset(ReadOnlySpan<byte> packet, int scheme)
    {
        var position = scheme == 0 ? 8 : 772;
        var sum = packet[position] + packet[position + 1] + packet[position + 2] + packet[position + 3];
        return (sum % 728) + position + 4;
    }

    /// <summary>HMAC-SHA256 over the packet without the 32 digest bytes at <paramref name="offset"/>.</summary>
    public static void ComputeDigest(ReadOnlySpan<byte> packet, int offset, ReadOnlySpan<byte> key, Span<byte> digest)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(packet[..offset]);
        hmac.AppendData(packet[(offset + DigestLength)..]);
        hmac.GetHashAndReset(digest);
    }

    public static bool VerifyDigest(ReadOnlySpan<byte> packet, int offset, ReadOnlySpan<byte> key)
    {
        Span<byte> digest = stackalloc byte[DigestLength];
        ComputeDigest(packet, offset, key, digest);
        return CryptographicOperations.FixedTimeEquals(digest, packet.Slice(offset, DigestLength));
    }

    /// <summary>Writes S0+S1+S2 (3073 bytes) answering <paramref name="c1"/>.</summary>
    /// <returns>True for the digest form, false for the simple (echo) form.</returns>
    public static bool WriteResponse(ReadOnlySpan<byte> c1, Span<byte> s0s1s2)
    {
        if (s0s1s2.Length < 1 + (2 * PacketSize))
        {
            throw new ArgumentException("The response needs 3073 bytes.", nameof(s0s1s2));
        }

        s0s1s2[0] = Version;
        var s1 = s0s1s2.Slice(1, PacketSize);
        var s2 = s0s1s2.Slice(1 + PacketSize, PacketSize);
        RandomNumberGenerator.Fill(s1);
        BinaryPrimitives.WriteUInt32BigEndian(s1, 0);

        var clientDigestOffset = FindClientDigest(c1);
        if (clientDigestOffset < 0)
        {
            // Simple handshake: S1 with a zero version field, S2 echoes C1 (§5.2.3, §5.2.4).
            s1.Slice(4, 4).Clear();
            c1.CopyTo(s2);
            return false;
        }

        // S1: same scheme as the client; digest keyed with the 36-byte server text key.
        var scheme = clientDigestOffset < 772 ? 0 : 1;
        ServerVersion.CopyTo(s1[4..]);
        var s1DigestOffset = DigestOffset(s1, scheme);
        Span<byte> digest = stackalloc byte[DigestLength];
        ComputeDigest(s1, s1DigestOffset, ServerKey.AsSpan(0, ServerKeyTextLength), digest);
        digest.CopyTo(s1[s1DigestOffset..]);

        // S2: random bytes whose last 32 are HMAC(key = HMAC(full server key, C1 digest), S2[0..1504]).
        RandomNumberGenerator.Fill(s2);
        Span<byte> s2Key = stackalloc byte[DigestLength];
        HMACSHA256.HashData(ServerKey, c1.Slice(clientDigestOffset, DigestLength), s2Key);
        HMACSHA256.HashData(s2Key, s2[..(PacketSize - DigestLength)], s2[(PacketSize - DigestLength)..]);
        return true;
    }
}
