using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Limits;

public sealed class LimitsUnitTests
{
    [Theory]
    [InlineData("", PlaylistCompression.Encoding.Identity)]
    [InlineData("gzip", PlaylistCompression.Encoding.Gzip)]
    [InlineData("gzip, deflate, br", PlaylistCompression.Encoding.Brotli)]
    [InlineData("br;q=0, gzip", PlaylistCompression.Encoding.Gzip)]
    [InlineData("br;q=0.0,gzip;q=0", PlaylistCompression.Encoding.Identity)]
    [InlineData("identity", PlaylistCompression.Encoding.Identity)]
    [InlineData("BR;q=0.5", PlaylistCompression.Encoding.Brotli)]
    public void Accept_encoding_negotiation(string header, object expected) =>
        Assert.Equal((PlaylistCompression.Encoding)expected, PlaylistCompression.Negotiate(header));

    [Fact]
    public void A_playlist_is_compressed_once_per_object_and_round_trips()
    {
        var text = string.Concat(Enumerable.Range(0, 50).Select(i => $"#EXTINF:2.000,\nvideo_{i}.m4s\n"));
        var obj = new StoredObject(Encoding.ASCII.GetBytes(text), "\"abc\"", "application/vnd.apple.mpegurl");
        var context = new DefaultHttpContext();
        context.Request.Headers.AcceptEncoding = "gzip, br";

        var first = PlaylistCompression.Select(context.Request, obj, out var encoding);
        var second = PlaylistCompression.Select(context.Request, obj, out _);
        Assert.Equal("br", encoding);
        Assert.Same(first, second);
        Assert.Equal("\"abc-br\"", first.ETag);
        Assert.True(first.Length < obj.Length / 3);
        using var br = new BrotliStream(new MemoryStream(first.Chunks[0].ToArray()), CompressionMode.Decompress);
        Assert.Equal(text, new StreamReader(br).ReadToEnd());

        context.Request.Headers.AcceptEncoding = "gzip";
        var gz = PlaylistCompression.Select(context.Request, obj, out encoding);
        Assert.Equal("gzip", encoding);
        using var gunzip = new GZipStream(new MemoryStream(gz.Chunks[0].ToArray()), CompressionMode.Decompress);
        Assert.Equal(text, new StreamReader(gunzip).ReadToEnd());

        var small = new StoredObject(new byte[100], "\"s\"", "application/vnd.apple.mpegurl");
        Assert.Same(small, PlaylistCompression.Select(context.Request, small, out encoding));
        Assert.Null(encoding);
    }

