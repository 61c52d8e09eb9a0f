using System.Net;
using System.Text;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// Request paths through the playback-path parser (<see cref="PlaybackPaths.Parse"/>). Byte 0: bit 0 set puts a valid
/// token for video <c>vid1</c> (bit 1: live or VOD prefix; bit 2: premium) in front of the rest; bits 3-4 pick the
/// client (none, 127.0.0.1, ::1, 10.0.0.1) and bit 5 binds the token to 127.0.0.1. The rest is the path (UTF-8, as
/// Kestrel hands a decoded path over). Invariants: no exception; every reading follows the canonical parse
/// (<see cref="StreamVerse.Origin.Http.PlaybackPath"/>): an untokenised canonical path is the origin's (null), anything
/// else without a canonical token (a non-canonical spelling, a path that is no playback path) is refused (false); a token
/// is read only from a canonical tokenised path; a valid token admits exactly its own video from its own client, and
/// its header reads back (expiry, premium flag).
/// </summary>
internal static class PlaybackPathTarget
{
    private const string Video = "vid1";
    private static readonly PlaybackTokens Tokens = new(Convert.FromBase64String(PlaybackPaths.SigningKey));
    private static readonly IPAddress?[] Clients = [null, IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Parse("10.0.0.1")];

    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var mode = input[0];
        var rest = Encoding.UTF8.GetString(input.AsSpan(1));
        var client = Clients[(mode >> 3) & 3];
        if ((mode & 1) == 0)
        {
            Arbitrary(rest, client);
            return;
        }

        var boundTo = (mode & 0x20) != 0 ? IPAddress.Loopback : null;
        var premium = (mode & 4) != 0;
        var token = Tokens.Issue(Video, PlaybackPaths.Expires, viewerId: "fuzz", boundTo, premium);
        var prefix = (mode & 2) == 0 ? "/live/t/" : "/vod/t/";
        var path = prefix + token + "/" + rest;
        var view = PlaybackPaths.Parse(path, client);

        var canonical = view.Path.IsPlayback && view.Path.IsTokenised;
        Check.That(canonical || view.Path.Kind == StreamVerse.Origin.Http.PlaybackKind.Refused, $"'{path}': a token prefix read as {view.Path.Kind}");
        Check.That(view.Token == (canonical ? token : ""), $"'{path}': token '{view.Token}', issued '{token}'");
        var clientMatches = boundTo is null || (client is not null && client.MapToIPv6().Equals(boundTo.MapToIPv6()));
        var expected = canonical && path[view.Path.Name] == Video && clientMatches;
        Check.That(view.Admitted == expected, $"'{path}' from {client}: admitted {view.Admitted}, expected {expected}");
        Check.That(PlaybackTokens.ExpiresAt(token) == PlaybackPaths.Expires.ToUnixTimeSeconds(), "the token's expiry does not read back");
        Check.That(PlaybackTokens.ClaimsPremium(token) == premium, "the token's premium flag does not read back");
    }

    private static void Arbitrary(string path, IPAddress? client)
    {
        var view = PlaybackPaths.Parse(path, client);
        var parsed = view.Path;
        // The edge asks only about its /live and /vod routes: a canonical untokenised path is the origin's to decide
        // (null), anything else that is not a canonical tokenised path is refused.
        var theOrigins = parsed.IsPlayback && !parsed.IsTokenised;
        Check.That((view.Admitted is null) == theOrigins, $"'{path}': admitted {view.Admitted}, parsed {parsed.Kind} tokenised {parsed.IsTokenised}");
        Check.That(view.Token == (parsed.IsPlayback && parsed.IsTokenised ? path[parsed.Token] : ""), $"'{path}': token '{view.Token}'");
        if (view.Token.Length > 0)
        {
            var prefix = parsed.Kind == StreamVerse.Origin.Http.PlaybackKind.Live ? "/live/t/" : "/vod/t/";
            Check.That(!view.Token.Contains('/', StringComparison.Ordinal) && path.AsSpan(prefix.Length).StartsWith(view.Token + "/", StringComparison.Ordinal),
                $"'{path}': token '{view.Token}'");
        }

        // Random bytes do not forge a MAC; an admitted arbitrary path means the check accepted something it should not.
        Check.That(view.Admitted is not true, $"'{path}' admitted without a token the key issued");
        _ = PlaybackTokens.ClaimsPremium(view.Token);
        _ = PlaybackTokens.ExpiresAt(view.Token);
    }
}
