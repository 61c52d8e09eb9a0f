using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using StreamVerse.ControlPlane.Analytics;
using StreamVerse.Functional.Tests.Browser;
using StreamVerse.Functional.Tests.Infrastructure;
using StreamVerse.Origin.Audience;
using StreamVerse.Origin.Hosting;
using Xunit.Abstractions;

namespace StreamVerse.Functional.Tests.Audience;

/// <summary>What analytics receives from the media path (issue 19): every media response becomes a
/// <see cref="DeliveryObservation"/>, with the player's CMCD (CTA-5004) when it sent some, at the origin (fast lane and
/// routed path) and at an edge, whose cache CMCD does not split. The daemons run in-process so the test can register a
/// recording sink in place of the analytics store.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CmcdObservationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    private static string NewKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private static ulong SessionViewer(string sid, long atMs) => ViewerHash.OfSession(Cmcd.Fnv1a(Encoding.ASCII.GetBytes(sid)), atMs);

    private static string Query(string cmcd) => "CMCD=" + Uri.EscapeDataString(cmcd);

    [Fact]
    public async Task Cmcd_in_queries_and_headers_is_observed_on_the_lane_the_routed_path_and_an_edge_whose_cache_it_does_not_split()
    {
        var key = NewKey();
        await using var origin = await InProcess.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 40);
        var playlist = await Publishers.WaitForAsync(origin.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(20));
        var segment = "live/cam/" + playlist.Split('\n').Select(l => l.Trim()).First(l => l.EndsWith(".m4s", StringComparison.Ordinal));

        // The lane: a playlist with CMCD in the query (URL-encoded, as players send it) and a segment with the four headers.
        var laneBefore = await origin.MetricAsync("streamverse_http_fast_lane_handovers_total");
        using (var r = await origin.Http.GetAsync("live/cam/video.m3u8?" + Query("bl=21300,br=3200,mtp=48100,ot=m,sid=\"query-a\",su")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, segment))
        {
            request.Headers.TryAddWithoutValidation("CMCD-Object", "br=800,d=2000,ot=v,tb=1600");
            request.Headers.TryAddWithoutValidation("CMCD-Request", "bl=4000,mtp=9000");
            request.Headers.TryAddWithoutValidation("CMCD-Status", "bs");
            request.Headers.TryAddWithoutValidation("CMCD-Session", "sid=\"header-b\",st=l,sf=h");
            using var r = await origin.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        // Neither left the lane (a CMCD query's '%' once sent every such request to Kestrel): the one hand-over since is the
        // connection that asks for /metrics (counted before it is answered, as the first sample's was).
        Assert.Equal(laneBefore + 1, await origin.MetricAsync("streamverse_http_fast_lane_handovers_total"));

        // The routed path (HTTP/1.0 is Kestrel's) sees the same, and without CMCD the viewer is the address and user agent.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "live/cam/video.m3u8?" + Query("sid=\"query-a\",bl=700")) { Version = HttpVersion.Version10, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            using var r = await origin.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, segment))
        {
            request.Headers.UserAgent.ParseAdd("NativePlayer/1.0");
            using var r = await origin.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var queryA = await origin.ObservedAsync(o => o.FromCmcd && o.Viewer == SessionViewer("query-a", o.AtUnixMs), 2);
        var native = Assert.Single(await origin.ObservedAsync(o => !o.FromCmcd && o.Viewer == ViewerHash.OfClient(IPAddress.Loopback, "NativePlayer/1.0"u8, o.AtUnixMs), 1));
        var seen = origin.Observations.Seen;
        Assert.All(seen, o => Assert.Equal("cam", o.VideoId));
        Assert.Equal(2, queryA.Count);
        Assert.Contains(queryA, o => o is { Object: DeliveredObject.Manifest, BufferLengthMs: 21300, EncodedBitrateKbps: 3200, MeasuredThroughputKbps: 48100, Startup: true, Live: true });
        Assert.Contains(queryA, o => o is { Object: DeliveredObject.Manifest, BufferLengthMs: 700, EncodedBitrateKbps: -1, Startup: false });
        var headerB = Assert.Single(seen, o => o.FromCmcd && o.Viewer == SessionViewer("header-b", o.AtUnixMs));
        Assert.Equal((DeliveredObject.Segment, 800, 1600, 4000, 9000, true), (headerB.Object, headerB.EncodedBitrateKbps, headerB.TopBitrateKbps, headerB.BufferLengthMs, headerB.MeasuredThroughputKbps, headerB.BufferStarvation));
        Assert.True(headerB.BytesSent > 0);
        Assert.Equal((DeliveredObject.Segment, -1, -1, headerB.BytesSent), (native.Object, native.BufferLengthMs, native.EncodedBitrateKbps, native.BytesSent));

        // An edge: two viewers' requests for one segment, differing only in CMCD, are one cache entry (the second a HIT),
        // and the origin's fetch carries no CMCD (its observation is the edge's, without a session).
        await using var edge = await InProcess.StartAsync(["--upstream", origin.BaseUrl]);
        var originBefore = origin.Observations.Seen.Count;
        var egressBefore = await edge.MetricAsync("streamverse_delivery_egress_bytes_total", "tier=\"none\"");
        string[] xCache = new string[2];
        for (var i = 0; i < 2; i++)
        {
            using var r = await edge.Http.GetAsync(segment + "?" + Query($"br=800,bl={1000 * (i + 1)},sid=\"edge-{i}\""));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            xCache[i] = r.Headers.GetValues("X-Cache").Single();
        }

        Assert.Equal(["MISS", "HIT"], xCache);
        // Both stayed in the edge's lane, which records before it answers.
        Assert.Equal(2, edge.Observations.Seen.Count);
        var fetched = Assert.Single(origin.Observations.Seen.Skip(originBefore));
        Assert.False(fetched.FromCmcd);
        var atEdge = await edge.ObservedAsync(_ => true, 2);
        Assert.Equal(2, atEdge.Count);
        Assert.Equal([1000, 2000], atEdge.Select(o => o.BufferLengthMs).Order());
        Assert.All(atEdge, o => Assert.Equal(DeliveredObject.Segment, o.Object));
        Assert.Equal(2, atEdge.Select(o => o.Viewer).Distinct().Count());
        // The edge's two answers and the origin's one (the metric is this process's, shared by both daemons).
        Assert.Equal(egressBefore + (3 * headerB.BytesSent), await edge.MetricAsync("streamverse_delivery_egress_bytes_total", "tier=\"none\""));
    }

    /// <summary>Browsers in header mode ask first (CORS preflight): every CMCD header must be allowed, at the origin and at an edge.</summary>
    [Fact]
    public async Task A_cross_origin_player_may_send_the_cmcd_headers()
    {
        await using var origin = await InProcess.StartAsync(["--stream", $"cam={NewKey()}"]);
        await using var edge = await InProcess.StartAsync(["--upstream", origin.BaseUrl]);
        foreach (var daemon in new[] { origin, edge })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "live/cam/s1/video_1.m4s");
            preflight.Headers.Add("Origin", "http://player.test");
            preflight.Headers.Add("Access-Control-Request-Method", "GET");
            preflight.Headers.Add("Access-Control-Request-Headers", "cmcd-object,cmcd-request,cmcd-session,cmcd-status");
            using var r = await daemon.Http.SendAsync(preflight);
            Assert.True(r.IsSuccessStatusCode, $"preflight: {(int)r.StatusCode}");
            var allowed = string.Join(",", r.Headers.TryGetValues("Access-Control-Allow-Headers", out var values) ? values : []).ToLowerInvariant();
            foreach (var header in new[] { "cmcd-object", "cmcd-request", "cmcd-session", "cmcd-status" })
            {
                Assert.Contains(header, allowed, StringComparison.Ordinal);
            }
        }

        // A preflight is not a media response: nothing observed.
        Assert.Empty(origin.Observations.Seen);
        Assert.Empty(edge.Observations.Seen);
    }

    /// <summary>
    /// hls.js (query and header mode) and dash.js (query mode) with CMCD on, each with its own session id, play the live
    /// stream; the sink sees their sessions with the buffer length, bitrate and throughput they reported, and the stream
    /// has them as distinct live viewers.
    /// </summary>
    [Fact]
    public async Task Hls_js_and_dash_js_send_cmcd_that_the_origin_observes()
    {
        Node.RequireDependencies();
        var key = NewKey();
        await using var origin = await InProcess.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 60);
        await Publishers.WaitForAsync(origin.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        await Publishers.WaitForAsync(origin.Http, "live/cam/index.mpd", TimeSpan.FromSeconds(20));

        var runs = new[]
        {
            new Run("hls", "query", "hls-query-" + NewKey()[..8], "index.m3u8"),
            new Run("dash", "query", "dash-query-" + NewKey()[..8], "index.mpd"),
            new Run("hls", "headers", "hls-headers-" + NewKey()[..8], "index.m3u8"),
        };

        // Two players at once are two live viewers of the stream; the third (header mode) plays after them.
        await Task.WhenAll(PlayAsync(origin, runs[0]), PlayAsync(origin, runs[1]));
        var viewers = origin.Services.GetRequiredService<LiveViewers>().Count("cam");
        Assert.True(viewers >= 2, $"{viewers} live viewers while two players played");
        await PlayAsync(origin, runs[2]);

        foreach (var run in runs)
        {
            var mine = origin.Observations.Seen.Where(o => o.FromCmcd && o.Viewer == SessionViewer(run.Sid, o.AtUnixMs)).ToList();
            Assert.True(mine.Count > 0, $"{run}: no observation carries its session id");
            var media = mine.Where(o => o.Object is DeliveredObject.Segment or DeliveredObject.Part).ToList();
            Assert.True(media.Count > 0, $"{run}: no segment or part observed with its session");
            Assert.Contains(media, o => o.EncodedBitrateKbps > 0);
            Assert.Contains(media, o => o.BufferLengthMs >= 0);
            Assert.Contains(mine, o => o.Object == DeliveredObject.Manifest);
            Assert.All(mine, o => Assert.True(o.Live && o.VideoId == "cam"));
        }
    }

    private sealed record Run(string Player, string Mode, string Sid, string Url);

    private async Task PlayAsync(InProcess origin, Run run)
    {
        using var tool = Tool.StartIn(Node.BrowserDir, "env", [$"PLAY_CMCD={run.Mode}", $"PLAY_CMCD_SID={run.Sid}", "node", "play.mjs", run.Player, $"{origin.BaseUrl}/live/cam/{run.Url}", "4"]);
        var code = await tool.WaitAsync(Long);
        output.WriteLine($"{run}: {tool.Stdout}\n{tool.Stderr}");
        Assert.True(code == 0, $"{run} failed: {tool.Stdout}\n{tool.Stderr}");
    }

    /// <summary>The recording sink registered in place of analytics' store.</summary>
    internal sealed class RecordingObservations : IDeliveryObservations
    {
        private readonly ConcurrentQueue<DeliveryObservation> _seen = new();

        public List<DeliveryObservation> Seen => [.. _seen];

        public void Record(in DeliveryObservation observation) => _seen.Enqueue(observation);
    }

    /// <summary>The daemon in this process (origin, or an edge with <c>--upstream</c>), with a <see cref="RecordingObservations"/> sink.</summary>
    internal sealed class InProcess : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private InProcess(WebApplication app, int httpPort, int rtmpPort, RecordingObservations observations)
        {
            _app = app;
            (HttpPort, RtmpPort, Observations) = (httpPort, rtmpPort, observations);
            Http = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        }

        public int HttpPort { get; }

        public int RtmpPort { get; }

        public RecordingObservations Observations { get; }

        public HttpClient Http { get; }

        public IServiceProvider Services => _app.Services;

        public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

        public string RtmpUrl(string key) => $"rtmp://127.0.0.1:{RtmpPort}/live/{key}";

        public static async Task<InProcess> StartAsync(string[] args)
        {
            var (http, rtmp) = (Daemon.FreePort(), Daemon.FreePort());
            var observations = new RecordingObservations();
            var app = OriginHost.Build(
                ["--data", Directory.CreateTempSubdirectory("sv-cmcd-").FullName, "--http", $"127.0.0.1:{http}", "--rtmp", $"127.0.0.1:{rtmp}",
                 "--Logging:LogLevel:Default", "Warning", .. args],
                services => services.AddSingleton<IDeliveryObservations>(observations));
            await app.StartAsync();
            return new InProcess(app, http, rtmp, observations);
        }

        /// <summary>
        /// One sample from <c>/metrics</c> (the registry is this process's, shared by every in-process daemon), over a
        /// connection of its own: <c>/metrics</c> is not the lane's, and the connection that asks for it is Kestrel's from then on.
        /// </summary>
        public async Task<double> MetricAsync(string name, string labels = "")
        {
            var series = labels.Length == 0 ? name : name + "{" + labels + "}";
            using var metrics = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = Http.Timeout };
            foreach (var line in (await metrics.GetStringAsync("metrics")).Split('\n'))
            {
                if (line.StartsWith(series + " ", StringComparison.Ordinal))
                {
                    return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
                }
            }

            return 0;
        }

        /// <summary>
        /// Waits until <paramref name="count"/> observations match: the routed path observes a response once it is written,
        /// so the client may have it before it is recorded (the lane records before it sends).
        /// </summary>
        public async Task<List<DeliveryObservation>> ObservedAsync(Func<DeliveryObservation, bool> match, int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                var seen = Observations.Seen.Where(match).ToList();
                if (seen.Count >= count || DateTime.UtcNow > deadline)
                {
                    return seen;
                }

                await Task.Delay(20);
            }
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
