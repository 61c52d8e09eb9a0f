using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.Functional.Tests.Infrastructure;
using StreamVerse.Tests.Shared.Playback;

namespace StreamVerse.Functional.Tests.Edge;

/// <summary>
/// One origin (its playback key generated into <c>DATA/keys/playback.key</c>) with a recorded live stream and a private
/// VOD video, and three edges: one given the key file's content as <c>Playback:SigningKey</c>, one without a key, one
/// with another key. Requests go over raw sockets, so the daemons see the exact request targets (an HttpClient would
/// normalise dot segments and some percent-encodings away).
/// </summary>
public sealed class PlaybackPathFixture : IAsyncLifetime
{
    private const string Key = "path-fixture-stream-key-0123";

    public Daemon Origin { get; private set; } = null!;

    /// <summary>Configured with the origin's key file's content.</summary>
    public Daemon Edge { get; private set; } = null!;

    public Daemon KeylessEdge { get; private set; } = null!;

    public Daemon WrongKeyEdge { get; private set; } = null!;

    public Daemon[] All => [Origin, Edge, KeylessEdge, WrongKeyEdge];

    /// <summary>The origin's playback key as its key file holds it (base64).</summary>
    public string KeyFileText { get; private set; } = "";

    internal PlaybackTokens Tokens { get; private set; } = null!;

    /// <summary>A media segment of the ended live stream <c>cam</c>: <c>SESSION/video_N.m4s</c>.</summary>
    public string LiveSegment { get; private set; } = "";

    public string VideoId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Origin = await Daemon.StartAsync([.. VodPresentations.OriginArgs, "--stream", $"cam={Key}"]);
        using (var publisher = Publishers.Ffmpeg(Origin.RtmpUrl(Key), seconds: 4))
        {
            Assert.True(await publisher.WaitAsync(TimeSpan.FromSeconds(60)) == 0, publisher.Stderr);
        }

        var playlist = await Publishers.WaitForAsync(Origin.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(20));
        LiveSegment = playlist.Split('\n').First(l => l.EndsWith(".m4s", StringComparison.Ordinal) && !l.StartsWith('#')).Trim();
        (VideoId, _) = await VodPresentations.PublishAsync(Origin, "private");

        // The key file exists once the origin checked a token (the playback key is made on first use).
        using (await Origin.Http.GetAsync($"vod/t/AAAA/{VideoId}/index.m3u8"))
        {
        }

        KeyFileText = (await File.ReadAllTextAsync(Path.Combine(Origin.DataDir, "keys", "playback.key"))).Trim();
        Tokens = new PlaybackTokens(Convert.FromBase64String(KeyFileText));
        Edge = await Daemon.StartAsync(["--upstream", Origin.BaseUrl, "--StreamVerse:ControlPlane:Playback:SigningKey", KeyFileText]);
        KeylessEdge = await Daemon.StartAsync(["--upstream", Origin.BaseUrl]);
        WrongKeyEdge = await Daemon.StartAsync(["--upstream", Origin.BaseUrl,
            "--StreamVerse:ControlPlane:Playback:SigningKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))]);
    }

    public async Task DisposeAsync()
    {
        foreach (var daemon in new[] { Edge, KeylessEdge, WrongKeyEdge, Origin })
        {
            if (daemon is not null)
            {
                await daemon.DisposeAsync();
            }
        }
    }

    /// <summary>A token for <paramref name="video"/> valid for <paramref name="life"/>, and its expiry (unix seconds).</summary>
    public (string Token, long Expires) Issue(string video, TimeSpan life)
    {
        var expires = DateTimeOffset.UtcNow + life;
        return (Tokens.Issue(video, expires, viewerId: null, clientIp: null), expires.ToUnixTimeSeconds());
    }
}

/// <summary>
/// Issue 15, finding 2: the playback-path prefix was read case-sensitively by the edge and the cache-lifetime rule but
/// case-insensitively by the origin's routes, so <c>/vod/T/{token}/...</c> was checked as tokenised at the origin and
/// cached as public (immutable for a year) at the edge. Every spelling but the canonical one is now refused everywhere.
/// Finding 5: an edge given the origin's key file's content verifies its tokens.
/// </summary>
public sealed partial class PlaybackPathEdgeTests(PlaybackPathFixture fixture) : IClassFixture<PlaybackPathFixture>
{
    [Fact]
    public async Task Every_other_spelling_of_a_playback_path_is_refused_by_the_origin_and_every_edge()
    {
        var (live, liveExpires) = fixture.Issue("cam", TimeSpan.FromMinutes(10));
        var (vod, vodExpires) = fixture.Issue(fixture.VideoId, TimeSpan.FromMinutes(10));
        var id = fixture.VideoId;
        (string Path, long Expires, bool Public)[] canonical =
        [
            ($"/live/t/{live}/cam/{fixture.LiveSegment}", liveExpires, false),
            ($"/live/t/{live}/cam/video.m3u8", liveExpires, false),
            ($"/vod/t/{vod}/{id}/v1/360p_1.m4s", vodExpires, false),
            ($"/vod/t/{vod}/{id}/index.m3u8", vodExpires, false),
            ($"/vod/t/{vod}/{id}/v1/360p_init.mp4", vodExpires, false),
            ($"/live/cam/{fixture.LiveSegment}", 0, true),
            ($"/vod/{id}/v1/360p_1.m4s", 0, false),
        ];

        var gen = Gen.Int[0, canonical.Length - 1].SelectMany(i => PlaybackPathVariants.Of(canonical[i].Path).Select(v => (i, v.Variant, v.Mutated)));
        await gen.SampleAsync(async (i, variant, mutated) =>
        {
            var (path, expires, isPublic) = canonical[i];
            var tokenised = expires > 0;
            foreach (var daemon in fixture.All)
            {
                var answer = await RawGetAsync(daemon.HttpPort, variant);
                var who = $"{Name(daemon)} {variant}: {answer.Status} {answer.CacheControl}";
                if (mutated)
                {
                    // Refused before any routing, token check or cache lookup: never served, never 403 (a token check ran).
                    Assert.True(answer.Status is 400 or 404, who);
                    continue;
                }

                var expected = isPublic ? 200
                    : !tokenised ? 403
                    : daemon == fixture.Origin || daemon == fixture.Edge ? 200
                    : 403;
                Assert.True(answer.Status == expected, who);
                if (answer.Status == 200 && tokenised)
                {
                    AssertBoundedBy(answer.CacheControl, expires, who);
                }
            }
        }, iter: 120, threads: 1);
    }

