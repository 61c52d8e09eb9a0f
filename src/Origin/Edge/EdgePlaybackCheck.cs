using System.Net;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// Playback tokens (<c>/live/t/...</c> and <c>/vod/t/...</c>) verified at the edge, before its cache is consulted, so an expired or tampered token is refused
/// even for objects the edge already holds. The check is stateless (HMAC, expiry, optional client IP): the edge
/// needs only the origin's key, <c>StreamVerse:ControlPlane:Playback:SigningKey</c>. An edge without that key
/// refuses every tokenised request rather than serve private content it cannot check.
/// </summary>
internal sealed class EdgePlaybackCheck
{
    private const string KeyName = "StreamVerse:ControlPlane:Playback:SigningKey";
    private const string LivePrefix = "/live/t/";
    private const string VodPrefix = "/vod/t/";

    private readonly PlaybackTokens? _tokens;
    private readonly TimeProvider _time;

    public EdgePlaybackCheck(IConfiguration configuration, TimeProvider time)
    {
        var key = configuration[KeyName];
        _tokens = string.IsNullOrEmpty(key) ? null : new PlaybackTokens(KeyMaterial.LoadOrCreate(key, KeyName, path: ""));
        _time = time;
    }

    /// <summary>Null when <paramref name="path"/> carries no token (the origin decides, as for any miss); else whether the token admits it.</summary>
    public bool? Admits(string path, IPAddress? client)
    {
        // Live and VOD tokens are the same: the MAC covers the video id, the segment after the token.
        var prefixLength = path.StartsWith(LivePrefix, StringComparison.Ordinal) ? LivePrefix.Length
            : path.StartsWith(VodPrefix, StringComparison.Ordinal) ? VodPrefix.Length
            : 0;
        if (prefixLength == 0)
        {
            return null;
        }

        var rest = path.AsSpan(prefixLength);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || _tokens is null)
        {
            return false;
        }

        var token = rest[..slash];
        rest = rest[(slash + 1)..];
        slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        Span<byte> ip = stackalloc byte[16];
        var hasIp = client is not null && client.MapToIPv6().TryWriteBytes(ip, out _);
        return _tokens.Verify(token, rest[..slash], _time.GetUtcNow().ToUnixTimeSeconds(), hasIp ? ip : default);
    }
}
