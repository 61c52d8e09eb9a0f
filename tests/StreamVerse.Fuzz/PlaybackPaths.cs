using System.Net;
using Microsoft.Extensions.Configuration;
using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Http;

namespace StreamVerse.Fuzz;

/// <summary>What the playback-path parser makes of a request path.</summary>
/// <param name="Token">The token segment of a tokenised path (<c>/live/t/{token}/...</c>, <c>/vod/t/{token}/...</c>), or empty.</param>
/// <param name="Admitted">Null for a path without a token; else whether the token admits the path's video for the client.</param>
/// <param name="Path">The canonical parse, which every other reading must follow.</param>
internal readonly record struct PlaybackPathView(string Token, bool? Admitted, PlaybackPath Path);

/// <summary>
/// The one place the <c>playback-path</c> target reaches the playback-path parsing: the canonical parser
/// (<see cref="PlaybackPath.Parse(string?)"/>) and its two readers that matter most, <see cref="TokenPaths.TokenOf"/>
/// (origin: cache lifetimes, delivery tier) and <see cref="EdgePlaybackCheck.Admits"/> (edge).
/// </summary>
internal static class PlaybackPaths
{
    /// <summary>The playback signing key the origin and its edges share in the target.</summary>
    public const string SigningKey = "c3RyZWFtdmVyc2UtZnV6ei1wbGF5YmFjay1zaWduaW5nLWtleS0wMTIzNDU2Nzg5"; // base64, the key file's format

    /// <summary>Tokens issued in the target expire here; <see cref="Now"/> is well before.</summary>
    public static readonly DateTimeOffset Expires = DateTimeOffset.FromUnixTimeSeconds(4_000_000_000);

    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static readonly EdgePlaybackCheck Edge = new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:ControlPlane:Playback:SigningKey"] = SigningKey }).Build(),
        new FixedTime(Now));

    public static PlaybackPathView Parse(string path, IPAddress? client) =>
        new(TokenPaths.TokenOf(path).ToString(), Edge.Admits(path, client), PlaybackPath.Parse(path));

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
