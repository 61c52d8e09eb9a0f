using System.Globalization;
using System.Text;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Origin.Http;

/// <summary>
/// Paths under a playback token (<c>/live/t/{token}/...</c>, <c>/vod/t/{token}/...</c>), and the caching such a
/// response may allow: no cache (a CDN in front, our edges) may keep serving it past the token's expiry, when the
/// origin would refuse it. Each token URL is its own cache key, so bounding its lifetime costs no hits.
/// </summary>
internal static class TokenPaths
{
    /// <summary>The token segment of a tokenised playback path (<see cref="PlaybackPath"/>), or empty (none, or not a canonical playback path).</summary>
    public static ReadOnlySpan<char> TokenOf(string? path)
    {
        var parsed = PlaybackPath.Parse(path);
        return parsed.IsTokenised ? path.AsSpan()[parsed.Token] : default;
    }

    /// <summary>
    /// <paramref name="cacheControl"/> for this request: unchanged without a token; under one, every lifetime it
    /// grants (<c>max-age</c>, <c>s-maxage</c>, <c>stale-while-revalidate</c>, <c>stale-if-error</c>) cut to the
    /// token's remaining seconds. Asked only after the token was verified.
    /// </summary>
    public static string CacheControl(HttpContext context, string cacheControl, TimeProvider time)
    {
        var path = context.Request.Path.Value;
        var parsed = PlaybackPath.Parse(path);
        if (parsed.Kind == PlaybackKind.Refused)
        {
            // Never reached (UsePlaybackPaths refuses such a path before routing); if it were, no cache keeps it.
            return "no-store";
        }

        var token = parsed.IsTokenised ? path.AsSpan()[parsed.Token] : default;
        return token.IsEmpty || PlaybackTokens.ExpiresAt(token) is not { } expires
            ? cacheControl
            : Bound(cacheControl, Math.Max(0, expires - time.GetUtcNow().ToUnixTimeSeconds()));
    }

    internal static string Bound(string cacheControl, long remainingSeconds)
    {
        var result = new StringBuilder(cacheControl.Length);
        foreach (var part in cacheControl.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (result.Length > 0)
            {
                result.Append(", ");
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            if (eq > 0 && name is "max-age" or "s-maxage" or "stale-while-revalidate" or "stale-if-error"
                && long.TryParse(part.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                result.Append(name).Append('=').Append(Math.Min(seconds, remainingSeconds).ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                result.Append(part);
            }
        }

        return result.ToString();
    }
}
