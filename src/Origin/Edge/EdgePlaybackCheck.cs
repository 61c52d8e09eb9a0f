using System.Net;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.Origin.Http;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// Playback tokens (<c>/live/t/...</c> and <c>/vod/t/...</c>) verified at the edge, before its cache is consulted, so an expired or tampered token is refused
/// even for objects the edge already holds. The check is stateless (HMAC, expiry, optional client IP): the edge
/// needs only the origin's key, <c>StreamVerse:ControlPlane:Playback:SigningKey</c>, written as at the origin (base64,
/// <see cref="KeyMaterial"/>): the origin's configured value, or the content of its generated <c>keys/playback.key</c>.
/// A key in another form stops the edge at start (the handler, and so this check, is made when the endpoints are
/// mapped). An edge without a key refuses every tokenised request rather than serve private content it cannot check.
/// Which paths are tokenised, and their token and video id, is <see cref="PlaybackPath"/>'s to say.
/// </summary>
internal sealed class EdgePlaybackCheck
{
    private const string KeyName = "StreamVerse:ControlPlane:Playback:SigningKey";

    private readonly PlaybackTokens? _tokens;
    private readonly TimeProvider _time;

    public EdgePlaybackCheck(IConfiguration configuration, TimeProvider time)
    {
        var key = configuration[KeyName];
        _tokens = string.IsNullOrEmpty(key) ? null : new PlaybackTokens(KeyMaterial.LoadOrCreate(key, KeyName, path: ""));
        _time = time;
    }

    /// <summary>
    /// Null when <paramref name="path"/> is a playback path without a token (the origin decides, as for any miss); else
    /// whether the token admits it. A path that is not a canonical playback path (<see cref="PlaybackPath"/>) is refused.
    /// </summary>
    public bool? Admits(string path, IPAddress? client)
    {
        var parsed = PlaybackPath.Parse(path);
        if (!parsed.IsPlayback)
        {
            return false;
        }

        if (!parsed.IsTokenised)
        {
            return null;
        }

        if (_tokens is null)
        {
            return false;
        }

        // Live and VOD tokens are the same: the MAC covers the video id, the segment after the token.
        Span<byte> ip = stackalloc byte[16];
        var hasIp = client is not null && client.MapToIPv6().TryWriteBytes(ip, out _);
        return _tokens.Verify(path.AsSpan()[parsed.Token], path.AsSpan()[parsed.Name], _time.GetUtcNow().ToUnixTimeSeconds(), hasIp ? ip : default);
    }
}