    [Fact]
    public async Task A_tokenised_path_in_another_spelling_is_never_cached_as_untokenised_nor_served_after_its_token_expired()
    {
        var id = fixture.VideoId;
        var (token, expires) = fixture.Issue(id, TimeSpan.FromSeconds(5));
        var (liveToken, _) = fixture.Issue("cam", TimeSpan.FromSeconds(5));
        string[] variants =
        [
            $"/vod/T/{token}/{id}/v1/360p_1.m4s",
            $"/VOD/t/{token}/{id}/v1/360p_init.mp4",
            $"/vod/T/{token}/{id}/index.m3u8",
            $"/LIVE/t/{liveToken}/cam/{fixture.LiveSegment}",
            $"/live/T/{liveToken}/cam/{fixture.LiveSegment}",
            $"/Live/t/{liveToken}/cam/video.m3u8",
        ];

        // The canonical path, at once: served through the edge with the key, cached no longer than the token lives.
        var canonical = $"/vod/t/{token}/{id}/v1/360p_1.m4s";
        var first = await RawGetAsync(fixture.Edge.HttpPort, canonical);
        Assert.Equal(200, first.Status);
        AssertBoundedBy(first.CacheControl, expires, canonical);

        // While the token is valid: the origin refuses each spelling (it used to answer max-age=31536000, immutable),
        // and so does every edge (they used to fetch it as an untokenised path and keep it).
        foreach (var variant in variants)
        {
            foreach (var daemon in fixture.All)
            {
                var answer = await RawGetAsync(daemon.HttpPort, variant);
                Assert.True(answer.Status == 404, $"{Name(daemon)} {variant}: {answer.Status} {answer.CacheControl}");
                Assert.DoesNotContain("31536000", answer.CacheControl, StringComparison.Ordinal);
            }
        }

        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() <= expires)
        {
            await Task.Delay(250);
        }

        foreach (var variant in variants.Append(canonical))
        {
            foreach (var daemon in fixture.All)
            {
                var answer = await RawGetAsync(daemon.HttpPort, variant);
                Assert.True(answer.Status is 403 or 404, $"after expiry, {Name(daemon)} {variant}: {answer.Status} {answer.XCache}");
            }
        }
    }

    [Fact]
    public async Task An_edge_given_the_origins_key_file_verifies_its_tokens_and_one_with_another_key_refuses_them()
    {
        var (token, _) = fixture.Issue(fixture.VideoId, TimeSpan.FromMinutes(5));
        var path = $"/vod/t/{token}/{fixture.VideoId}/index.m3u8";
        Assert.Equal(200, (await RawGetAsync(fixture.Edge.HttpPort, path)).Status);
        Assert.Equal(403, (await RawGetAsync(fixture.WrongKeyEdge.HttpPort, path)).Status);
        Assert.Equal(403, (await RawGetAsync(fixture.KeylessEdge.HttpPort, path)).Status);
    }

    private string Name(Daemon daemon) =>
        daemon == fixture.Origin ? "origin" : daemon == fixture.Edge ? "edge" : daemon == fixture.KeylessEdge ? "keyless edge" : "wrong-key edge";

    /// <summary>Every lifetime <paramref name="cacheControl"/> grants ends by <paramref name="expires"/> (a second of slack for the clock's tick).</summary>
    private static void AssertBoundedBy(string cacheControl, long expires, string what)
    {
        var remaining = expires - DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1;
        foreach (Match m in Lifetime().Matches(cacheControl))
        {
            Assert.True(long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) <= remaining, $"{what}: {cacheControl} outlives the token ({remaining} s)");
        }

        Assert.Matches("max-age=", cacheControl);
    }

    [GeneratedRegex(@"(?:max-age|s-maxage|stale-while-revalidate|stale-if-error)=(\d+)")]
    private static partial Regex Lifetime();

    private readonly record struct RawAnswer(int Status, string CacheControl, string XCache);

    /// <summary>GET <paramref name="target"/> exactly as given (HTTP/1.1, Connection: close); the status and two headers.</summary>
    private static async Task<RawAnswer> RawGetAsync(int port, string target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        using var response = new MemoryStream();
        await stream.CopyToAsync(response);
        var text = Encoding.ASCII.GetString(response.GetBuffer(), 0, (int)response.Length);
        var head = text[..Math.Max(0, text.IndexOf("\r\n\r\n", StringComparison.Ordinal))];
        var lines = head.Split("\r\n");
        Assert.True(lines[0].StartsWith("HTTP/1.1 ", StringComparison.Ordinal), $"{target}: {lines[0]}");
        string Header(string name) => lines.Skip(1).Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault() ?? "";
        return new RawAnswer(int.Parse(lines[0].AsSpan(9, 3), CultureInfo.InvariantCulture), Header("Cache-Control"), Header("X-Cache"));
    }
}
