using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>
/// Signed, expiring playback tokens, verified by the origin without a database:
/// <c>base64url(version 2 | flags | expiry (int64 BE unix seconds) | issued (int64 BE unix milliseconds) | viewerLength | viewer | HMAC-SHA256)</c>.
/// The issue time lets <see cref="PlaybackRevocations"/> void a video's or a viewer's earlier tokens before they
/// expire. Version 1 tokens (no issue time, from before it was added) still verify and count as issued at 0, so any
/// revocation voids them.
/// The MAC covers a domain label, every byte before it, the video id, and, when flag bit 0 is set, the client
/// address (IPv4 as IPv4-mapped IPv6), so a token is good for one video, until its expiry, optionally from one
/// address. The video id is not in the token: it is the stream name in the URL the token rides on. Flag bit 1 says
/// the viewer had a premium account when the token was issued: delivery picks the viewer's bandwidth tier from it
/// (<c>StreamVerse:Limits:PremiumTier</c>), and, being under the MAC, it cannot be set on someone else's token.
/// </summary>
internal sealed class PlaybackTokens
{
    public const int MaxTokenChars = 128;

    /// <summary>Room for the viewer id <see cref="Verify(ReadOnlySpan{char}, ReadOnlySpan{char}, long, ReadOnlySpan{byte}, out long, Span{char}, out int)"/> returns.</summary>
    public const int MaxViewerBytes = 32;
    private const byte Version = 2;
    private const byte Version1 = 1;
    private const byte FlagIpBound = 1;
    private const byte FlagPremium = 2;
    private const int HeaderBytes = 19;
    private const int Version1HeaderBytes = 11;
    private const int MacBytes = 32;
    private const int MaxVideoIdBytes = 64;
    private static ReadOnlySpan<byte> Label => "streamverse-playback-v1\0"u8;

    private readonly byte[] _key;

    // One HMAC context per thread, reset after each use: the one-shot HMACSHA256.HashData sets up a new OpenSSL
    // context per call, which costs more than the MAC of a hundred bytes itself (see bench/RESULTS.md).
    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static PlaybackTokens? t_hmacOwner;

    public PlaybackTokens(IOptions<PlaybackOptions> options, IOptions<ControlPlaneOptions> controlPlane)
        : this(Auth.KeyMaterial.LoadOrCreate(options.Value.SigningKey, PlaybackOptions.Section + ":SigningKey",
            Path.Combine(Path.GetFullPath(controlPlane.Value.DataPath), "keys", "playback.key")))
    {
    }

    internal PlaybackTokens(byte[] key) => _key = key;

    /// <summary>The credential edges present to the invalidation feed, derived from this key (<see cref="EdgeInvalidations.Credential"/>).</summary>
    internal string EdgeFeedCredential() => EdgeInvalidations.Credential(_key);

    /// <param name="issued">When it is issued (the time revocations compare with); null: unknown, so any revocation of the
    /// video or viewer voids it.</param>
    public string Issue(string videoId, DateTimeOffset expires, string? viewerId, IPAddress? clientIp, bool premium = false, DateTimeOffset? issued = null)
    {
        var viewer = Encoding.ASCII.GetBytes(viewerId ?? "");
        if (viewer.Length > MaxViewerBytes || Encoding.ASCII.GetByteCount(videoId) > MaxVideoIdBytes)
        {
            throw new ArgumentException("viewer or video id too long");
        }

        Span<byte> token = stackalloc byte[HeaderBytes + MaxViewerBytes + MacBytes];
        token[0] = Version;
        token[1] = (byte)((clientIp is null ? 0 : FlagIpBound) | (premium ? FlagPremium : 0));
        BinaryPrimitives.WriteInt64BigEndian(token[2..], expires.ToUnixTimeSeconds());
        BinaryPrimitives.WriteInt64BigEndian(token[10..], issued?.ToUnixTimeMilliseconds() ?? 0);
        token[18] = (byte)viewer.Length;
        viewer.CopyTo(token[HeaderBytes..]);
        var body = HeaderBytes + viewer.Length;
        Span<byte> ip = stackalloc byte[16];
        if (clientIp is not null)
        {
            clientIp.MapToIPv6().TryWriteBytes(ip, out _);
        }

        Mac(token[..body], videoId, clientIp is null ? default : ip, token.Slice(body, MacBytes));
        return Base64Url.EncodeToString(token[..(body + MacBytes)]);
    }

    /// <summary>
    /// True if <paramref name="token"/> was issued for <paramref name="videoId"/>, has not expired at
    /// <paramref name="nowUnixSeconds"/>, and (if bound) names <paramref name="clientIp"/> (16 bytes, IPv6 or
    /// IPv4-mapped). Allocates nothing.
    /// </summary>
    public bool Verify(ReadOnlySpan<char> token, ReadOnlySpan<char> videoId, long nowUnixSeconds, ReadOnlySpan<byte> clientIp) =>
        Verify(token, videoId, nowUnixSeconds, clientIp, out _, stackalloc char[MaxViewerBytes], out _);

