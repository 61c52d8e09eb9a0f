using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests;

/// <summary>Origin limits against the real daemon: per-IP rate, bandwidth tiers, playlist compression, connection cap.</summary>
public sealed class LimitsTests
{
    /// <summary>A recording laid out as the segmenter leaves it, so the origin serves it from disk.</summary>
    private static string RecordingData(int segmentBytes = 300_000)
    {
        var data = Directory.CreateTempSubdirectory("sv-limits-").FullName;
        var dir = Path.Combine(data, "live", "cam", "s1");
        Directory.CreateDirectory(dir);
        var playlist = new StringBuilder("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"s1/video_init.mp4\"\n");
        for (var i = 0; i < 40; i++)
        {
            playlist.Append("#EXTINF:2.000,\ns1/video_").Append(i).Append(".m4s\n");
        }

        playlist.Append("#EXT-X-ENDLIST\n");
        File.WriteAllText(Path.Combine(data, "live", "cam", "video.m3u8"), playlist.ToString());
        var bytes = new byte[segmentBytes];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(dir, "video_0.m4s"), bytes);
        return data;
    }

    [Fact]
    public async Task Per_ip_rate_limit_answers_429_problem_with_retry_after_and_spares_health()
    {
        await using var daemon = await Daemon.StartAsync(
            ["--StreamVerse:Limits:RequestsPerSecondPerIp", "5", "--StreamVerse:Limits:RequestBurstPerIp", "5"], RecordingData());
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 15; i++)
        {
            statuses.Add(await daemon.Http.GetAsync("live/cam/video.m3u8"));
        }

        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        // Burst 5, refill 5/s: at most 10 pass even if the 15 requests took a whole second on a loaded machine.
        Assert.NotEmpty(limited);
        Assert.InRange(statuses.Count(r => r.StatusCode == HttpStatusCode.OK), 5, 10);
        Assert.Equal("application/problem+json", limited[0].Content.Headers.ContentType!.MediaType);
        Assert.True(limited[0].Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await daemon.Http.GetAsync("healthz")).StatusCode);
        Assert.Contains("streamverse_http_rate_limited_requests_total", await daemon.Http.GetStringAsync("metrics"));

        await Task.Delay(1200);
        Assert.Equal(HttpStatusCode.OK, (await daemon.Http.GetAsync("live/cam/video.m3u8")).StatusCode);
    }

    [Fact]
    public async Task Playlists_are_compressed_and_segments_are_not()
    {
        var data = RecordingData();
        await using var daemon = await Daemon.StartAsync(dataDir: data);
        var expected = await File.ReadAllTextAsync(Path.Combine(data, "live", "cam", "video.m3u8"));
        using var raw = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = new Uri(daemon.BaseUrl) };

        foreach (var (accept, encoding) in new[] { ("br, gzip", "br"), ("gzip", "gzip"), ("", null) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "live/cam/video.m3u8");
            if (accept.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", accept);
            }

            using var response = await raw.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(encoding, response.Content.Headers.ContentEncoding.SingleOrDefault());
            Stream decoded = encoding switch
            {
                "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
                "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
                _ => new MemoryStream(body),
            };
            Assert.Equal(expected, await new StreamReader(decoded).ReadToEndAsync());
            Assert.Equal("application/vnd.apple.mpegurl", response.Content.Headers.ContentType!.MediaType);
        }

        using var segmentRequest = new HttpRequestMessage(HttpMethod.Get, "live/cam/s1/video_0.m4s");
        segmentRequest.Headers.TryAddWithoutValidation("Accept-Encoding", "br, gzip");
        using var segment = await raw.SendAsync(segmentRequest);
        Assert.Empty(segment.Content.Headers.ContentEncoding);
        Assert.Equal(300_000, (await segment.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Bandwidth_tier_paces_file_bodies_and_ranges_still_work()
    {
        await using var daemon = await Daemon.StartAsync(
            ["--StreamVerse:Limits:BandwidthTiers:slow", "200000", "--StreamVerse:Limits:DefaultTier", "slow"], RecordingData());
        var watch = Stopwatch.StartNew();
        var body = await daemon.Http.GetByteArrayAsync("live/cam/s1/video_0.m4s");
        Assert.Equal(300_000, body.Length);
        // 300 kB at 200 kB/s: at least ~1.4 s (less the pacer's 50 ms slack).
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.3, 10);

        using var range = new HttpRequestMessage(HttpMethod.Get, "live/cam/s1/video_0.m4s");
        range.Headers.Range = new RangeHeaderValue(100, 199);
        using var partial = await daemon.Http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(body.AsSpan(100, 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Bad_limits_stop_the_daemon_naming_the_key()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Daemon.StartAsync(
            ["--StreamVerse:Limits:BandwidthTiers:free", "1000", "--StreamVerse:Limits:DefaultTier", "gold"]));
        Assert.Contains("exited with 2", ex.Message);
        Assert.Contains("StreamVerse:Limits:DefaultTier", ex.Message);
    }

    [Fact]
    public async Task Connections_over_the_cap_are_closed()
    {
        await using var daemon = await Daemon.StartAsync(["--StreamVerse:Limits:MaxConnections", "2"]);
        // The health probe's pooled connection counts: drop it.
        daemon.Http.Dispose();
        await Task.Delay(200);
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, daemon.HttpPort);
                held.Add(c);
                Assert.StartsWith("HTTP/1.1 200", await RoundTripAsync(c));
            }

            using var third = new TcpClient();
            await third.ConnectAsync(IPAddress.Loopback, daemon.HttpPort);
            var answer = await RoundTripAsync(third);
            Assert.False(answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), answer);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    private static async Task<string> RoundTripAsync(TcpClient client)
    {
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var buffer = new byte[4096];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var n = await stream.ReadAsync(buffer, cts.Token);
            return Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (IOException e)
        {
            return "closed: " + e.Message;
        }
    }
}
