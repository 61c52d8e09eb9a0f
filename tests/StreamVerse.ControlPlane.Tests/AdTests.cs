using System.Net.Http.Headers;
using System.Text.Json;
using System.Xml.Linq;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Ads through the API of the running daemon, on SQLite and PostgreSQL: the decision (highest CPM, deterministic tie-break,
/// targeting, frequency cap, budget and daily pacing), VAST 4.2 and VMAP 1.0 (also read by the independent vast-client and
/// @dailymotion/vmap parsers), signed tracking counted once, premium viewers without ads, cue points. Every campaign here
/// targets a tag of its own test's content video, so campaigns of other tests in the shared daemon never compete.
/// </summary>
public abstract class AdTests(ControlPlaneApp app)
{
    private static readonly XNamespace V = "http://www.iab.com/VAST";
    private static readonly XNamespace M = "http://www.iab.net/videosuite/vmap";

    private sealed record Setup(Persona Admin, Persona Owner, string Tag, string Content, string AdVideo, string Advertiser);

    private async Task SqlAsync(string sql, params (string, object?)[] args)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        await db.ExecAsync(sql, args, default);
    }

    /// <summary>A creator's public content video with a fresh tag, an advertiser account with a transcoded 15 s ad video, and its advertiser.</summary>
    private async Task<Setup> SetupAsync(double contentSeconds = 600)
    {
        var admin = await app.AdminAsync();
        var tag = "ad" + Guid.NewGuid().ToString("N")[..12];
        var owner = await app.NewUserAsync("creator");
        var content = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "public", tags: [tag], playable: true)).GetProperty("id").GetString()!;
        var brand = await app.NewUserAsync("creator");
        var adVideo = (await app.NewVideoAsync(brand, await app.NewChannelAsync(brand), "unlisted", playable: true)).GetProperty("id").GetString()!;
        await SqlAsync("UPDATE videos SET duration_seconds = @d WHERE id = @id", ("d", contentSeconds), ("id", content));
        await SqlAsync("UPDATE videos SET duration_seconds = 15 WHERE id = @id", ("id", adVideo));
        var advertiser = (await app.JsonAsync(HttpMethod.Post, "api/v1/ads/advertisers", admin.AccessToken, new { name = "Acme " + tag, accountId = brand.Id },
            HttpStatusCode.Created)).GetProperty("id").GetString()!;
        return new Setup(admin, owner, tag, content, adVideo, advertiser);
    }

    private async Task<(string Campaign, string Creative)> CampaignAsync(Setup s, long cpm, long budget = 1_000_000, long? daily = null, int? cap = null,
        object? targeting = null)
    {
        var campaign = (await app.JsonAsync(HttpMethod.Post, "api/v1/ads/campaigns", s.Admin.AccessToken, new
        {
            advertiserId = s.Advertiser, name = "spring " + cpm, currency = "EUR", budgetMinor = budget, cpmMinor = cpm, dailyBudgetMinor = daily,
            frequencyCap = cap, startsAt = DateTimeOffset.UtcNow.AddHours(-1), endsAt = DateTimeOffset.UtcNow.AddDays(2),
            targeting = targeting ?? new { tags = new[] { s.Tag } },
        }, HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var creative = (await app.JsonAsync(HttpMethod.Post, $"api/v1/ads/campaigns/{campaign}/creatives", s.Admin.AccessToken,
            new { videoId = s.AdVideo, clickThrough = "https://brand.example/landing?a=1&b=2", skipOffsetSeconds = 5 }, HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        return (campaign, creative);
    }

    private async Task<XDocument> VastAsync(string video, string? viewer = null, string? token = null, string brk = "pre", string? userAgent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/ads/vast?video={video}&break={brk}" + (viewer is null ? "" : "&viewer=" + viewer));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }

        using var response = await app.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        var doc = XDocument.Parse(text);
        Assert.Equal("4.2", doc.Root!.Attribute("version")?.Value);
        return doc;
    }

    private static string? CampaignOf(XDocument vast) => vast.Root!.Element(V + "Ad")?.Attribute("id")?.Value;

    private static string ImpressionUrl(XDocument vast) => vast.Descendants(V + "Impression").Single().Value;

    private static string TrackingUrl(XDocument vast, string e) => vast.Descendants(V + "Tracking").Single(t => t.Attribute("event")!.Value == e).Value;

    private async Task<HttpStatusCode> BeaconAsync(string url)
    {
        using var response = await app.Http.GetAsync(url);
        return response.StatusCode;
    }

    private Task<JsonElement> CampaignReportAsync(Setup s, string campaign) => app.JsonAsync(HttpMethod.Get, $"api/v1/ads/campaigns/{campaign}", s.Admin.AccessToken);

    private static long EventCount(JsonElement campaign, string e) =>
        campaign.GetProperty("events").TryGetProperty(e, out var n) ? n.GetInt64() : 0;

    private async Task<List<JsonElement>> ImpressionEventsAsync(string campaign)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        var payloads = await db.QueryAsync("SELECT payload FROM outbox WHERE type = 'ads.ad-impression-recorded.v1' AND subject_id = @c ORDER BY seq",
            [("c", campaign)], (r, _) => r.GetString(0), default);
        return payloads.ConvertAll(p => JsonDocument.Parse(p).RootElement.Clone());
    }

    [Fact]
    public async Task The_highest_bid_wins_ties_go_to_the_first_campaign_and_each_beacon_counts_once()
    {
        var s = await SetupAsync();
        await CampaignAsync(s, cpm: 1500);
        var (first, creative) = await CampaignAsync(s, cpm: 2500);
        await CampaignAsync(s, cpm: 2500);

        var vast = await VastAsync(s.Content, viewer: "tab-1");
        Assert.Equal(first, CampaignOf(vast));
        Assert.Equal(first, CampaignOf(await VastAsync(s.Content, viewer: "tab-2"))); // deterministic

        // VAST 4.2 InLine: AdServingId is the impression id; UniversalAdId, a streaming HLS MediaFile, six linear events, clicks, error.
        var inline = vast.Descendants(V + "InLine").Single();
        var servingId = inline.Element(V + "AdServingId")!.Value;
        Assert.Equal(servingId, inline.Element(V + "Impression")!.Attribute("id")!.Value);
        Assert.NotEqual(servingId, (await VastAsync(s.Content, viewer: "tab-1")).Descendants(V + "AdServingId").Single().Value);
        Assert.Equal(creative, vast.Descendants(V + "UniversalAdId").Single().Value);
        var linear = vast.Descendants(V + "Linear").Single();
        Assert.Equal("00:00:05.000", linear.Attribute("skipoffset")!.Value);
        Assert.Equal("00:00:15.000", linear.Element(V + "Duration")!.Value);
        var media = linear.Descendants(V + "MediaFile").Single();
        Assert.Equal(("streaming", "application/x-mpegURL"), (media.Attribute("delivery")!.Value, media.Attribute("type")!.Value));
        Assert.EndsWith($"/vod/{s.AdVideo}/index.m3u8", media.Value, StringComparison.Ordinal);
        Assert.Equal(["start", "firstQuartile", "midpoint", "thirdQuartile", "complete", "skip"],
            linear.Descendants(V + "Tracking").Select(t => t.Attribute("event")!.Value));
        Assert.Equal("https://brand.example/landing?a=1&b=2", linear.Descendants(V + "ClickThrough").Single().Value);
        Assert.Contains("event=click", linear.Descendants(V + "ClickTracking").Single().Value, StringComparison.Ordinal);
        Assert.EndsWith("&code=[ERRORCODE]", inline.Element(V + "Error")!.Value, StringComparison.Ordinal);

        // Beacons: 204 each time, counted once per (impression, event).
        Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(ImpressionUrl(vast)));
        Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(ImpressionUrl(vast)));
        Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(TrackingUrl(vast, "start")));
        Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(TrackingUrl(vast, "start")));

        // Forged: another event, another viewer or another impression under the same signature; or no signature.
        var start = TrackingUrl(vast, "start");
        Assert.Equal(HttpStatusCode.Forbidden, await BeaconAsync(start.Replace("event=start", "event=complete", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Forbidden, await BeaconAsync(ImpressionUrl(vast).Replace("viewer=", "viewer=x", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Forbidden, await BeaconAsync(ImpressionUrl(vast).Replace(servingId, "forged" + servingId[6..], StringComparison.Ordinal)));
        var unsigned = await app.JsonAsync(HttpMethod.Get, start[..start.IndexOf("&sig=", StringComparison.Ordinal)], expect: HttpStatusCode.BadRequest);
        Assert.True(unsigned.GetProperty("errors").TryGetProperty("sig", out _));

        var report = await CampaignReportAsync(s, first);
        Assert.Equal(1, report.GetProperty("impressions").GetInt64());
        Assert.Equal(2500, report.GetProperty("spendMilliMinor").GetInt64());
        Assert.Equal((1, 1, 0), (EventCount(report, "impression"), EventCount(report, "start"), EventCount(report, "complete")));

        // The impression's outbox event, once, with the exact charge and whose video carried the ad.
        var events = await ImpressionEventsAsync(first);
        var e = Assert.Single(events);
        Assert.Equal(servingId, e.GetProperty("impressionId").GetString());
        Assert.Equal((2500L, true, "EUR"), (e.GetProperty("costMilliMinor").GetInt64(), e.GetProperty("billable").GetBoolean(), e.GetProperty("currency").GetString()));
        Assert.Equal(s.Owner.Id, e.GetProperty("contentOwnerId").GetString());
        Assert.Equal(s.Content, e.GetProperty("videoId").GetString());
    }

    [Fact]
    public async Task A_frequency_cap_holds_per_viewer_and_a_viewer_without_an_id_gets_no_capped_campaign()
    {
        var s = await SetupAsync();
        var (capped, _) = await CampaignAsync(s, cpm: 3000, cap: 1);
        var (fallback, _) = await CampaignAsync(s, cpm: 1000);

        var vast = await VastAsync(s.Content, viewer: "tab-1");
        Assert.Equal(capped, CampaignOf(vast));
        Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(ImpressionUrl(vast)));
        Assert.Equal(fallback, CampaignOf(await VastAsync(s.Content, viewer: "tab-1")));
        Assert.Equal(capped, CampaignOf(await VastAsync(s.Content, viewer: "tab-2")));
        Assert.Equal(fallback, CampaignOf(await VastAsync(s.Content))); // the cap could not be kept

        // A signed-in viewer is the account, whatever tab id the player sends.
        var user = await app.NewUserAsync();
        var mine = await VastAsync(s.Content, viewer: "tab-a", token: user.AccessToken);
        Assert.Equal(capped, CampaignOf(mine));
        Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(ImpressionUrl(mine)));
        Assert.Equal(fallback, CampaignOf(await VastAsync(s.Content, viewer: "tab-b", token: user.AccessToken)));
        Assert.Equal(capped, CampaignOf(await VastAsync(s.Content, viewer: "tab-a"))); // the anonymous tab-a is someone else
    }

    [Fact]
    public async Task The_budget_is_never_overspent_and_spend_is_exact()
    {
        var s = await SetupAsync();
        // 3 minor units at 12.34 per mille: 2 impressions (2468 thousandths) fit, a third (3702) would not.
        var (campaign, _) = await CampaignAsync(s, cpm: 1234, budget: 3);
        var served = new List<XDocument>();
        for (var i = 0; i < 3; i++)
        {
            served.Add(await VastAsync(s.Content, viewer: "tab-" + i)); // all decided before any impression counts
        }

        Assert.All(served, v => Assert.Equal(campaign, CampaignOf(v)));
        foreach (var v in served)
        {
            Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(ImpressionUrl(v)));
        }

        var report = await CampaignReportAsync(s, campaign);
        Assert.Equal((2L, 2468L), (report.GetProperty("impressions").GetInt64(), report.GetProperty("spendMilliMinor").GetInt64()));
        Assert.Equal(3, EventCount(report, "impression")); // seen three times, charged twice
        Assert.Equal([1234L, 1234L, 0L], (await ImpressionEventsAsync(campaign)).Select(e => e.GetProperty("costMilliMinor").GetInt64()));
        Assert.Null(CampaignOf(await VastAsync(s.Content, viewer: "tab-9"))); // spent: nothing more is served
    }

    [Fact]
    public async Task Daily_pacing_stops_serving_for_the_day_once_the_daily_budget_is_spent()
    {
        var s = await SetupAsync();
        var (paced, _) = await CampaignAsync(s, cpm: 1000, daily: 2); // 2 impressions a day
        for (var i = 0; i < 2; i++)
        {
            var v = await VastAsync(s.Content, viewer: "tab-" + i);
            Assert.Equal(paced, CampaignOf(v));
            Assert.Equal(HttpStatusCode.NoContent, await BeaconAsync(ImpressionUrl(v)));
        }

        Assert.Null(CampaignOf(await VastAsync(s.Content, viewer: "tab-3")));

        // Paused is not served either; resumed it is, once its day has budget again (here: the next day's count).
        await SqlAsync("UPDATE ad_campaign_days SET day = '2000-01-01' WHERE campaign_id = @c", ("c", paced));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/ads/campaigns/{paced}/status", s.Admin.AccessToken, new { status = "paused" });
        Assert.Null(CampaignOf(await VastAsync(s.Content, viewer: "tab-3")));
        await app.JsonAsync(HttpMethod.Put, $"api/v1/ads/campaigns/{paced}/status", s.Admin.AccessToken, new { status = "active" });
        Assert.Equal(paced, CampaignOf(await VastAsync(s.Content, viewer: "tab-3")));
    }

    [Fact]
    public async Task Premium_viewers_get_no_ads_in_vast_vmap_or_the_interstitial_asset_list()
    {
        var s = await SetupAsync();
        await CampaignAsync(s, cpm: 2000);
        var premium = await app.NewUserAsync(premium: true);
        var regular = await app.NewUserAsync();

        Assert.Null(CampaignOf(await VastAsync(s.Content, token: premium.AccessToken)));
        Assert.NotNull(CampaignOf(await VastAsync(s.Content, token: regular.AccessToken)));

        Assert.Empty(XDocument.Parse(await GetTextAsync($"api/v1/ads/vmap?video={s.Content}", premium.AccessToken)).Descendants(M + "AdBreak"));
        Assert.NotEmpty(XDocument.Parse(await GetTextAsync($"api/v1/ads/vmap?video={s.Content}", regular.AccessToken)).Descendants(M + "AdBreak"));

        var none = await app.JsonAsync(HttpMethod.Get, $"api/v1/ads/asset-list?video={s.Content}&break=mid-30000", premium.AccessToken);
        Assert.Equal(0, none.GetProperty("ASSETS").GetArrayLength());
        var some = await app.JsonAsync(HttpMethod.Get, $"api/v1/ads/asset-list?video={s.Content}&break=mid-30000&viewer=tab-1");
        var asset = Assert.Single(some.GetProperty("ASSETS").EnumerateArray());
        Assert.EndsWith($"/vod/{s.AdVideo}/index.m3u8", asset.GetProperty("URI").GetString(), StringComparison.Ordinal);
        Assert.Equal(15, asset.GetProperty("DURATION").GetDouble());
    }

    [Fact]
    public async Task Members_of_the_videos_channel_get_no_ads_and_members_of_another_channel_do()
    {
        var s = await SetupAsync();
        await CampaignAsync(s, cpm: 2000);
        var member = await app.NewUserAsync();
        var elsewhere = await app.NewUserAsync();
        await using (var db = await app.Get<StreamVerse.ControlPlane.Data.Database>().OpenAsync(default))
        {
            var channel = await db.ScalarAsync<string>("SELECT channel_id FROM videos WHERE id = @v", [("v", s.Content)], default);
            var other = await app.NewChannelAsync(await app.NewUserAsync());

            // What a completed membership checkout leaves (PaymentTests walks it through the fake Stripe): an active subscription.
            foreach (var (user, ch) in new[] { (member.Id, channel), (elsewhere.Id, other) })
            {
                await db.ExecAsync(
                    """
                    INSERT INTO billing_subscriptions (processor, external_id, user_id, product, channel_id, status, current_period_end, state_at, updated_at)
                    VALUES ('stripe', @x, @u, 'membership', @ch, 'active', @end, 1, @now)
                    """,
                    [("x", "sub_" + user), ("u", user), ("ch", ch), ("end", DateTimeOffset.UtcNow.AddDays(30)), ("now", DateTimeOffset.UtcNow)], default);
            }
        }

        Assert.Null(CampaignOf(await VastAsync(s.Content, token: member.AccessToken)));
        Assert.Empty(XDocument.Parse(await GetTextAsync($"api/v1/ads/vmap?video={s.Content}", member.AccessToken)).Descendants(M + "AdBreak"));
        Assert.NotNull(CampaignOf(await VastAsync(s.Content, token: elsewhere.AccessToken)));
    }

    private async Task<string> GetTextAsync(string path, string? token = null)
    {
        using var response = await app.SendAsync(HttpMethod.Get, path, token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return text;
    }

    private async Task<List<(string Offset, string Id, string Tag)>> BreaksAsync(string video)
    {
        var vmap = XDocument.Parse(await GetTextAsync($"api/v1/ads/vmap?video={video}&viewer=tab-1"));
        Assert.Equal("1.0", vmap.Root!.Attribute("version")?.Value);
        return [.. vmap.Descendants(M + "AdBreak").Select(b => (b.Attribute("timeOffset")!.Value, b.Attribute("breakId")!.Value, b.Descendants(M + "AdTagURI").Single().Value))];
    }

    [Fact]
    public async Task The_vmap_schedule_follows_the_owners_cue_points_or_the_interval()
    {
        var s = await SetupAsync(contentSeconds: 1500);
        var breaks = await BreaksAsync(s.Content);
        Assert.Equal(["start", "00:10:00.000", "00:20:00.000", "end"], breaks.Select(b => b.Offset));
        Assert.Equal(["pre", "mid-600000", "mid-1200000", "post"], breaks.Select(b => b.Id));
        Assert.All(breaks, b => Assert.EndsWith($"/api/v1/ads/vast?video={s.Content}&viewer=tab-1&break={b.Id}", b.Tag, StringComparison.Ordinal));

        var set = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{s.Content}/ad-cue-points", s.Owner.AccessToken, new { offsetsSeconds = new[] { 90.5, 30, 30, 1600 } });
        Assert.Equal([30, 90.5, 1600], set.GetProperty("offsetsSeconds").EnumerateArray().Select(o => o.GetDouble()));
        Assert.Equal(["start", "00:00:30.000", "00:01:30.500", "end"], (await BreaksAsync(s.Content)).Select(b => b.Offset)); // 1600 s is past the end

        var other = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{s.Content}/ad-cue-points", other.AccessToken, new { offsetsSeconds = new[] { 10 } }, HttpStatusCode.Forbidden);
        var bad = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{s.Content}/ad-cue-points", s.Owner.AccessToken, new { offsetsSeconds = new[] { 0.5 } },
            HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("offsetsSeconds", out _));

        var cleared = await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{s.Content}/ad-cue-points", s.Owner.AccessToken, new { offsetsSeconds = Array.Empty<double>() });
        Assert.Equal(0, cleared.GetProperty("offsetsSeconds").GetArrayLength());
        Assert.Equal(4, (await BreaksAsync(s.Content)).Count); // back to the interval
    }

    [Fact]
    public async Task Targeting_matches_device_family_kind_and_language()
    {
        var s = await SetupAsync();
        var (mobile, _) = await CampaignAsync(s, cpm: 2000, targeting: new { tags = new[] { s.Tag }, device = "mobile", kind = "vod" });
        const string Desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        const string IPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        Assert.Null(CampaignOf(await VastAsync(s.Content, viewer: "t", userAgent: Desktop)));
        Assert.Equal(mobile, CampaignOf(await VastAsync(s.Content, viewer: "t", userAgent: IPhone)));

        var s2 = await SetupAsync();
        await CampaignAsync(s2, cpm: 2000, targeting: new { tags = new[] { s2.Tag }, kind = "live" });
        Assert.Null(CampaignOf(await VastAsync(s2.Content, viewer: "t")));

        var s3 = await SetupAsync();
        var (german, _) = await CampaignAsync(s3, cpm: 2000, targeting: new { tags = new[] { s3.Tag }, language = "de" });
        Assert.Null(CampaignOf(await VastAsync(s3.Content, viewer: "t")));
        await SqlAsync("UPDATE videos SET language = 'de' WHERE id = @id", ("id", s3.Content));
        Assert.Equal(german, CampaignOf(await VastAsync(s3.Content, viewer: "t")));
    }

    [Fact]
    public async Task Bad_campaigns_creatives_and_ad_requests_are_refused_naming_the_field()
    {
        var s = await SetupAsync();
        var bad = await app.JsonAsync(HttpMethod.Post, "api/v1/ads/campaigns", s.Admin.AccessToken, new
        {
            advertiserId = s.Advertiser, name = "x", currency = "eur", budgetMinor = 0, cpmMinor = 100, startsAt = DateTimeOffset.UtcNow,
            endsAt = DateTimeOffset.UtcNow.AddDays(-1), targeting = new { device = "watch" },
        }, HttpStatusCode.BadRequest);
        var errors = bad.GetProperty("errors");
        Assert.All(new[] { "currency", "budgetMinor", "endsAt", "targeting.device" }, f => Assert.True(errors.TryGetProperty(f, out _), f));

        var unknown = await app.JsonAsync(HttpMethod.Post, "api/v1/ads/campaigns", s.Admin.AccessToken, new
        {
            advertiserId = "nope", name = "x", currency = "EUR", budgetMinor = 10, cpmMinor = 100, startsAt = DateTimeOffset.UtcNow, endsAt = DateTimeOffset.UtcNow.AddDays(1),
        }, HttpStatusCode.BadRequest);
        Assert.True(unknown.GetProperty("errors").TryGetProperty("advertiserId", out _));

        var (campaign, _) = await CampaignAsync(s, cpm: 100);
        var notTheirs = await app.JsonAsync(HttpMethod.Post, $"api/v1/ads/campaigns/{campaign}/creatives", s.Admin.AccessToken,
            new { videoId = s.Content, clickThrough = "https://brand.example/" }, HttpStatusCode.BadRequest); // the creator's video, not the advertiser's
        Assert.True(notTheirs.GetProperty("errors").TryGetProperty("videoId", out _));
        var script = await app.JsonAsync(HttpMethod.Post, $"api/v1/ads/campaigns/{campaign}/creatives", s.Admin.AccessToken,
            new { videoId = s.AdVideo, clickThrough = "javascript:alert(1)" }, HttpStatusCode.BadRequest);
        Assert.True(script.GetProperty("errors").TryGetProperty("clickThrough", out _));

        var brk = await app.JsonAsync(HttpMethod.Get, $"api/v1/ads/vast?video={s.Content}&break=middle", expect: HttpStatusCode.BadRequest);
        Assert.True(brk.GetProperty("errors").TryGetProperty("break", out _));
        var ip = await app.JsonAsync(HttpMethod.Get, $"api/v1/ads/vast?video={s.Content}&ip=1.2.3.4", expect: HttpStatusCode.BadRequest);
        Assert.True(ip.GetProperty("errors").TryGetProperty("ip", out _));

        var hidden = (await app.NewVideoAsync(s.Owner, await app.NewChannelAsync(s.Owner), "private", playable: true)).GetProperty("id").GetString()!;
        await app.JsonAsync(HttpMethod.Get, $"api/v1/ads/vast?video={hidden}", expect: HttpStatusCode.NotFound);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/ads/vmap?video={hidden}", expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Vast_and_vmap_parse_in_vast_client_and_the_beacons_it_parsed_count_once()
    {
        var s = await SetupAsync(contentSeconds: 300);
        var (campaign, creative) = await CampaignAsync(s, cpm: 999);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/videos/{s.Content}/ad-cue-points", s.Owner.AccessToken, new { offsetsSeconds = new[] { 60 } });

        var run = TestProcesses.Run(TimeSpan.FromMinutes(2), "node", Path.Combine(TestProcesses.RepoRoot, "tests", "browser", "vast-check.mjs"),
            $"{app.BaseUrl}/api/v1/ads/vmap?video={s.Content}&viewer=tab-vc");
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        var result = JsonDocument.Parse(run.StdOut).RootElement;

        var breaks = result.GetProperty("breaks").EnumerateArray().ToList();
        Assert.Equal(["start", "00:01:00.000", "end"], breaks.Select(b => b.GetProperty("timeOffset").GetString()));
        Assert.Equal(["pre", "mid-60000", "post"], breaks.Select(b => b.GetProperty("breakId").GetString()));
        var ads = breaks.Select(b => Assert.Single(b.GetProperty("ads").EnumerateArray())).ToList();
        Assert.All(breaks, b => Assert.Equal("4.2", b.GetProperty("version").GetString()));
        Assert.Equal(3, ads.Select(a => a.GetProperty("adServingId").GetString()).Distinct().Count());
        var ad = ads[0];
        Assert.Equal(campaign, ad.GetProperty("id").GetString());
        Assert.Equal(creative, ad.GetProperty("universalAdId").GetString());
        Assert.Equal(15, ad.GetProperty("duration").GetDouble());
        Assert.Equal(5, ad.GetProperty("skipDelay").GetDouble());
        var media = Assert.Single(ad.GetProperty("mediaFiles").EnumerateArray());
        Assert.EndsWith($"/vod/{s.AdVideo}/index.m3u8", media.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal("application/x-mpegURL", media.GetProperty("type").GetString());
        var tracking = ad.GetProperty("tracking");
        Assert.All(new[] { "start", "firstQuartile", "midpoint", "thirdQuartile", "complete", "skip" }, e => Assert.True(tracking.TryGetProperty(e, out _), e));
        Assert.Equal("https://brand.example/landing?a=1&b=2", ad.GetProperty("clickThrough").GetString());

        // Every beacon as vast-client parsed it: accepted twice, counted once.
        var fired = result.GetProperty("fired").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(x => x.GetInt32()).ToArray());
        string[] all = ["impression", "click", "error", "start", "firstQuartile", "midpoint", "thirdQuartile", "complete", "skip"];
        Assert.Equal(all.Order(), fired.Keys.Order());
        Assert.All(fired.Values, statuses => Assert.Equal([204, 204], statuses));
        var report = await CampaignReportAsync(s, campaign);
        Assert.All(all, e => Assert.Equal(1, EventCount(report, e)));
        Assert.Equal((1L, 999L), (report.GetProperty("impressions").GetInt64(), report.GetProperty("spendMilliMinor").GetInt64()));

        await using var db = await app.Get<Database>().OpenAsync(default);
        Assert.Equal(405L, await db.ScalarAsync<long?>("SELECT error_code FROM ad_tracking_events WHERE impression_id = @i AND event = 'error'",
            [("i", ad.GetProperty("adServingId").GetString())], default));
    }
}

[Collection("sqlite")]
public sealed class AdTestsSqlite(SqliteApp app) : AdTests(app);

[Collection("postgres")]
public sealed class AdTestsPostgres(PostgresApp app) : AdTests(app);