    /// <summary>
    /// <see cref="Verify(ReadOnlySpan{char}, ReadOnlySpan{char}, long, ReadOnlySpan{byte})"/>, also giving what a
    /// revocation is checked against: the issue time (unix milliseconds; 0 for a version 1 token) and the viewer id,
    /// written to <paramref name="viewer"/> (at least <see cref="MaxViewerBytes"/> long). Allocates nothing.
    /// </summary>
    public bool Verify(ReadOnlySpan<char> token, ReadOnlySpan<char> videoId, long nowUnixSeconds, ReadOnlySpan<byte> clientIp,
        out long issuedUnixMilliseconds, Span<char> viewer, out int viewerChars)
    {
        issuedUnixMilliseconds = 0;
        viewerChars = 0;
        if (token.Length is 0 or > MaxTokenChars || videoId.Length is 0 or > MaxVideoIdBytes)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[96];
        if (Base64Url.DecodeFromChars(token, bytes, out var consumed, out var length) != System.Buffers.OperationStatus.Done
            || consumed != token.Length || bytes[0] is not (Version or Version1))
        {
            return false;
        }

        var header = bytes[0] == Version ? HeaderBytes : Version1HeaderBytes;
        if (length < header + MacBytes)
        {
            return false;
        }

        var viewerLength = bytes[header - 1];
        var body = header + viewerLength;
        if (viewerLength > MaxViewerBytes || length != body + MacBytes || (bytes[1] & ~(FlagIpBound | FlagPremium)) != 0)
        {
            return false;
        }

        var ipBound = (bytes[1] & FlagIpBound) != 0;
        if (ipBound && clientIp.Length != 16)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacBytes];
        if (!Mac(bytes[..body], videoId, ipBound ? clientIp : default, expected))
        {
            return false;
        }

        // Compare the MAC before looking at the expiry, so nothing about a forged token's content leaks by timing.
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(body, MacBytes))
            || BinaryPrimitives.ReadInt64BigEndian(bytes[2..]) <= nowUnixSeconds)
        {
            return false;
        }

        issuedUnixMilliseconds = header == HeaderBytes ? BinaryPrimitives.ReadInt64BigEndian(bytes[10..]) : 0;
        if (viewer.Length >= viewerLength)
        {
            for (var i = 0; i < viewerLength; i++)
            {
                viewer[i] = (char)bytes[header + i];
            }

            viewerChars = viewerLength;
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="token"/> says its viewer is premium. Reads the header only and checks nothing: ask
    /// it only of a token <see cref="Verify"/> has accepted for this request (the flag is under the MAC, so a
    /// verified token's flag is the issuer's). Allocates nothing.
    /// </summary>
    public static bool ClaimsPremium(ReadOnlySpan<char> token) => TryReadHeader(token, out var flags, out _) && (flags & FlagPremium) != 0;

    /// <summary>
    /// The expiry (unix seconds) <paramref name="token"/> states, or null if it has no readable header. Checks
    /// nothing: ask it only of a token <see cref="Verify"/> has accepted. Allocates nothing.
    /// </summary>
    public static long? ExpiresAt(ReadOnlySpan<char> token) => TryReadHeader(token, out _, out var expires) ? expires : null;

    private static bool TryReadHeader(ReadOnlySpan<char> token, out byte flags, out long expires)
    {
        // Version, flags and the 8-byte expiry are the first 10 bytes: the first 16 characters hold them whole.
        Span<byte> head = stackalloc byte[12];
        var ok = token.Length >= 16
            && Base64Url.DecodeFromChars(token[..16], head, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == 12 && head[0] is Version or Version1;
        flags = ok ? head[1] : (byte)0;
        expires = ok ? BinaryPrimitives.ReadInt64BigEndian(head[2..]) : 0;
        return ok;
    }

    private bool Mac(ReadOnlySpan<byte> body, ReadOnlySpan<char> videoId, ReadOnlySpan<byte> ip, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[64 + HeaderBytes + MaxViewerBytes + MaxVideoIdBytes + 1 + 16];
        var n = 0;
        Label.CopyTo(input);
        n += Label.Length;
        body.CopyTo(input[n..]);
        n += body.Length;
        foreach (var c in videoId)
        {
            if (c > 0x7F)
            {
                return false;
            }

            input[n++] = (byte)c;
        }

        input[n++] = 0;
        ip.CopyTo(input[n..]);
        n += ip.Length;
        var hmac = t_hmac;
        if (hmac is null || !ReferenceEquals(t_hmacOwner, this))
        {
            hmac?.Dispose();
            t_hmac = hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
            t_hmacOwner = this;
        }

        hmac.AppendData(input[..n]);
        return hmac.GetHashAndReset(mac) == MacBytes;
    }
}