    [Fact]
    public async Task Pacer_holds_a_connection_to_its_rate()
    {
        var pacer = new BandwidthPacer(200_000, TimeProvider.System);
        Assert.Equal(10_000, pacer.ChunkSize);
        var watch = Stopwatch.StartNew();
        for (var sent = 0; sent < 100_000; sent += pacer.ChunkSize)
        {
            await pacer.PaceAsync(pacer.ChunkSize, CancellationToken.None);
        }

        // 100 kB at 200 kB/s: 0.5 s less the 50 ms slack.
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.40, 3.0);
    }

    [Fact]
    public async Task Idle_time_earns_no_burst()
    {
        var pacer = new BandwidthPacer(100_000, TimeProvider.System);
        await Task.Delay(300);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            await pacer.PaceAsync(10_000, CancellationToken.None);
        }

        Assert.True(watch.Elapsed.TotalSeconds >= 0.35, $"50 kB at 100 kB/s after idling took {watch.Elapsed}");
    }

    [Fact]
    public void Default_tier_must_name_a_tier()
    {
        var options = new LimitsOptions { DefaultTier = "gold" };
        options.BandwidthTiers["free"] = 1000;
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("StreamVerse:Limits:DefaultTier", StringComparison.Ordinal));

        options.DefaultTier = "free";
        options.BandwidthTiers["bad"] = -1;
        results.Clear();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("BandwidthTiers:bad", StringComparison.Ordinal));
    }

    [Fact]
    public void Premium_tier_must_name_a_tier()
    {
        var options = new LimitsOptions { PremiumTier = "gold" };
        options.BandwidthTiers["free"] = 1000;
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("StreamVerse:Limits:PremiumTier 'gold'", StringComparison.Ordinal));

        options.PremiumTier = "free";
        results.Clear();
        Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
    }

    private static readonly PlaybackTokens Tokens = new(Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef"));

    private static HttpContext Request(string path) => new DefaultHttpContext { Request = { Path = path } };

    private static DeliveryLimits Limits(string defaultTier, string premiumTier)
    {
        var options = new LimitsOptions { DefaultTier = defaultTier, PremiumTier = premiumTier };
        options.BandwidthTiers["free"] = 100_000;
        options.BandwidthTiers["premium"] = 0;
        options.BandwidthTiers["capped-premium"] = 500_000;
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        return new DeliveryLimits(wrapped, new ViewerTierSelector(wrapped), TimeProvider.System);
    }

    [Fact]
    public void A_premium_token_picks_the_premium_tier_anything_else_the_default()
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(5);
        var premium = Tokens.Issue("vid_1", expires, "viewer", null, premium: true);
        var plain = Tokens.Issue("vid_1", expires, "viewer", null);
        var bound = Tokens.Issue("vid_1", expires, "viewer", System.Net.IPAddress.Loopback, premium: true);
        var selector = new ViewerTierSelector(Microsoft.Extensions.Options.Options.Create(new LimitsOptions { DefaultTier = "free", PremiumTier = "premium" }));

        Assert.Equal("premium", selector.SelectTier(Request($"/live/t/{premium}/vid_1/index.m3u8")));
        Assert.Equal("premium", selector.SelectTier(Request($"/vod/t/{premium}/vid_1/v1/360p_1.m4s")));
        Assert.Equal("premium", selector.SelectTier(Request($"/vod/t/{bound}/vid_1/v1/360p_1.m4s")));
        Assert.Equal("free", selector.SelectTier(Request($"/live/t/{plain}/vid_1/index.m3u8")));
        Assert.Equal("free", selector.SelectTier(Request("/live/vid_1/index.m3u8")));
        Assert.Equal("free", selector.SelectTier(Request($"/live/{premium}/vid_1/index.m3u8")));
        Assert.Equal("free", selector.SelectTier(Request("/live/t/")));
        Assert.Equal("free", selector.SelectTier(Request("/vod/t/!!/x")));

        // No premium tier configured: premium viewers play at the default tier like everyone.
        var flat = new ViewerTierSelector(Microsoft.Extensions.Options.Options.Create(new LimitsOptions { DefaultTier = "free" }));
        Assert.Equal("free", flat.SelectTier(Request($"/live/t/{premium}/vid_1/index.m3u8")));
    }

    [Fact]
    public void The_pacer_follows_the_tier_and_the_fast_lane_only_needs_the_default_uncapped()
    {
        var premium = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), null, null, premium: true);
        var capped = Limits("free", "premium");
        Assert.NotNull(capped.PacerFor(Request("/vod/vid_1/v1/360p_1.m4s")));
        Assert.Null(capped.PacerFor(Request($"/vod/t/{premium}/vid_1/v1/360p_1.m4s")));
        Assert.False(capped.PlainRequestsNeverPaced);

        // Only premium viewers capped: requests without a token (all the fast lane answers) are never paced.
        var premiumCapped = Limits("", "capped-premium");
        Assert.True(premiumCapped.PlainRequestsNeverPaced);
        Assert.Null(premiumCapped.PacerFor(Request("/live/vid_1/index.m3u8")));
        Assert.NotNull(premiumCapped.PacerFor(Request($"/live/t/{premium}/vid_1/index.m3u8")));
        Assert.True(Limits("", "").PlainRequestsNeverPaced);
    }

    [Fact]
    public void Picking_the_tier_allocates_nothing()
    {
        var premium = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), "viewer-123", null, premium: true);
        var limits = Limits("free", "premium");
        var context = Request($"/vod/t/{premium}/vid_1/v1/360p_1.m4s");
        Assert.Null(limits.PacerFor(context));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            limits.PacerFor(context);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("public, max-age=31536000, immutable", 300, "public, max-age=300, immutable")]
    [InlineData("public, max-age=5, stale-if-error=86400", 100, "public, max-age=5, stale-if-error=100")]
    [InlineData("public, max-age=1", 0, "public, max-age=0")]
    [InlineData("no-cache", 300, "no-cache")]
    public void Tokenised_answers_are_cached_no_longer_than_the_token_lives(string cacheControl, long remaining, string expected) =>
        Assert.Equal(expected, TokenPaths.Bound(cacheControl, remaining));

    [Fact]
    public void Only_tokenised_paths_have_their_caching_bounded()
    {
        var token = Tokens.Issue("vid_1", DateTimeOffset.UtcNow.AddMinutes(5), null, null);
        var bounded = TokenPaths.CacheControl(Request($"/vod/t/{token}/vid_1/v1/360p_1.m4s"), "public, max-age=31536000, immutable", TimeProvider.System);
        Assert.Matches("^public, max-age=(29[0-9]|300), immutable$", bounded);
        const string plain = "public, max-age=31536000, immutable";
        Assert.Same(plain, TokenPaths.CacheControl(Request("/vod/vid_1/v1/360p_1.m4s"), plain, TimeProvider.System));
    }
}
