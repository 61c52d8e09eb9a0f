using System.Buffers;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Http.FastLane;
using StreamVerse.Tests.Shared.Playback;

namespace StreamVerse.Origin.Tests.Http;

/// <summary>
/// <see cref="PlaybackPath"/> is the only classifier of playback paths: every component that decides on one (the
/// origin's and the edge's gate ahead of routing, the edge's cache key and token check, the token-lifetime rule, both
/// fast lanes after the request-head parser) agrees with it on every spelling, and no other spelling of a tokenised
/// path is ever taken for an untokenised one (issue 15, finding 2). Daemon-level: PlaybackPathEdgeTests (functional).
/// </summary>
public sealed class PlaybackPathTests
{
    private const string NameAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Theory]
    [InlineData("/live/cam/index.m3u8", "Live", "", "cam", "index.m3u8")]
    [InlineData("/live/cam/s1/video_1.2.m4s", "Live", "", "cam", "s1/video_1.2.m4s")]
    [InlineData("/live/t/AQAB-_x/cam/index.mpd", "Live", "AQAB-_x", "cam", "index.mpd")]
    [InlineData("/vod/v_1/index.m3u8", "Vod", "", "v_1", "index.m3u8")]
    [InlineData("/vod/t/tok/v_1/v2/360p_1.m4s", "Vod", "tok", "v_1", "v2/360p_1.m4s")]
    [InlineData("/vod/T/tok/v_1/v2/360p_1.m4s", "Refused", "", "", "")]
    [InlineData("/LIVE/t/tok/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("/Vod/v_1/index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/T/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/t/tok/t/index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/t", "Refused", "", "", "")] // the token marker with nothing after it: found by the playback-path fuzz target
    [InlineData("/vod/t", "Refused", "", "", "")]
    [InlineData("/live/t/", "Refused", "", "", "")]
    [InlineData("/live/t/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/%74/tok/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("/live%2Ft/tok/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("//live/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("\\live\\cam\\index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/./cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/cam/index.m3u8/", "Refused", "", "", "")]
    [InlineData("/live/cam/a/b/c.m4s", "Refused", "", "", "")]
    [InlineData("/live/cam/.index.m3u8", "Refused", "", "", "")]
    [InlineData("/live/cam/index.m3u8;x", "Refused", "", "", "")]
    [InlineData("/live/cam", "Refused", "", "", "")]
    [InlineData("/live/", "Refused", "", "", "")]
    [InlineData("/live", "Refused", "", "", "")]
    [InlineData("/vod.m3u8", "Refused", "", "", "")]
    [InlineData("/%6Cive/cam/index.m3u8", "Refused", "", "", "")]
    [InlineData("%2Fvod/v/index.m3u8", "Refused", "", "", "")]
    [InlineData("/%00live/cam/index.m3u8", "None", "", "", "")]
    [InlineData("/lives/cam/index.m3u8", "None", "", "", "")]
    [InlineData("/vodka", "None", "", "", "")]
    [InlineData("/api/v1/videos", "None", "", "", "")]
    [InlineData("/time", "None", "", "", "")]
    [InlineData("/", "None", "", "", "")]
    [InlineData("", "None", "", "", "")]
    public void Only_the_canonical_spelling_is_a_playback_path(string path, string kindName, string token, string name, string rest)
    {
        var kind = Enum.Parse<PlaybackKind>(kindName);
        var parsed = PlaybackPath.Parse(path);
        Assert.Equal(kind, parsed.Kind);
        Assert.Equal(token, path[parsed.Token]);
        Assert.Equal(name, path[parsed.Name]);
        Assert.Equal(rest, path[parsed.Rest]);
        Assert.Equal(kind, PlaybackPath.Parse(Encoding.Latin1.GetBytes(path)).Kind);
    }

    [Fact]
    public void Segments_are_held_to_their_lengths()
    {
        Assert.Equal(PlaybackKind.Live, PlaybackPath.Parse($"/live/{new string('n', 64)}/{new string('f', 128)}").Kind);
        Assert.Equal(PlaybackKind.Refused, PlaybackPath.Parse($"/live/{new string('n', 65)}/index.m3u8").Kind);
        Assert.Equal(PlaybackKind.Refused, PlaybackPath.Parse($"/live/cam/{new string('f', 129)}").Kind);
        Assert.Equal(PlaybackKind.Vod, PlaybackPath.Parse($"/vod/t/{new string('A', 128)}/v/index.m3u8").Kind);
        Assert.Equal(PlaybackKind.Refused, PlaybackPath.Parse($"/vod/t/{new string('A', 129)}/v/index.m3u8").Kind);

        // The longest canonical path fits; past the limit, the bytes parser still tells refused from none.
        var longest = $"/live/t/{new string('A', 128)}/{new string('n', 64)}/{new string('d', 128)}/{new string('f', 128)}";
        Assert.Equal(PlaybackKind.Live, PlaybackPath.Parse(Encoding.ASCII.GetBytes(longest)).Kind);
        Assert.Equal(PlaybackKind.Refused, PlaybackPath.Parse(Encoding.ASCII.GetBytes("/live/" + new string('x', 1000))).Kind);
        Assert.Equal(PlaybackKind.None, PlaybackPath.Parse(Encoding.ASCII.GetBytes("/api/" + new string('x', 1000))).Kind);
    }

    [Theory]
    [InlineData("/live/cam/video.m3u8?_HLS_msn=3", "/live/cam/video.m3u8", "Live")]
    [InlineData("/vod/t/tok/v/index.m3u8", "/vod/t/tok/v/index.m3u8", "Vod")]
    // What Kestrel hands routing after decoding %74 and removing dot segments: the raw target decides.
    [InlineData("/vod/%74/tok/v/index.m3u8", "/vod/t/tok/v/index.m3u8", "Refused")]
    [InlineData("/%6Cive/cam/index.m3u8", "/live/cam/index.m3u8", "Refused")]
    [InlineData("/x/../live/cam/index.m3u8", "/live/cam/index.m3u8", "Refused")]
    [InlineData("/live/cam/../../api/v1/videos", "/api/v1/videos", "Refused")]
    [InlineData("http://h/live/cam/index.m3u8", "/live/cam/index.m3u8", "Refused")]
    [InlineData("/api/v1/videos?x=/live/", "/api/v1/videos", "None")]
    [InlineData("*", "", "None")]
    public void The_gate_reads_the_raw_target_and_the_decoded_path(string rawTarget, string decoded, string kind) =>
        Assert.Equal(Enum.Parse<PlaybackKind>(kind), Gate(rawTarget, decoded).Kind);

    /// <summary>A canonical path: live or VOD, with or without a token, a name and one or two file segments; and its parts.</summary>
    private static readonly Gen<(string Path, PlaybackKind Kind, string Token, string Name, string Tail)> Canonical = Gen.Select(
        Gen.Bool,
        Gen.Frequency((1, Gen.Const("")), (2, Gen.Char[NameAlphabet].Array[1, 128].Select(c => new string(c)))),
        Gen.Char[NameAlphabet].Array[1, 64].Select(c => new string(c)).Where(n => !n.Equals("t", StringComparison.OrdinalIgnoreCase)),
        FileName.Array[1, 2].Select(segments => string.Join('/', segments)),
        (live, token, name, rest) => (
            (live ? "/live/" : "/vod/") + (token.Length > 0 ? "t/" + token + "/" : "") + name + "/" + rest,
            live ? PlaybackKind.Live : PlaybackKind.Vod, token, name, rest));

    private static Gen<string> FileName =>
        Gen.Select(Gen.Char[NameAlphabet], Gen.Char[NameAlphabet + "."].Array[0, 40]).Select((first, more) => first + new string(more));

    [Fact]
    public void Every_component_classifies_every_spelling_as_the_parser_does()
    {
        var edgeCheck = new EdgePlaybackCheck(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StreamVerse:ControlPlane:Playback:SigningKey"] = Convert.ToBase64String(new byte[32]),
        }).Build(), TimeProvider.System);
        Canonical.SelectMany(c => PlaybackPathVariants.Of(c.Path, raw: true).Select(v => (c, v.Variant, v.Mutated))).Sample((c, variant, mutated) =>
        {
            var tokenised = c.Token.Length > 0;

            // The parser: the canonical path and its parts, and no playback path for any other spelling (refused, or none
            // when the mutation left no /live or /vod to recognise, e.g. "/%00live/..."); the same over bytes.
            var parsed = PlaybackPath.Parse(variant);
            if (mutated)
            {
                Assert.False(parsed.IsPlayback, parsed.Kind.ToString());
            }
            else
            {
                Assert.Equal(c.Kind, parsed.Kind);
                Assert.Equal(c.Token, variant[parsed.Token]);
                Assert.Equal(c.Name, variant[parsed.Name]);
                Assert.Equal(c.Tail, variant[parsed.Rest]);
            }

            var fromBytes = PlaybackPath.Parse(Encoding.Latin1.GetBytes(variant));
            Assert.Equal((parsed.Kind, parsed.Token, parsed.Name, parsed.Rest), (fromBytes.Kind, fromBytes.Token, fromBytes.Name, fromBytes.Rest));

            // The gate ahead of routing (origin and edge): the raw target as sent, decoded as is or into the canonical path
            // (what Kestrel's decoding and dot-segment removal could make of it).
            Assert.Equal(mutated ? PlaybackKind.Refused : c.Kind, Gate(variant, c.Path).Kind);
            if (variant.StartsWith('/'))
            {
                Assert.Equal(parsed.Kind, Gate(variant, variant).Kind);

                // Behind the gate, were it missing: the edge's cache key and token check, the token-lifetime rule.
                var context = new DefaultHttpContext();
                context.Request.Path = new PathString(variant);
                Assert.Equal(mutated ? null : variant, EdgeDelivery.Handler.CacheKey(context.Request, out _));
                var admits = edgeCheck.Admits(variant, null);
                Assert.True(mutated ? admits == false : tokenised ? admits is not null : admits is null, $"Admits: {admits}");
                Assert.Equal(mutated ? "" : c.Token, TokenPaths.TokenOf(variant).ToString());
            }

            // The fast lanes, after the request-head parser (which hands '%', dot and empty segments to Kestrel itself):
            // only a canonical untokenised path is answered there; anything else goes to the gate.
            var head = ReadHead(variant, out var path);
            Assert.True(head == HeadStatus.Parsed || mutated, "a canonical path is the lane's to answer");
            if (head == HeadStatus.Parsed)
            {
                Assert.Equal(!mutated && !tokenised, EdgeFastLaneRouter.Takes(path));
                Assert.Equal(!mutated && !tokenised && c.Kind == PlaybackKind.Live, LiveFastLaneRouter.Takes(path, out _));
            }
        }, iter: 20_000);
    }

    private static PlaybackPath Gate(string rawTarget, string decoded)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = decoded.Length == 0 ? PathString.Empty : new PathString(decoded);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        return PlaybackPath.Of(context);
    }

    private static HeadStatus ReadHead(string target, out byte[] path)
    {
        var bytes = Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n");
        var status = Http1RequestHead.TryRead(new ReadOnlySequence<byte>(bytes), new byte[Http1RequestHead.MaxHeadBytes], out var head, out _);
        path = status == HeadStatus.Parsed ? head.Path.ToArray() : [];
        return status;
    }
}
