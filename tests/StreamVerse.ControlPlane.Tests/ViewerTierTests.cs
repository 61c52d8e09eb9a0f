using System.Diagnostics;
using System.Security.Cryptography;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>A daemon whose viewers without a premium plan are capped at 200 kB/s and premium viewers uncapped.</summary>
public sealed class TieredApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:Limits:BandwidthTiers:cp-free", "200000",
        "--StreamVerse:Limits:BandwidthTiers:cp-premium", "0",
        "--StreamVerse:Limits:DefaultTier", "cp-free",
        "--StreamVerse:Limits:PremiumTier", "cp-premium",
    ];
}

/// <summary>
/// The viewer's plan picks the bandwidth tier: the token the API issues to a premium account plays uncapped, a plain
/// account's token and an untokenised URL play at the default tier, and the flag cannot be forged onto a token.
/// Through the real daemon: the API issues the tokens, VOD delivery paces (or not) a stored segment.
/// </summary>
public sealed class ViewerTierTests(TieredApp app) : IClassFixture<TieredApp>
{
    private const int SegmentBytes = 300_000;

    [Fact]
    public async Task A_premium_accounts_token_plays_at_the_premium_tier_others_at_the_default()
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public")).GetProperty("id").GetString()!;
        var segment = RandomNumberGenerator.GetBytes(SegmentBytes);
        var file = Path.Combine(app.DataDir, "tier-segment.m4s");
        await File.WriteAllBytesAsync(file, segment);
        await app.Get<IBlobStorage>().PutFileAsync($"vod/{id}/v1/360p_1.m4s", file, MediaContentTypes.Of("360p_1.m4s"), CancellationToken.None);
        await using (var db = await app.Get<Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("UPDATE videos SET vod_prefix = @p, status = 'ready' WHERE id = @id", [("p", $"vod/{id}/v1"), ("id", id)], CancellationToken.None);
        }

        app.Get<VodCatalog>().Invalidate(id);

        var plainToken = await TokenAsync(await app.NewUserAsync(), id);
        var premiumToken = await TokenAsync(await app.NewUserAsync(premium: true), id);

        // Plain URL and a plain account's token: 300 kB at 200 kB/s, at least ~1.4 s (less the pacer's 50 ms slack).
        var free = await TierCountAsync("cp-free");
        var plainUrl = await TimedGetAsync($"vod/{id}/v1/360p_1.m4s", segment);
        var plainTokenTime = await TimedGetAsync($"vod/t/{plainToken}/{id}/v1/360p_1.m4s", segment);
        Assert.InRange(plainUrl.TotalSeconds, 1.3, 30);
        Assert.InRange(plainTokenTime.TotalSeconds, 1.3, 30);
        Assert.Equal(free + 2, await TierCountAsync("cp-free"));

        // The premium account's token: the premium tier, which is uncapped.
        var premium = await TierCountAsync("cp-premium");
        var premiumTime = await TimedGetAsync($"vod/t/{premiumToken}/{id}/v1/360p_1.m4s", segment);
        Assert.Equal(premium + 1, await TierCountAsync("cp-premium"));
        Assert.Equal(free + 2, await TierCountAsync("cp-free"));
        Assert.True(premiumTime < plainTokenTime / 2, $"premium {premiumTime}, plain {plainTokenTime}");

        // The flag set on the plain account's token: refused, counted under no tier.
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(plainToken);
        bytes[1] |= 2;
        using (var forged = await app.Http.GetAsync($"vod/t/{System.Buffers.Text.Base64Url.EncodeToString(bytes)}/{id}/v1/360p_1.m4s"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        }

        Assert.Equal(premium + 1, await TierCountAsync("cp-premium"));
    }

    private async Task<string> TokenAsync(Persona viewer, string id) =>
        (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{id}/playback-token", viewer.AccessToken, new { })).GetProperty("token").GetString()!;

    private async Task<TimeSpan> TimedGetAsync(string url, byte[] expected)
    {
        var watch = Stopwatch.StartNew();
        var body = await app.Http.GetByteArrayAsync(url);
        watch.Stop();
        Assert.Equal(expected, body);
        return watch.Elapsed;
    }

    private async Task<double> TierCountAsync(string tier)
    {
        var series = $"streamverse_http_tier_requests_total{{tier=\"{tier}\"}}";
        var line = (await app.Http.GetStringAsync("metrics")).Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
