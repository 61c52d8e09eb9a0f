using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests.Edge;

/// <summary>
/// What the origin stops serving (a video made private, a deleted one) the edge stops serving too: origin and edge are
/// separate daemons; objects are warmed through the edge's fast lane and its routed path, then the change is made through
/// the control plane's API, and within a bounded wait the edge answers what the origin answers.
/// </summary>
public sealed partial class EdgeInvalidationTests
{
    private const string PlaybackKey = "ZWRnZS1pbnZhbGlkYXRpb24tdGVzdHMtc2hhcmUtdGhpcy1rZXktMDEyMw=="; // base64 of 43 bytes, the key file's format
    private const string PublicMedia = "public, max-age=300, stale-if-error=86400";
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static readonly string[] SharedKey = ["--StreamVerse:ControlPlane:Playback:SigningKey", PlaybackKey];

    private static Task<Daemon> StartEdgeAsync(Daemon origin, params string[] extra) =>
        Daemon.StartAsync(["--upstream", origin.BaseUrl, .. SharedKey, "--StreamVerse:Edge:InvalidationPollSeconds", "0.2", .. extra]);

    /// <summary>A client whose connection the fast lane handed to Kestrel at its first request: every request after takes the routed path.</summary>
    private static async Task<HttpClient> RoutedClientAsync(Daemon daemon)
    {
        var routed = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(daemon.BaseUrl + "/"),
        };
        routed.DefaultRequestHeaders.Add("Origin", "https://player.example");
        (await routed.GetAsync("healthz")).EnsureSuccessStatusCode();
        return routed;
    }

    /// <summary>Each path twice through <paramref name="client"/>: the second answer is the edge's cached copy.</summary>
    private static async Task WarmAsync(HttpClient client, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            (await client.GetAsync(path)).EnsureSuccessStatusCode();
            using var again = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal("HIT", again.Headers.GetValues("X-Cache").Single());
        }
    }

    /// <summary>Waits until, for every path, the edge answers through both clients what the origin answers, and that is a refusal.</summary>
    private static async Task WaitUntilEdgeRefusesAsync(Daemon origin, HttpClient lane, HttpClient routed, IEnumerable<string> paths, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (true)
        {
            var agree = true;
            foreach (var path in paths)
            {
                using var atOrigin = await origin.Http.GetAsync(path);
                Assert.True(atOrigin.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"origin {path}: {atOrigin.StatusCode}");
                foreach (var (name, client) in new[] { ("lane", lane), ("routed", routed) })
                {
                    using var atEdge = await client.GetAsync(path);
                    if (atEdge.StatusCode != atOrigin.StatusCode)
                    {
                        agree = false;
                        last = $"{name} {path}: edge {(int)atEdge.StatusCode} {string.Join(",", atEdge.Headers.TryGetValues("X-Cache", out var x) ? x : [])}, origin {(int)atOrigin.StatusCode}";
                    }
                }
            }

            if (agree)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the edge still serves what the origin refuses: " + last);
            await Task.Delay(200);
        }
    }

    private static async Task<string[]> VodPathsAsync(string id)
    {
        var files = await VodPresentations.FilesAsync();
        string First(string suffix) => $"vod/{id}/{files.First(f => f.EndsWith(suffix, StringComparison.Ordinal))}";
        return [$"vod/{id}/index.m3u8", $"vod/{id}/index.mpd", First(".m3u8"), First("_init.mp4"), First(".m4s")];
    }

    [Fact]
    public async Task A_vod_made_private_or_deleted_leaves_the_edge_on_the_lane_and_the_routed_path()
    {
        await using var origin = await Daemon.StartAsync([.. VodPresentations.OriginArgs, .. SharedKey]);
        await using var edge = await StartEdgeAsync(origin);
        using var lane = new HttpClient { BaseAddress = new Uri(edge.BaseUrl + "/") };
        using var routed = await RoutedClientAsync(edge);

        var (id, admin) = await VodPresentations.PublishAsync(origin);
        var paths = await VodPathsAsync(id);
        await WarmAsync(lane, paths);
        await WarmAsync(routed, paths);

        // Untokenised media objects carry a bounded lifetime (what a CDN in front may keep), not a year-long immutable.
        using (var segment = await lane.GetAsync(paths[^1]))
        {
            Assert.Equal(PublicMedia, segment.Headers.CacheControl!.ToString());
        }

        await VodPresentations.JsonAsync(origin, HttpMethod.Patch, $"api/v1/videos/{id}", admin, new { visibility = "private" });
        await WaitUntilEdgeRefusesAsync(origin, lane, routed, paths, TimeSpan.FromSeconds(20));
        Assert.True(await edge.MetricAsync("streamverse_edge_purged_objects_total") >= paths.Length);

        // Deleted: the same, for another video.
        var (gone, _) = await VodPresentations.PublishAsync(origin);
        var gonePaths = await VodPathsAsync(gone);
        await WarmAsync(lane, gonePaths);
        await WarmAsync(routed, gonePaths);
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, $"api/v1/videos/{gone}"))
        {
            delete.Headers.Authorization = new("Bearer", admin);
            Assert.Equal(HttpStatusCode.NoContent, (await origin.Http.SendAsync(delete)).StatusCode);
        }

        await WaitUntilEdgeRefusesAsync(origin, lane, routed, gonePaths, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_live_recording_made_private_leaves_the_edge()
    {
        await using var origin = await Daemon.StartAsync([.. VodPresentations.OriginArgs, .. SharedKey]);
        await using var edge = await StartEdgeAsync(origin);
        using var lane = new HttpClient { BaseAddress = new Uri(edge.BaseUrl + "/") };
        using var routed = await RoutedClientAsync(edge);

        // A control-plane stream key: its first publish creates a public live video whose id is the stream name.
        var (_, admin) = await VodPresentations.PublishAsync(origin);
        var channel = (await VodPresentations.JsonAsync(origin, HttpMethod.Post, "api/v1/channels", admin, new { name = "live" })).GetProperty("id").GetString()!;
        var key = (await VodPresentations.JsonAsync(origin, HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", admin, null)).GetProperty("key").GetString()!;
        using (var publisher = Publishers.Ffmpeg(origin.RtmpUrl(key), seconds: 5))
        {
            Assert.Equal(0, await publisher.WaitAsync(Long));
        }

        var keys = await VodPresentations.JsonAsync(origin, HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", admin, null);
        var id = keys.GetProperty("items").EnumerateArray().Single().GetProperty("liveVideoId").GetString()!;
        var playlist = await Publishers.WaitForAsync(edge.Http, $"live/{id}/video.m3u8", TimeSpan.FromSeconds(20));
        for (var i = 0; i < 50 && !playlist.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal); i++)
        {
            await Task.Delay(200);
            playlist = await origin.Http.GetStringAsync($"live/{id}/video.m3u8");
        }

        Assert.Contains("#EXT-X-ENDLIST", playlist);
        // Whatever the edge kept of the live playlists (max-age 1) has expired: what it fetches now is final.
        await Task.Delay(1100);
        var init = InitUri().Match(playlist).Groups[1].Value;
        var segment = SegmentUri().Match(playlist).Value;
        string[] paths = [$"live/{id}/index.m3u8", $"live/{id}/video.m3u8", $"live/{id}/{init}", $"live/{id}/{segment}"];
        await WarmAsync(lane, paths);
        await WarmAsync(routed, paths);
        using (var cached = await lane.GetAsync(paths[^1]))
        {
            Assert.Equal(PublicMedia, cached.Headers.CacheControl!.ToString());
        }

        await VodPresentations.JsonAsync(origin, HttpMethod.Patch, $"api/v1/videos/{id}", admin, new { visibility = "private" });
        await WaitUntilEdgeRefusesAsync(origin, lane, routed, paths, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task An_edge_that_could_not_reach_the_feed_catches_up_and_a_restarted_edge_starts_clean()
    {
        await using var origin = await Daemon.StartAsync([.. VodPresentations.OriginArgs, .. SharedKey]);
        using var gate = new FeedGate(origin.BaseUrl);
        string[] edgeArgs = ["--StreamVerse:Edge:InvalidationFeed", gate.Url + "internal/v1/invalidations"];
        var edge = await StartEdgeAsync(origin, edgeArgs);
        try
        {
            using var lane = new HttpClient { BaseAddress = new Uri(edge.BaseUrl + "/") };
            var (id, admin) = await VodPresentations.PublishAsync(origin);
            var paths = await VodPathsAsync(id);
            await WarmAsync(lane, paths);

            // The feed is unreachable: the change is made, the edge keeps polling in vain and keeps its copies.
            gate.Open = false;
            var refusedBefore = await edge.MetricAsync("streamverse_edge_invalidation_polls_total", "outcome=\"refused\"");
            await VodPresentations.JsonAsync(origin, HttpMethod.Patch, $"api/v1/videos/{id}", admin, new { visibility = "private" });
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (await edge.MetricAsync("streamverse_edge_invalidation_polls_total", "outcome=\"refused\"") < refusedBefore + 3)
            {
                Assert.True(DateTime.UtcNow < deadline, "the edge did not poll the closed feed");
                await Task.Delay(100);
            }

            using (var stillCached = await lane.GetAsync(paths[^1]))
            {
                Assert.Equal(HttpStatusCode.OK, stillCached.StatusCode);
                Assert.Equal("HIT", stillCached.Headers.GetValues("X-Cache").Single());
            }

            // Reachable again: it applies what it missed.
            gate.Open = true;
            using var routed = await RoutedClientAsync(edge);
            await WaitUntilEdgeRefusesAsync(origin, lane, routed, paths, TimeSpan.FromSeconds(20));
        }
        finally
        {
            await edge.DisposeAsync();
        }

        // A restarted edge (its cache starts empty) is told to reset by the feed, and answers as the origin does.
        await using var restarted = await StartEdgeAsync(origin, edgeArgs);
        var resetDeadline = DateTime.UtcNow.AddSeconds(20);
        while (await restarted.MetricAsync("streamverse_edge_invalidation_polls_total", "outcome=\"reset\"") < 1)
        {
            Assert.True(DateTime.UtcNow < resetDeadline, "the restarted edge never read the feed: " + restarted.Output);
            await Task.Delay(100);
        }

        Assert.Equal(0, gate.Unauthorized);
    }

    [Fact]
    public async Task An_ip_bound_token_plays_through_an_edge_from_its_address_only()
    {
        // The origin trusts the edge (both on 127.0.0.1) for X-Forwarded-For; viewers come from 127.0.0.2 and 127.0.0.3.
        await using var origin = await Daemon.StartAsync([.. VodPresentations.OriginArgs, .. SharedKey, "--StreamVerse:TrustedProxies:0", "127.0.0.1"]);
        await using var edge = await StartEdgeAsync(origin);
        var (id, _) = await VodPresentations.PublishAsync(origin, "private");
        using var viewerAtOrigin = From("127.0.0.2", origin.BaseUrl);
        var login = await viewerAtOrigin.PostAsync("api/v1/auth/login", JsonContent(new { email = VodPresentations.AdminEmail, password = VodPresentations.Password }));
        var accessToken = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString()!;
        using var issue = new HttpRequestMessage(HttpMethod.Post, $"api/v1/videos/{id}/playback-token") { Content = JsonContent(new { bindToIp = true }) };
        issue.Headers.Authorization = new("Bearer", accessToken);
        using var issued = await viewerAtOrigin.SendAsync(issue);
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        var token = JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;

        var files = await VodPresentations.FilesAsync();
        string[] paths = [$"vod/t/{token}/{id}/index.m3u8", $"vod/t/{token}/{id}/{files.First(f => f.EndsWith(".m4s", StringComparison.Ordinal))}"];
        using var bound = From("127.0.0.2", edge.BaseUrl);
        using var other = From("127.0.0.3", edge.BaseUrl);
        foreach (var path in paths)
        {
            using var mine = await bound.GetAsync(path);
            Assert.True(mine.StatusCode == HttpStatusCode.OK, $"{path} from the bound address: {(int)mine.StatusCode} {await mine.Content.ReadAsStringAsync()}");

            // The edge now holds the object under this token URL; its check runs before the cache.
            using var theirs = await other.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, theirs.StatusCode);
        }
    }

    private static StringContent JsonContent(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    /// <summary>An HTTP client whose connections leave from <paramref name="localAddress"/> (a loopback alias).</summary>
    private static HttpClient From(string localAddress, string baseUrl) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri(baseUrl + "/") };

    [GeneratedRegex(@"(?m)^[a-z0-9]+/video_\d+\.m4s$")]
    private static partial Regex SegmentUri();

    [GeneratedRegex(@"#EXT-X-MAP:URI=""([^""]+)""")]
    private static partial Regex InitUri();

    /// <summary>Relays the origin's invalidation feed to an edge, or answers 503 while closed (an origin the edge cannot reach).</summary>
    private sealed class FeedGate : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly HttpClient _origin;
        private readonly Task _loop;
        private volatile bool _open = true;
        private int _unauthorized;

        public FeedGate(string originUrl)
        {
            var port = Daemon.FreePort();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _origin = new HttpClient { BaseAddress = new Uri(originUrl + "/") };
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public bool Open
        {
            get => _open;
            set => _open = value;
        }

        public int Unauthorized => Volatile.Read(ref _unauthorized);

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                try
                {
                    if (!_open)
                    {
                        context.Response.StatusCode = 503;
                        context.Response.Close();
                        continue;
                    }

                    using var request = new HttpRequestMessage(HttpMethod.Get, context.Request.Url!.PathAndQuery.TrimStart('/'));
                    request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers["Authorization"]);
                    using var response = await _origin.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.Unauthorized)
                    {
                        Interlocked.Increment(ref _unauthorized);
                    }

                    var body = await response.Content.ReadAsByteArrayAsync();
                    context.Response.StatusCode = (int)response.StatusCode;
                    context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpRequestException or HttpListenerException or IOException)
                {
                    context.Response.Abort();
                }
            }
        }

        public void Dispose()
        {
            _listener.Close();
            _origin.Dispose();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }
    }
}
