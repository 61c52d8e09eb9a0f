using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Handshake;
using static StreamVerse.Origin.Tests.Rtmp.SequenceHelpers;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class HandshakeTests
{
    /// <summary>A Flash-Player-style C1 with the digest placed by <paramref name="scheme"/>, as ffmpeg builds it.</summary>
    internal static byte[] DigestC1(int scheme, int seed = 1)
    {
        var c1 = new byte[RtmpHandshake.PacketSize];
        new Random(seed).NextBytes(c1);
        BinaryPrimitives.WriteUInt32BigEndian(c1, 0);
        c1[4] = 9; c1[5] = 0; c1[6] = 124; c1[7] = 2;
        var offset = RtmpHandshake.DigestOffset(c1, scheme);
        var digest = new byte[32];
        RtmpHandshake.ComputeDigest(c1, offset, "Genuine Adobe Flash Player 001"u8, digest);
        digest.CopyTo(c1, offset);
        return c1;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Digest_C1_validates_and_S1_S2_verify_with_the_published_keys(int scheme)
    {
        var c1 = DigestC1(scheme, seed: 10 + scheme);
        var clientOffset = RtmpHandshake.FindClientDigest(c1);
        Assert.Equal(RtmpHandshake.DigestOffset(c1, scheme), clientOffset);

        var response = new byte[3073];
        RtmpHandshake.WriteResponse(c1, response);
        Assert.Equal(3, response[0]);
        var s1 = response.AsSpan(1, 1536);
        var s2 = response.AsSpan(1537, 1536);
        Assert.NotEqual(0, s1[4]); // version field announces the digest form

        // S1: the 36-byte text key, same scheme as the client.
        var s1Offset = RtmpHandshake.DigestOffset(s1, scheme);
        Span<byte> digest = stackalloc byte[32];
        using (var hmac = new HMACSHA256("Genuine Adobe Flash Media Server 001"u8.ToArray()))
        {
            var message = s1[..s1Offset].ToArray().Concat(s1[(s1Offset + 32)..].ToArray()).ToArray();
            Assert.True(hmac.ComputeHash(message).AsSpan().SequenceEqual(s1.Slice(s1Offset, 32)));
        }

        // S2: key = HMAC(68-byte server key, C1 digest); last 32 bytes = HMAC(key, first 1504 bytes).
        byte[] fullKey = [.. "Genuine Adobe Flash Media Server 001"u8, 0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
            0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE];
        var s2Key = HMACSHA256.HashData(fullKey, c1.AsSpan(clientOffset, 32));
        HMACSHA256.HashData(s2Key, s2[..1504], digest);
        Assert.True(digest.SequenceEqual(s2[1504..]));
        Assert.False(s2.SequenceEqual(c1));
    }

    [Fact]
    public void Plain_C1_is_echoed_in_S2()
    {
        var c1 = new byte[1536];
        new Random(5).NextBytes(c1);
        c1.AsSpan(4, 4).Clear();
        Assert.Equal(-1, RtmpHandshake.FindClientDigest(c1));
        var response = new byte[3073];
        RtmpHandshake.WriteResponse(c1, response);
        Assert.True(response.AsSpan(1537).SequenceEqual(c1));
        Assert.True(response.AsSpan(5, 4).SequenceEqual(new byte[4]));
    }

    [Fact]
    public void Tampered_digest_falls_back_to_plain()
    {
        var c1 = DigestC1(0);
        c1[1000] ^= 0xFF;
        Assert.Equal(-1, RtmpHandshake.FindClientDigest(c1));
    }

    [Fact]
    public void C0C1_and_C2_parse_at_every_split_point()
    {
        var c1 = DigestC1(1);
        var c2 = new byte[1536];
        byte[] bytes = [3, .. c1, .. c2, 0xAA];
        for (var split = 0; split <= bytes.Length; split += 3)
        {
            var reader = new SequenceReader<byte>(Segments(bytes[..split], bytes[split..]));
            Assert.True(RtmpHandshake.TryReadC0C1(ref reader, out var request));
            Assert.True(request.C1.AsSpan().SequenceEqual(c1));
            Assert.True(RtmpHandshake.TrySkipC2(ref reader));
            Assert.Equal(1, reader.Remaining);
        }

        var requests = ParseIncrementally<RtmpHandshakeRequest, byte[]>(Bytewise(bytes[..1537]), RtmpHandshake.TryReadC0C1, r => r.C1);
        Assert.Single(requests);
        Assert.True(requests[0].AsSpan().SequenceEqual(c1));
    }

    [Fact]
    public void Short_input_needs_more_data_and_wrong_version_throws()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { 3, 0, 0 }));
        Assert.False(RtmpHandshake.TryReadC0C1(ref reader, out _));
        Assert.Equal(0, reader.Consumed);

        var bad = new byte[1537];
        bad[0] = 6; // RTMPE
        Assert.Throws<RtmpProtocolException>(() =>
        {
            var r = new SequenceReader<byte>(new ReadOnlySequence<byte>(bad));
            RtmpHandshake.TryReadC0C1(ref r, out _);
        });
        Assert.Throws<RtmpProtocolException>(() =>
        {
            var r = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { (byte)'G' }));
            RtmpHandshake.TryReadC0C1(ref r, out _);
        });
    }
}
