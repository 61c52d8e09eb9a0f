using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests;

/// <summary>The live path end to end: a real RTMP publisher into the real daemon, real players out.</summary>
public sealed class LivePathTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static string NewKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    [Fact]
    public async Task Ffmpeg_publish_is_played_over_hls_and_dash_while_live_and_as_a_recording_after()
    {
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 10);

        var master = await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        Assert.Contains("#EXT-X-STREAM-INF", master);
        Assert.Matches(@"CODECS=""avc1\.[0-9A-Fa-f]{6},mp4a\.40\.2""", master);
        Assert.Contains("RESOLUTION=320x240", master);
        Assert.DoesNotContain(key, master);

        // While it runs: ffmpeg plays the HLS master to the end (EXT-X-ENDLIST) and reads part of the live MPD.
        using var hlsPlayer = Tool.Start("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", $"{daemon.BaseUrl}/live/cam/index.m3u8", "-f", "null", "-");
        var probe = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", $"{daemon.BaseUrl}/live/cam/index.m3u8");
        Assert.True(probe.ExitCode == 0, probe.Stderr);
        AssertStreams(probe.Stdout);

        var liveMpd = await daemon.Http.GetStringAsync("live/cam/index.mpd");
        Assert.Contains($"<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" value=\"{daemon.BaseUrl}/time\"/>", liveMpd);
        var serverTime = DateTimeOffset.Parse(await daemon.Http.GetStringAsync("time"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True((serverTime - DateTimeOffset.UtcNow).Duration() < TimeSpan.FromSeconds(5));

        var dash = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{daemon.BaseUrl}/live/cam/index.mpd", "-t", "2", "-f", "null", "-");
        Assert.True(dash.ExitCode == 0, dash.Stderr + daemon.Output);
        Assert.Equal("", dash.Stderr.Trim());

        Assert.Equal(0, await publisher.WaitAsync(Long));
        Assert.Equal(0, await hlsPlayer.WaitAsync(Long));
        Assert.True(hlsPlayer.Stderr.Trim().Length == 0, hlsPlayer.Stderr);

        // Ended: the playlists end properly and the recording plays as VOD under the same name.
        var ended = await Publishers.WaitForAsync(daemon.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(10));
        Assert.Contains("#EXT-X-ENDLIST", ended);
        var mpd = await daemon.Http.GetStringAsync("live/cam/index.mpd");
        Assert.Contains("type=\"static\"", mpd);

        foreach (var url in new[] { "index.m3u8", "index.mpd" })
        {
            var vod = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-show_format", "-of", "json", $"{daemon.BaseUrl}/live/cam/{url}");
            Assert.True(vod.ExitCode == 0, url + ": " + vod.Stderr);
            AssertStreams(vod.Stdout);
            var duration = double.Parse(JsonDocument.Parse(vod.Stdout).RootElement.GetProperty("format").GetProperty("duration").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(duration, 9.0, 11.5);

            var decode = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-i", $"{daemon.BaseUrl}/live/cam/{url}", "-f", "null", "-");
            Assert.True(decode.ExitCode == 0 && decode.Stderr.Trim().Length == 0, url + ": " + decode.Stderr);
        }

        Assert.True(File.Exists(Path.Combine(daemon.DataDir, "live", "cam", "index.m3u8")), "recording written under --data");
        Assert.DoesNotContain(key, daemon.Output);
    }

    [Fact]
    public async Task Gstreamer_publish_goes_live()
    {
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"gst={key}"]);
        using var publisher = Publishers.GStreamer(daemon.RtmpUrl(key), seconds: 6);
        await Publishers.WaitForAsync(daemon.Http, "live/gst/index.m3u8", TimeSpan.FromSeconds(20));
        var probe = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", $"{daemon.BaseUrl}/live/gst/index.m3u8");
        Assert.True(probe.ExitCode == 0, probe.Stderr);
        AssertStreams(probe.Stdout);
        Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
    }

    [Fact]
    public async Task Unknown_key_and_second_publisher_are_refused_and_the_first_goes_on()
    {
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);

        using (var bad = Publishers.Ffmpeg(daemon.RtmpUrl("not-the-key"), seconds: 3))
        {
            Assert.NotEqual(0, await bad.WaitAsync(Long));
        }

        using var first = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 8);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        using (var second = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 3))
        {
            Assert.NotEqual(0, await second.WaitAsync(Long));
        }

        Assert.False(first.HasExited);
        Assert.True(await first.WaitAsync(Long) == 0, first.Stderr);
        Assert.DoesNotContain(key, daemon.Output);
        Assert.DoesNotContain("not-the-key", daemon.Output);
    }

    [Fact]
    public async Task Garbage_on_the_rtmp_port_closes_only_that_connection()
    {
        var key = NewKey();
        // A reconnect window far longer than the test: the ENDLIST below can only come from ffmpeg's own unpublish.
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}", "--StreamVerse:Live:ReconnectWindowSeconds", "300"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 6);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));

        // Random bytes from the first byte, and a valid handshake followed by a hostile chunk stream.
        await AssertClosedAsync(daemon.RtmpPort, RandomNumberGenerator.GetBytes(4096), handshakeFirst: false);
        var hostile = new byte[64];
        hostile[0] = 0xC5; // fmt 3 (continuation) on csid 5, which never had a header
        await AssertClosedAsync(daemon.RtmpPort, hostile, handshakeFirst: true);

        Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
        using var health = await daemon.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        // ffmpeg has exited; the daemon may still be reading its FCUnpublish/deleteStream (the wait is only a guard).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var ended = "";
        while (!ended.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            ended = await Publishers.WaitForAsync(daemon.Http, "live/cam/video.m3u8", TimeSpan.FromSeconds(10));
            await Task.Delay(ended.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal) ? 0 : 100);
        }

        Assert.Contains("#EXT-X-ENDLIST", ended);
    }

    [Fact]
    public async Task Ll_hls_blocking_reload_and_http_semantics()
    {
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 12);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));

        var playlist = await daemon.Http.GetStringAsync("live/cam/video.m3u8");
        Assert.Contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES", playlist);
        Assert.Contains("#EXT-X-PART-INF:PART-TARGET=", playlist);
        var hint = Regex.Match(playlist, @"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=""(?<uri>[^""]+_(?<msn>\d+)\.(?<part>\d+)\.m4s)""");
        Assert.True(hint.Success, playlist);

        // A blocking request for the hinted part returns once it exists, listing it, and is not cacheable.
        using (var blocked = await daemon.Http.GetAsync($"live/cam/video.m3u8?_HLS_msn={hint.Groups["msn"].Value}&_HLS_part={hint.Groups["part"].Value}"))
        {
            Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
            Assert.Contains($"URI=\"{hint.Groups["uri"].Value}\"", await blocked.Content.ReadAsStringAsync());
            Assert.Contains("no-cache", blocked.Headers.CacheControl!.ToString());
        }

        using (var tooFar = await daemon.Http.GetAsync($"live/cam/video.m3u8?_HLS_msn={long.Parse(hint.Groups["msn"].Value) + 50}"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooFar.StatusCode);
            Assert.Equal("application/problem+json", tooFar.Content.Headers.ContentType!.MediaType);
        }

        using (var partOnly = await daemon.Http.GetAsync("live/cam/video.m3u8?_HLS_part=1"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, partOnly.StatusCode);
        }

        // The part itself: never changing but untokenised (bounded lifetime), HEAD, ETag, ranges, CORS.
        var partUrl = $"live/cam/{hint.Groups["uri"].Value}";
        using var part = await daemon.Http.GetAsync(partUrl);
        Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        Assert.Equal("video/mp4", part.Content.Headers.ContentType!.MediaType);
        Assert.Equal("public, max-age=300, stale-if-error=86400", part.Headers.CacheControl!.ToString());
        var body = await part.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, part.Content.Headers.ContentLength);
        Assert.Equal("moof", System.Text.Encoding.ASCII.GetString(body, 4, 4));

        using (var head = await daemon.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, partUrl)))
        {
            Assert.Equal(body.Length, head.Content.Headers.ContentLength);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        using (var conditional = new HttpRequestMessage(HttpMethod.Get, partUrl))
        {
            conditional.Headers.IfNoneMatch.Add(part.Headers.ETag!);
            using var notModified = await daemon.Http.SendAsync(conditional);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        using (var ranged = new HttpRequestMessage(HttpMethod.Get, partUrl))
        {
            ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 109);
            using var partial = await daemon.Http.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(body.AsSpan(10, 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());
            Assert.Equal($"bytes 10-109/{body.Length}", partial.Content.Headers.ContentRange!.ToString());
        }

        using (var cors = new HttpRequestMessage(HttpMethod.Get, "live/cam/index.m3u8"))
        {
            cors.Headers.Add("Origin", "https://player.example");
            using var response = await daemon.Http.SendAsync(cors);
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }

        using (var missing = await daemon.Http.GetAsync("live/nobody/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var traversal = await daemon.Http.GetAsync("live/cam/..%2F..%2Fetc%2Fpasswd"))
        {
            Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
        }

        Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
    }

    [Fact]
    public async Task Stalled_viewers_do_not_stall_ingest_or_other_viewers()
    {
        var key = NewKey();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 12);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        var playlist = await daemon.Http.GetStringAsync("live/cam/video.m3u8");
        var segment = Regex.Matches(playlist, @"^(?<uri>\S+_\d+\.m4s)$", RegexOptions.Multiline)[0].Groups["uri"].Value;

        // Viewers that ask for a segment many times over (pipelined) and never read a byte.
        var stalled = new List<TcpClient>();
        for (var i = 0; i < 20; i++)
        {
            var client = new TcpClient { ReceiveBufferSize = 1024 };
            await client.ConnectAsync(IPAddress.Loopback, daemon.HttpPort);
            var request = string.Concat(Enumerable.Repeat($"GET /live/cam/{segment} HTTP/1.1\r\nHost: x\r\n\r\n", 50));
            await client.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
            stalled.Add(client);
        }

        try
        {
            // Ingest keeps going: new segments keep appearing, and another viewer gets them promptly.
            var before = MaxSequence(await daemon.Http.GetStringAsync("live/cam/video.m3u8"));
            var started = DateTime.UtcNow;
            using var blocked = await daemon.Http.GetAsync($"live/cam/video.m3u8?_HLS_msn={before + 2}");
            Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
            Assert.True(MaxSequence(await blocked.Content.ReadAsStringAsync()) >= before + 2);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "ingest stalled behind stalled viewers");
            var bytes = await daemon.Http.GetByteArrayAsync($"live/cam/{segment}");
            Assert.True(bytes.Length > 1000);
        }
        finally
        {
            stalled.ForEach(c => c.Dispose());
        }

        Assert.True(await publisher.WaitAsync(Long) == 0, publisher.Stderr);
    }

    private static long MaxSequence(string playlist) =>
        Regex.Matches(playlist, @"_(?<msn>\d+)\.m4s$", RegexOptions.Multiline).Max(m => long.Parse(m.Groups["msn"].Value));

    [Fact]
    public async Task Sigterm_tells_the_publisher_and_finishes_the_recording()
    {
        var key = NewKey();
        var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        await using (daemon)
        {
            using var publisher = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 30);
            await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
            await Task.Delay(1000);

            Assert.Equal(0, await daemon.TerminateAsync(TimeSpan.FromSeconds(20)));
            await publisher.WaitAsync(TimeSpan.FromSeconds(20)); // the publisher is disconnected, not left hanging

            var recording = await File.ReadAllTextAsync(Path.Combine(daemon.DataDir, "live", "cam", "video.m3u8"));
            Assert.Contains("#EXT-X-ENDLIST", recording);
            Assert.DoesNotContain("Unhandled", daemon.Output);
        }
    }

    [Fact]
    public async Task Tls_endpoints_serve_http2_with_alpn_and_take_rtmps_publishes()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var dir = Directory.CreateTempSubdirectory("sv-tls-").FullName;
        var certPath = Path.Combine(dir, "cert.pem");
        var keyPath = Path.Combine(dir, "key.pem");
        await File.WriteAllTextAsync(certPath, cert.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        var httpsPort = Daemon.FreePort();
        var rtmpsPort = Daemon.FreePort();
        var key = NewKey();

        await using var daemon = await Daemon.StartAsync(["--https", $"127.0.0.1:{httpsPort}", "--rtmps", $"127.0.0.1:{rtmpsPort}",
            "--StreamVerse:CertificatePath", certPath, "--StreamVerse:CertificateKeyPath", keyPath, "--stream", $"cam={key}"]);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c!.Thumbprint == cert.Thumbprint };
        using var h2 = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{httpsPort}/"), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await h2.GetAsync("healthz").WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : throw new InvalidOperationException(daemon.Output, t.Exception));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        using var missing = await h2.GetAsync("live/none/index.m3u8");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // RTMPS: ffmpeg (its own TLS and RTMP stacks) publishes through TLS with the same stream key; the stream
        // plays like any RTMP publish. Cleartext RTMP on the RTMPS port is refused: the port only speaks TLS.
        var cleartext = await Tool.RunAsync("ffmpeg", Long, "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
            "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-f", "flv", $"rtmp://127.0.0.1:{rtmpsPort}/live/{key}");
        Assert.NotEqual(0, cleartext.ExitCode);

        using var publisher = Publishers.Ffmpeg($"rtmps://127.0.0.1:{rtmpsPort}/live/{key}", seconds: 6);
        await Publishers.WaitForAsync(daemon.Http, "live/cam/index.m3u8", TimeSpan.FromSeconds(20));
        var probe = await Tool.RunAsync("ffprobe", Long, "-v", "error", "-show_streams", "-of", "json", $"{daemon.BaseUrl}/live/cam/index.m3u8");
        Assert.True(probe.ExitCode == 0, probe.Stderr + daemon.Output);
        AssertStreams(probe.Stdout);
        Assert.Equal(0, await publisher.WaitAsync(Long));
    }

    [Fact]
    public async Task Metrics_pass_promtool()
    {
        await using var daemon = await Daemon.StartAsync();
        var text = await daemon.Http.GetStringAsync("metrics");
        Assert.Contains("streamverse_", text);
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, text);
        var check = await Tool.RunAsync("sh", Long, "-c", $"promtool check metrics < {file}");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
    }

    [Fact]
    public async Task Bad_configuration_stops_the_daemon_with_a_message_naming_the_key()
    {
        var run = await Tool.RunAsync("dotnet", Long, Paths.OriginDll, "--http", "not-an-endpoint", "--rtmp", "127.0.0.1:0");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("StreamVerse:Http", run.Stderr);

        var unknown = await Tool.RunAsync("dotnet", Long, Paths.OriginDll, "--bogus", "1");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--bogus", unknown.Stderr);

        var rtmps = await Tool.RunAsync("dotnet", Long, Paths.OriginDll, "--rtmps", "not-an-endpoint", "--rtmp", "127.0.0.1:0", "--http", "127.0.0.1:0");
        Assert.Equal(2, rtmps.ExitCode);
        Assert.Contains("StreamVerse:Rtmps", rtmps.Stderr);

        var noCertificate = await Tool.RunAsync("dotnet", Long, Paths.OriginDll, "--rtmps", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--http", "127.0.0.1:0");
        Assert.Equal(2, noCertificate.ExitCode);
        Assert.Contains("StreamVerse:CertificatePath", noCertificate.Stderr);
    }

    private static void AssertStreams(string ffprobeJson)
    {
        var streams = JsonDocument.Parse(ffprobeJson).RootElement.GetProperty("streams").EnumerateArray().ToList();
        var video = streams.Single(s => s.GetProperty("codec_type").GetString() == "video");
        Assert.Equal("h264", video.GetProperty("codec_name").GetString());
        Assert.Equal(320, video.GetProperty("width").GetInt32());
        Assert.Equal(240, video.GetProperty("height").GetInt32());
        var audio = streams.Single(s => s.GetProperty("codec_type").GetString() == "audio");
        Assert.Equal("aac", audio.GetProperty("codec_name").GetString());
    }

    private static async Task AssertClosedAsync(int port, byte[] payload, bool handshakeFirst)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        if (handshakeFirst)
        {
            var c0c1 = new byte[1537];
            c0c1[0] = 3;
            await stream.WriteAsync(c0c1);
            var s0s1s2 = new byte[3073];
            await stream.ReadExactlyAsync(s0s1s2);
            await stream.WriteAsync(s0s1s2.AsMemory(1, 1536)); // C2 echoes S1
        }

        await stream.WriteAsync(payload);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[65536];
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // reset by the server: closed too
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("the server kept a connection open after garbage");
        }
    }
}
