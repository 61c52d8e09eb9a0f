using StreamVerse.ControlPlane.Analytics;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Beacons in, metrics out, through the real daemon and the real store: the same facts on DuckDB and on ClickHouse. Each
/// test has videos of its own, so the shared daemon's other tests do not disturb its numbers.
/// </summary>
public abstract class AnalyticsTests(AnalyticsApp app)
{
    /// <summary>
    /// This test's own browser: the flood rule keys on address and user agent, and every test of the shared daemon comes from
    /// 127.0.0.1, so each test (a new instance) has a user agent of its own.
    /// </summary>
    private readonly string _userAgent = "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36 sv-test/" + Guid.NewGuid().ToString("N");

    private static string Session() => "tab-" + Guid.NewGuid().ToString("N");

    private async Task<(Persona Owner, string Channel, string Video)> VideoAsync(double? durationSeconds = null)
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;
        if (durationSeconds is { } d)
        {
            await using var db = await app.Get<StreamVerse.ControlPlane.Data.Database>().OpenAsync(default);
            await db.ExecAsync("UPDATE videos SET duration_seconds = @d WHERE id = @id", [("d", d), ("id", video)], default);
        }

        return (owner, channel, video);
    }

    /// <summary>A heartbeat as the beacon script sends it (every beacon of a page view carries its traffic source).</summary>
    private static object Heartbeat(string session, string video, params double[][] ranges) => Heartbeat(session, video, null, ranges);

    private static object Heartbeat(string session, string video, string? source, params double[][] ranges) =>
        new { session, videoId = video, source, events = new object[] { new { type = "heartbeat", ranges, bitrate = 800 } } };

    private async Task SendAsync(object beacon, string? token = null, string? userAgent = null)
    {
        using var r = await app.BeaconAsync(beacon, token, userAgent: userAgent ?? _userAgent);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    private static double Watch(JsonElement a) => a.GetProperty("watchTimeSeconds").GetDouble();

    private static long Views(JsonElement a) => a.GetProperty("views").GetInt64();

    [Fact]
    public async Task A_view_counts_after_ten_seconds_played_and_once_per_viewer_within_the_hour()
    {
        var (owner, _, video) = await VideoAsync();
        var tab = Session();
        await SendAsync(new
        {
            session = tab, videoId = video, source = "search",
            events = new object[] { new { type = "load" }, new { type = "start", startupMs = 420 }, new { type = "heartbeat", ranges = new[] { new[] { 0.0, 6.0 } }, bitrate = 800 } },
        });
        var a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 6);
        Assert.Equal(0, Views(a));

        await SendAsync(Heartbeat(tab, video, "search", [6.0, 12.0]));
        a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 12);
        Assert.Equal(1, Views(a));

        // A replay from the start within the hour adds watch time, not a view.
        await SendAsync(Heartbeat(tab, video, [0.0, 12.0]));
        a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 24);
        Assert.Equal(1, Views(a));
        Assert.Equal(1, a.GetProperty("uniqueViewers").GetInt64());
        Assert.Equal(420, a.GetProperty("qoe").GetProperty("startupP50Ms").GetDouble());
        Assert.Equal(0, a.GetProperty("qoe").GetProperty("exitsBeforeStart").GetInt64());
        Assert.Equal(800, a.GetProperty("qoe").GetProperty("timeWeightedBitrateKbps").GetDouble());
        Assert.Equal("search", a.GetProperty("trafficSources")[0].GetProperty("name").GetString());
        Assert.Equal("Chrome", a.GetProperty("browsers")[0].GetProperty("name").GetString());

        // The video's view_count column is fed from the counted views ("most viewed").
        var shown = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}", owner.AccessToken);
        Assert.Equal(1, shown.GetProperty("viewCount").GetInt64());
    }

    [Fact]
    public async Task A_seek_past_the_threshold_plays_nothing_and_counts_no_view()
    {
        var (owner, _, video) = await VideoAsync(durationSeconds: 120);
        var tab = Session();
        await SendAsync(new
        {
            session = tab, videoId = video,
            events = new object[]
            {
                new { type = "start", startupMs = 300 }, new { type = "seek", from = 2.0, to = 100.0 },
                new { type = "heartbeat", ranges = new[] { new[] { 0.0, 2.0 }, new[] { 100.0, 104.0 } }, bitrate = 800 },
            },
        });
        var a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 6);
        Assert.Equal(0, Views(a));
    }

    [Fact]
    public async Task Half_of_a_short_video_counts_and_retention_is_the_share_covering_each_percent()
    {
        var (owner, _, video) = await VideoAsync(durationSeconds: 8);
        await SendAsync(Heartbeat(Session(), video, [0.0, 8.0]));
        await SendAsync(Heartbeat(Session(), video, [0.0, 4.0]));
        var a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 12);
        Assert.Equal(2, Views(a));
        var retention = a.GetProperty("retention").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(100, retention.Length);
        Assert.All(retention[..50], r => Assert.Equal(1.0, r));
        Assert.All(retention[50..], r => Assert.Equal(0.5, r));
    }

    [Fact]
    public async Task Known_bots_are_not_stored_but_a_headless_browser_is()
    {
        var (owner, _, video) = await VideoAsync();
        await SendAsync(Heartbeat(Session(), video, [0.0, 20.0]), userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        await SendAsync(Heartbeat(Session(), video, [0.0, 20.0]), userAgent: "curl/8.5.0");

        // Sent after the bots': once it shows, the bots' beacons (queued first) would have shown too.
        await SendAsync(Heartbeat(Session(), video, [0.0, 3.0]));
        var a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 3);
        Assert.Equal(3, Watch(a));
        Assert.Equal(0, Views(a));
    }

    [Fact]
    public async Task A_forged_flood_from_one_address_counts_no_more_than_the_limit_of_view_starts()
    {
        var (owner, _, video) = await VideoAsync();
        const int forged = 4 * AnalyticsApp.MaxStartsPerMinute;
        for (var i = 0; i < forged; i++)
        {
            await SendAsync(Heartbeat(Session(), video, [0.0, 12.0]));
        }

        // Every forged session played 12 s: without the rule each would be a view. The last beacon's flush is marked by a
        // heartbeat of the first (admitted) session, sent after them all: once its watch time shows, every forged one was handled.
        var first = Session();
        await SendAsync(Heartbeat(first, video, [0.0, 1.0]), userAgent: "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 marker/" + first);
        var a = await app.VideoAnalyticsAsync(video, owner, x => x.GetProperty("uniqueViewers").GetInt64() >= 1 && Watch(x) % 12 == 1);

        // The requests may straddle a minute boundary: at most two minutes' allowance, never all of them.
        Assert.InRange(Views(a), AnalyticsApp.MaxStartsPerMinute, 2 * AnalyticsApp.MaxStartsPerMinute);
    }

    [Fact]
    public async Task A_signed_in_viewer_is_one_viewer_across_tabs_and_their_rows_go_with_the_account()
    {
        var (owner, _, video) = await VideoAsync();
        var viewer = await app.NewUserAsync();
        await SendAsync(Heartbeat(Session(), video, [0.0, 12.0]), viewer.AccessToken);
        await SendAsync(Heartbeat(Session(), video, [12.0, 24.0]), viewer.AccessToken);
        var a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 24);
        Assert.Equal(1, Views(a));
        Assert.Equal(1, a.GetProperty("uniqueViewers").GetInt64());

        var mine = await app.JsonAsync(HttpMethod.Get, "api/v1/me/analytics", viewer.AccessToken);
        Assert.Equal(video, mine[0].GetProperty("videoId").GetString());
        Assert.Equal(24, mine[0].GetProperty("watchTimeSeconds").GetDouble());

        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", viewer.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);
        a = await app.VideoAnalyticsAsync(video, owner, x => Views(x) == 0 && Watch(x) == 0);
        Assert.Equal(0, a.GetProperty("uniqueViewers").GetInt64());
    }

    [Fact]
    public async Task Stalls_errors_and_exits_before_start_make_the_qoe()
    {
        var (owner, _, video) = await VideoAsync();
        await SendAsync(new
        {
            session = Session(), videoId = video,
            events = new object[]
            {
                new { type = "load" }, new { type = "start", startupMs = 1000 }, new { type = "rendition", bitrate = 400, width = 320, height = 180 },
                new { type = "rendition", bitrate = 800, width = 640, height = 360 }, new { type = "stall-start" }, new { type = "stall-end", durationMs = 2000 },
                new { type = "heartbeat", ranges = new[] { new[] { 0.0, 8.0 } }, bitrate = 800 }, new { type = "error", code = "networkError", message = "fragLoadError" },
            },
        });
        await SendAsync(new { session = Session(), videoId = video, events = new object[] { new { type = "load" }, new { type = "end" } } });
        var a = await app.VideoAnalyticsAsync(video, owner, x => Watch(x) >= 8 && x.GetProperty("qoe").GetProperty("exitsBeforeStart").GetInt64() == 1);
        var qoe = a.GetProperty("qoe");
        Assert.Equal(1, qoe.GetProperty("rebufferCount").GetInt64());
        Assert.Equal(0.2, qoe.GetProperty("rebufferRatio").GetDouble(), 6);
        Assert.Equal(1, qoe.GetProperty("renditionSwitches").GetInt64());
        var chrome = qoe.GetProperty("errorRateByBrowser")[0];
        Assert.Equal(2, chrome.GetProperty("sessions").GetInt64());
        Assert.Equal(0.5, chrome.GetProperty("rate").GetDouble());
    }

    [Fact]
    public async Task Delivery_observations_give_live_concurrency_and_egress_by_tier()
    {
        var (owner, _, video) = await VideoAsync();
        var observations = app.Get<IDeliveryObservations>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (ulong viewer = 1; viewer <= 3; viewer++)
        {
            observations.Record(new DeliveryObservation(video, true, DeliveredObject.Part, now, 1000, viewer, true, 3000, false, 5000, 800, 1600, false, "free"));
        }

        observations.Record(new DeliveryObservation(video, true, DeliveredObject.Segment, now, 500, 1, true, 3000, false, 5000, 800, 1600, false, "premium"));
        var a = await app.VideoAnalyticsAsync(video, owner, x => x.GetProperty("live").GetProperty("peakConcurrentViewers").GetInt64() >= 3);
        Assert.Equal(3, a.GetProperty("live").GetProperty("peakConcurrentViewers").GetInt64());
        var egress = a.GetProperty("egressBytesByTier").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("count").GetInt64());
        Assert.Equal(3000, egress["free"]);
        Assert.Equal(500, egress["premium"]);
    }

    [Fact]
    public async Task The_channel_dashboard_ranks_its_videos_and_exports_csv()
    {
        var (owner, channel, video) = await VideoAsync();
        var other = (await app.NewVideoAsync(owner, channel, "public", title: "=HYPERLINK(\"x\")", playable: true)).GetProperty("id").GetString()!;
        await SendAsync(Heartbeat(Session(), other, [0.0, 11.0]));
        await SendAsync(Heartbeat(Session(), other, [0.0, 11.0]));
        await SendAsync(Heartbeat(Session(), video, [0.0, 11.0]));
        await app.VideoAnalyticsAsync(video, owner, x => Views(x) == 1);
        await app.VideoAnalyticsAsync(other, owner, x => Views(x) == 2);

        var dashboard = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/analytics?granularity=hour&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-2).ToString("O"))}", owner.AccessToken);
        Assert.Equal(3, dashboard.GetProperty("views").GetInt64());
        Assert.Equal(other, dashboard.GetProperty("topVideos")[0].GetProperty("videoId").GetString());
        Assert.Equal(3, dashboard.GetProperty("series").EnumerateArray().Sum(p => p.GetProperty("views").GetInt64()));

        using var csv = await app.SendAsync(HttpMethod.Get, $"api/v1/channels/{channel}/analytics?format=csv", owner.AccessToken);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("video_id,title,views,unique_viewers,watch_time_seconds", lines[0]);
        // Ids are random base64url: one that starts with '-' is defused like any other cell a spreadsheet would run as a formula.
        static string Cell(string id) => id.StartsWith('-') ? "'" + id : id;
        Assert.Equal($"{Cell(other)},\"'=HYPERLINK(\"\"x\"\")\",2,2,22", lines[1]);
        Assert.Equal($"{Cell(video)},", lines[2][..(Cell(video).Length + 1)]);
    }

    [Fact]
    public async Task The_platform_dashboard_counts_active_viewers_for_admins()
    {
        var (_, _, video) = await VideoAsync();
        await SendAsync(Heartbeat(Session(), video, [0.0, 1.0]));
        var admin = await app.AdminAsync();
        JsonElement p = default;
        for (var i = 0; i < 100 && (p.ValueKind == JsonValueKind.Undefined || p.GetProperty("dailyActiveViewers").GetInt64() == 0); i++)
        {
            await Task.Delay(100);
            p = await app.JsonAsync(HttpMethod.Get, "api/v1/analytics/platform", admin.AccessToken);
        }

        Assert.True(p.GetProperty("dailyActiveViewers").GetInt64() >= 1);
        Assert.True(p.GetProperty("monthlyActiveViewers").GetInt64() >= p.GetProperty("dailyActiveViewers").GetInt64());
        Assert.True(p.GetProperty("uploads").GetInt64() >= 1);
        Assert.True(p.GetProperty("signups").GetInt64() >= 1);
        Assert.Contains(p.GetProperty("watchTimeByPlan").EnumerateArray(), w => w.GetProperty("videoId").GetString() == video && w.GetProperty("plan").GetString() == "free");
    }

    [Theory]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","events":[{"type":"nope"}]}""", "events[0].type")]
    [InlineData("""{"session":"short","videoId":"v1","events":[{"type":"pause"}]}""", "session")]
    [InlineData("""{"session":"tab-12345678","events":[{"type":"pause"}]}""", "videoId")]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","events":[]}""", "events")]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","source":"tv","events":[{"type":"pause"}]}""", "source")]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","events":[{"type":"heartbeat","ranges":[[5,1]]}]}""", "events[0].ranges[0]")]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","events":[{"type":"heartbeat","ranges":[[0,400]]}]}""", "events[0].ranges")]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","events":[{"type":"start","startupMs":-5}]}""", "events[0].startupMs")]
    [InlineData("""{"session":"tab-12345678","videoId":"v1","events":[{"type":"pause","ip":"1.2.3.4"}]}""", "events[0].ip")]
    [InlineData("""[1,2]""", "body")]
    [InlineData("""not json""", "body")]
    public async Task Garbage_is_refused_with_a_problem_naming_the_field(string body, string field)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/beacons") { Content = new StringContent(body, System.Text.Encoding.UTF8, "text/plain") };
        using var r = await app.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Beacons_take_text_plain_refuse_other_types_and_oversized_bodies()
    {
        var beacon = new { session = Session(), videoId = "v1", events = new[] { new { type = "pause" } } };
        using (var r = await app.BeaconAsync(beacon, contentType: "text/plain"))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        using (var r = await app.BeaconAsync(beacon, contentType: "application/xml"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        }

        var huge = new { session = Session(), videoId = "v1", events = new[] { new { type = "error", code = "x", message = new string('m', 500) } }, pad = new string('p', 70_000) };
        using (var r = await app.BeaconAsync(huge))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }
    }

    [Fact]
    public async Task Metrics_are_the_owners_and_admins_only()
    {
        var (owner, channel, video) = await VideoAsync();
        var moderator = await app.NewUserAsync("moderator");
        var stranger = await app.NewUserAsync();
        using (var r = await app.SendAsync(HttpMethod.Get, $"api/v1/videos/{video}/analytics", moderator.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode); // a public video it may watch but not manage
        }

        using (var r = await app.SendAsync(HttpMethod.Get, $"api/v1/channels/{channel}/analytics", stranger.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        using (var r = await app.SendAsync(HttpMethod.Get, "api/v1/analytics/platform", moderator.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/analytics?granularity=hour&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
            (await app.AdminAsync()).AccessToken);
        var bad = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/analytics?granularity=minute", owner.AccessToken, expect: HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("granularity", out _));
    }
}

[Collection("analytics-duckdb")]
public sealed class AnalyticsTestsDuckDb(AnalyticsDuckDbApp app) : AnalyticsTests(app);

[Collection("analytics-clickhouse")]
public sealed class AnalyticsTestsClickHouse(AnalyticsClickHouseApp app) : AnalyticsTests(app);

/// <summary>The counting rule itself, on a clock the test sets (the hour cannot pass in a functional test).</summary>
public sealed class ViewCounterTests
{
    [Fact]
    public void A_replay_after_the_hour_counts_again_and_within_it_does_not()
    {
        var c = new ViewCounter(10, 30);
        Assert.True(c.Admit("v", "x", 1, 0));
        Assert.True(c.Played("v", "x", 10, null));
        Assert.True(c.Admit("v", "x", 1, ViewCounter.WindowMs - 1));
        Assert.False(c.Played("v", "x", 10, null));
        Assert.True(c.Admit("v", "x", 1, ViewCounter.WindowMs));
        Assert.True(c.Played("v", "x", 10, null));
    }

    [Fact]
    public void The_threshold_is_ten_seconds_or_half_of_a_shorter_video()
    {
        var c = new ViewCounter(10, 30);
        Assert.Equal(10, c.Threshold(null));
        Assert.Equal(10, c.Threshold(20));
        Assert.Equal(4, c.Threshold(8));
    }

    [Fact]
    public void Starts_past_the_limit_in_a_minute_are_ignored_and_the_next_minute_starts_afresh()
    {
        var c = new ViewCounter(10, 2);
        Assert.True(c.Admit("a", "x", 7, 0));
        Assert.True(c.Admit("b", "x", 7, 1));
        Assert.False(c.Admit("c", "x", 7, 2));
        Assert.False(c.Played("c", "x", 60, null));
        Assert.True(c.Admit("d", "x", 8, 3)); // another address
        Assert.True(c.Admit("e", "x", 7, 60_000));
    }
}

/// <summary>The User-Agent table: families, and bots by their tokens (a headless Chromium is a browser).</summary>
public sealed class UserAgentTests
{
    [Theory]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "desktop", "Edge", "Windows", false)]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "mobile", "Safari", "iOS", false)]
    [InlineData("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", "mobile", "Chrome", "Android", false)]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "desktop", "Firefox", "Linux", false)]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "desktop", "Chrome", "Linux", false)]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "desktop", "Other", "Other", true)]
    [InlineData("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "desktop", "Other", "Other", true)]
    [InlineData("python-requests/2.31", "desktop", "Other", "Other", true)]
    public void Families_and_bots(string ua, string device, string browser, string os, bool bot) =>
        Assert.Equal(new UserAgentFamily(device, browser, os, bot), UserAgents.Parse(ua));
}
