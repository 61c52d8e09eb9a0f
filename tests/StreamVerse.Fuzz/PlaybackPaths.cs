using System.Net;
using Microsoft.Extensions.Configuration;
using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Http;

namespace StreamVerse.Fuzz;

/// <summary>What the playback-path parser makes of a request path.</summary>
/// <param name="Token">The token segment of a tokenised path (<c>/live/t/{token}/...</c>, <c>/vod/t/{token}/...</c>), or empty.</param>
/// <param name="Admitted">Null for a path without a token; else whether the token admits the path's video for the client.</param>
internal readonly record struct PlaybackPathView(string Token, bool? Admitted);

/// <summary>
/// The one place the <c>playback-path</c> target reaches the playback-path parsing. Today that is two parsers,
/// <see cref="TokenPaths.TokenOf"/> (origin: cache lifetimes, delivery tier) and <see cref="EdgePlaybackCheck.Admits"/>
/// (edge); when they become one canonical parser, only <see cref="Parse"/> changes.
/// </summary>
internal static class PlaybackPaths
{
    /// <summary>The playback signing key the origin and its edges share in the target.</summary>
    public const string SigningKey = "streamverse-fuzz-playback-signing-key-0123456789";

    /// <summary>Tokens issued in the target expire here; <see cref="Now"/> is well before.</summary>
    public static readonly DateTimeOffset Expires = DateTimeOffset.FromUnixTimeSeconds(4_000_000_000);

    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static readonly EdgePlaybackCheck Edge = new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:ControlPlane:Playback:SigningKey"] = SigningKey }).Build(),
        new FixedTime(Now));

    public static PlaybackPathView Parse(string path, IPAddress? client) =>
        new(TokenPaths.TokenOf(path).ToString(), Edge.Admits(path, client));

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
