using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Http.FastLane;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Http.FastLane;

/// <summary>The lane in a real Kestrel on 127.0.0.1:0, driven over raw TCP: what it answers, and what it hands to Kestrel.</summary>
[Collection(nameof(FastLaneConnectionTests))]
public sealed class FastLaneConnectionTests
{
    /// <summary>Serves <c>/obj</c> (a playlist, compressible), <c>/seg</c> (1 MiB in three chunks), <c>/wait</c> (completes when the test says).</summary>
    /// <summary>A live part path: the observer (audience analytics) observes it, with its CMCD, as the origin's lane does.</summary>
    private static ReadOnlySpan<byte> CmcdPath => "/live/cam/s1/video_12.3.m4s"u8;

    /// <summary>A part request as hls.js sends it with CMCD in query mode, plus the four headers and a browser's user agent.</summary>
    private static readonly string CmcdRequest = Get(
        "/live/cam/s1/video_12.3.m4s?CMCD=" + Uri.EscapeDataString("bl=4200,br=1289,d=1001,mtp=48100,ot=v,sf=h,sid=\"0b9f2a4c-7c1e\",st=l,su,tb=1289"),
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0\r\nCMCD-Request: bl=4200,mtp=48100\r\nCMCD-Object: br=1289,ot=v\r\n" +
        "CMCD-Status: bs\r\nCMCD-Session: sid=\"0b9f2a4c-7c1e\",st=l\r\n");

    /// <summary>Counts what the observer hands to analytics, allocating nothing.</summary>
    private sealed class CountingObservations : StreamVerse.ControlPlane.Analytics.IDeliveryObservations
    {
        public int Count;

        public void Record(in StreamVerse.ControlPlane.Analytics.DeliveryObservation observation) => Interlocked.Increment(ref Count);
    }

    private static readonly CountingObservations Observations = new();

    private static StreamVerse.Origin.Audience.DeliveryObserver NewObserver() => new(
        new ServiceCollection().AddSingleton<StreamVerse.ControlPlane.Analytics.IDeliveryObservations>(Observations).BuildServiceProvider(),
        new StreamVerse.Origin.Audience.LiveViewers(TimeProvider.System),
        TimeProvider.System,
        new StreamVerse.Origin.Limits.ViewerTierSelector(Microsoft.Extensions.Options.Options.Create(new StreamVerse.Origin.Limits.LimitsOptions())),
        Microsoft.Extensions.Options.Options.Create(new StreamVerse.Origin.Limits.LimitsOptions()));

    private sealed class TestRouter : IFastLaneRouter
    {
        public static readonly byte[] Immutable = "Cache-Control: public, max-age=31536000, immutable\r\n"u8.ToArray();
        public static readonly byte[] Short = "Cache-Control: public, max-age=1\r\n"u8.ToArray();

        public StoredObject Playlist { get; } = new StoredObject(
            [Encoding.ASCII.GetBytes("#EXTM3U\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"#EXTINF:2.000,\nseg_{i}.m4s\n")))], "\"pl-1\"", "application/vnd.apple.mpegurl");

        public StoredObject Segment { get; } = MakeSegment();

        public TaskCompletionSource<FastLaneAnswer> Wait { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Routed;

        private static StoredObject MakeSegment()
        {
            var bytes = new byte[1 << 20];
            new Random(7).NextBytes(bytes);
            return new StoredObject([bytes.AsMemory(0, 100_000), bytes.AsMemory(100_000, 600_000), bytes.AsMemory(700_000)], "\"seg-1\"", "video/mp4");
        }

        public bool TryRoute(scoped in FastLaneRequest request, CancellationToken cancellationToken, out ValueTask<FastLaneAnswer> answer)
        {
            Interlocked.Increment(ref Routed);
            var path = request.Path;
            answer = default;
            if (path.SequenceEqual("/obj"u8) || path.SequenceEqual(CmcdPath))
            {
                answer = new(new FastLaneAnswer(Playlist, Short, DeliveryMetrics.Kind.Playlist, Compress: true));
                return true;
            }

            if (path.SequenceEqual("/seg"u8))
            {
                answer = new(new FastLaneAnswer(Segment, Immutable, DeliveryMetrics.Kind.Segment, Compress: false));
                return true;
            }

            if (path.SequenceEqual("/wait"u8))
            {
                answer = new(Wait.Task);
                return true;
            }

            if (path.SequenceEqual("/huge-head"u8))
            {
                // An origin's header passed on as it came (an edge's ETag): more than a response head's buffer holds.
                var etag = new StoredObject([Encoding.ASCII.GetBytes("#EXTM3U\n")], "\"" + new string('e', 5000) + "\"", "application/vnd.apple.mpegurl");
                answer = new(new FastLaneAnswer(etag, Short, DeliveryMetrics.Kind.Playlist, Compress: false));
                return true;
            }

            if (path.SequenceEqual("/huge-problem"u8))
            {
                answer = new(new FastLaneAnswer(null, Short, DeliveryMetrics.Kind.Segment, false,
                    new FastLaneProblem(404, "Not Found", string.Empty, string.Empty, Short) { RawBody = [], RawContentType = "text/plain; x=" + new string('t', 5000) }));
                return true;
            }

            return false;
        }
    }

    private sealed class Host : IAsyncDisposable
    {
        private readonly WebApplication _app;

        public Host(WebApplication app, TestRouter router, string? bodies)
        {
            _app = app;
            BodiesDirectory = bodies;
            Router = router;
            Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        }

        public TestRouter Router { get; }

        /// <summary>The lane's directory for zero-copy files; null when it uses memfds.</summary>
        public string? BodiesDirectory { get; }

        public int Port { get; }

        public int KestrelRequests;

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            if (BodiesDirectory is not null)
            {
                Directory.Delete(BodiesDirectory, recursive: true);
            }
        }
    }

    /// <param name="loops">The lane behind event loops (<see cref="EpollFront"/>, as the origin runs it on Linux) rather than on Kestrel's socket transport alone.</param>
    private static async Task<Host> StartAsync(bool loops, TimeSpan? keepAlive = null, bool anyOrigin = true, bool memfd = false,
        long? maxConnections = null, MinDataRate? minResponseRate = null)
    {
        var router = new TestRouter();
        var directory = memfd ? null : Directory.CreateTempSubdirectory("sv-zero-copy-").FullName;
        var bodies = new ZeroCopyBodies(directory, NullLogger.Instance);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        Host? host = null;
        var offers = new EpollFrontOffers();
        if (loops)
        {
            builder.Services.AddSingleton(offers);
            builder.Services.Configure<DeliveryOptions>(o => o.EventLoops = 2);
            builder.Services.RemoveAll<IConnectionListenerFactory>();
            builder.Services.AddSingleton<IConnectionListenerFactory, EpollFrontTransport>();
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            if (keepAlive is { } timeout)
            {
                k.Limits.KeepAliveTimeout = timeout;
            }

            k.Limits.MaxConcurrentConnections = maxConnections;
            if (minResponseRate is not null)
            {
                k.Limits.MinResponseDataRate = minResponseRate;
            }

            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(next =>
                {
                    var lane = new Http1FastLane(router, TimeProvider.System, k.Limits, bodies, NullLogger.Instance, anyOrigin: anyOrigin, observer: NewObserver());
                    if (loops)
                    {
                        offers.Offer(listen.EndPoint, lane, k.Limits);
                    }

                    return lane.Wrap(next);
                });
            });
        });
        var app = builder.Build();
        app.Run(async context =>
        {
            Interlocked.Increment(ref host!.KestrelRequests);
            var body = Encoding.ASCII.GetBytes("routed " + context.Request.Method + " " + context.Request.Path);
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        // With loops the transport bound the lane's endpoint itself: the lane's offer was taken.
        Assert.Equal(0, offers.Pending);
        host = new Host(app, router, directory);
        return host;
    }

    /// <summary>A raw HTTP/1.1 client that reads Content-Length framed responses.</summary>
    private sealed class RawClient : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<byte> _pending = [];
        private readonly byte[] _buffer = new byte[256 * 1024];

        public RawClient(int port)
        {
            _socket.Connect(IPAddress.Loopback, port);
            _socket.ReceiveTimeout = 10_000;
        }

        public void Send(string text) => _socket.Send(Encoding.ASCII.GetBytes(text));

        public async Task<Response> ReadAsync(bool headRequest = false)
        {
            int end;
            while ((end = IndexOf(_pending, "\r\n\r\n"u8)) < 0)
            {
                await FillAsync();
            }

            var head = Encoding.ASCII.GetString(_pending.GetRange(0, end).ToArray());
            _pending.RemoveRange(0, end + 4);
            var lines = head.Split("\r\n");
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            var status = int.Parse(lines[0].Split(' ')[1]);
            var length = headRequest || status == 304 || !headers.TryGetValue("Content-Length", out var cl) ? 0 : int.Parse(cl);
            while (_pending.Count < length)
            {
                await FillAsync();
            }

            var body = _pending.GetRange(0, length).ToArray();
            _pending.RemoveRange(0, length);
            return new Response(status, lines[0], headers, body);
        }

        /// <summary>True once the server closed the connection (a read returns 0).</summary>
        public async Task<bool> ClosedAsync(TimeSpan within)
        {
            using var cts = new CancellationTokenSource(within);
            try
            {
                return await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token) == 0;
            }
            catch (SocketException)
            {
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        private async Task FillAsync()
        {
            var n = await _socket.ReceiveAsync(_buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
            if (n == 0)
            {
                throw new IOException("the server closed the connection");
            }

            _pending.AddRange(_buffer.AsSpan(0, n).ToArray());
        }

        private static int IndexOf(List<byte> list, ReadOnlySpan<byte> value) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list).IndexOf(value);

        public void Dispose() => _socket.Dispose();
    }

    private sealed record Response(int Status, string StatusLine, Dictionary<string, string> Headers, byte[] Body)
    {
        public string Text => Encoding.ASCII.GetString(Body);
    }

    private static string Get(string path, string extra = "") => $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Answers_stored_objects_with_the_routed_paths_headers(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        client.Send(Get("/obj"));
        var r = await client.ReadAsync();
        Assert.Equal("HTTP/1.1 200 OK", r.StatusLine);
        Assert.Equal(host.Router.Playlist.Chunks[0].ToArray(), r.Body);
        Assert.Equal(r.Body.Length.ToString(), r.Headers["Content-Length"]);
        Assert.Equal("application/vnd.apple.mpegurl", r.Headers["Content-Type"]);
        Assert.Equal("public, max-age=1", r.Headers["Cache-Control"]);
        Assert.Equal("\"pl-1\"", r.Headers["ETag"]);
        Assert.Equal("bytes", r.Headers["Accept-Ranges"]);
        Assert.Equal("Accept-Encoding", r.Headers["Vary"]);
        Assert.True(DateTimeOffset.TryParse(r.Headers["Date"], out var date) && Math.Abs((date - DateTimeOffset.UtcNow).TotalSeconds) < 5);
        Assert.False(r.Headers.ContainsKey("Content-Encoding"));

        client.Send(Get("/seg"));
        var seg = await client.ReadAsync();
        Assert.Equal(200, seg.Status);
        Assert.Equal(host.Router.Segment.Length, seg.Body.Length);
        Assert.Equal(Concat(host.Router.Segment), seg.Body);
        Assert.Equal("public, max-age=31536000, immutable", seg.Headers["Cache-Control"]);
        Assert.False(seg.Headers.ContainsKey("Vary"));
        Assert.Equal(0, host.KestrelRequests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cross_origin_request_gets_the_delivery_policys_cors_headers_or_with_a_list_of_origins_goes_to_kestrel(bool loops)
    {
        await using (var host = await StartAsync(loops))
        {
            using var client = new RawClient(host.Port);
            client.Send(Get("/obj"));
            Assert.False((await client.ReadAsync()).Headers.ContainsKey("Access-Control-Allow-Origin"));
            client.Send(Get("/seg", "Origin: https://player.example\r\nRange: bytes=0-9\r\n"));
            var r = await client.ReadAsync();
            Assert.Equal(206, r.Status);
            Assert.Equal("*", r.Headers["Access-Control-Allow-Origin"]);
            Assert.Equal("Content-Length,Content-Range,ETag,Date,Age", r.Headers["Access-Control-Expose-Headers"]);
            Assert.False(r.Headers.ContainsKey("Vary"));
            Assert.Equal(0, host.KestrelRequests);
        }

        await using (var host = await StartAsync(loops, anyOrigin: false))
        {
            using var client = new RawClient(host.Port);
            client.Send(Get("/obj", "Origin: https://player.example\r\n"));
            Assert.Equal("routed GET /obj", (await client.ReadAsync()).Text);
            Assert.Equal(1, host.KestrelRequests);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Conditional_range_head_and_compressed_requests(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        var segment = Concat(host.Router.Segment);

        client.Send(Get("/seg", "If-None-Match: \"other\", W/\"seg-1\"\r\n"));
        var notModified = await client.ReadAsync();
        Assert.Equal("HTTP/1.1 304 Not Modified", notModified.StatusLine);
        Assert.False(notModified.Headers.ContainsKey("Content-Length"));
        Assert.Equal("\"seg-1\"", notModified.Headers["ETag"]);

        // A range across the object's chunk boundaries.
        client.Send(Get("/seg", "Range: bytes=99990-700009\r\n"));
        var partial = await client.ReadAsync();
        Assert.Equal("HTTP/1.1 206 Partial Content", partial.StatusLine);
        Assert.Equal($"bytes 99990-700009/{segment.Length}", partial.Headers["Content-Range"]);
        Assert.Equal(segment.AsSpan(99990, 600020).ToArray(), partial.Body);

        client.Send(Get("/seg", "Range: bytes=-10\r\n"));
        Assert.Equal(segment[^10..], (await client.ReadAsync()).Body);

        client.Send(Get("/seg", "Range: bytes=5000000-\r\n"));
        var unsatisfiable = await client.ReadAsync();
        Assert.Equal(416, unsatisfiable.Status);
        Assert.Equal($"bytes */{segment.Length}", unsatisfiable.Headers["Content-Range"]);
        Assert.Empty(unsatisfiable.Body);

        // If-Range with another validator: the whole object (RFC 9110 §13.1.5).
        client.Send(Get("/seg", "Range: bytes=0-9\r\nIf-Range: \"old\"\r\n"));
        var whole = await client.ReadAsync();
        Assert.Equal(200, whole.Status);
        Assert.Equal(segment.Length, whole.Body.Length);

        client.Send($"HEAD /seg HTTP/1.1\r\nHost: x\r\n\r\n");
        var head = await client.ReadAsync(headRequest: true);
        Assert.Equal(200, head.Status);
        Assert.Equal(segment.Length.ToString(), head.Headers["Content-Length"]);

        client.Send(Get("/obj", "Accept-Encoding: gzip;q=1, br;q=0\r\n"));
        var gz = await client.ReadAsync();
        Assert.Equal("gzip", gz.Headers["Content-Encoding"]);
        Assert.Equal("\"pl-1-gz\"", gz.Headers["ETag"]);
        using (var unzip = new GZipStream(new MemoryStream(gz.Body), CompressionMode.Decompress))
        using (var plain = new MemoryStream())
        {
            unzip.CopyTo(plain);
            Assert.Equal(host.Router.Playlist.Chunks[0].ToArray(), plain.ToArray());
        }

        client.Send(Get("/obj", "Accept-Encoding: br\r\n"));
        Assert.Equal("br", (await client.ReadAsync()).Headers["Content-Encoding"]);
        Assert.Equal(0, host.KestrelRequests);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Large_bodies_asked_again_go_with_sendfile_and_arrive_whole_even_to_a_slow_reader(bool memfd, bool loops)
    {
        await using var host = await StartAsync(loops, memfd: memfd);
        var segment = Concat(host.Router.Segment);
        using var client = new RawClient(host.Port);
        // The first request is sent from the buffers; from the second on, the body comes from a file (sendfile).
        for (var i = 0; i < 3; i++)
        {
            client.Send(Get("/seg"));
            Assert.Equal(segment, (await client.ReadAsync()).Body);
        }

        // The file the repeated requests made is among this process's open files: an unnamed file in the lane's
        // directory (readlink shows "DIR/#INODE (deleted)") or a memfd; nothing is ever named in the directory.
        var prefix = memfd ? "/memfd:streamverse-object" : host.BodiesDirectory + "/#";
        var files = Directory.EnumerateFiles("/proc/self/fd").Count(fd => new FileInfo(fd).LinkTarget?.StartsWith(prefix, StringComparison.Ordinal) == true);
        if (memfd)
        {
            // Other tests of this process may hold memfds of their own.
            Assert.True(files >= 1);
        }
        else
        {
            Assert.Equal(1, files);
            Assert.Empty(Directory.EnumerateFileSystemEntries(host.BodiesDirectory!));
        }
        client.Send(Get("/seg", "Range: bytes=123457-900000\r\n") + Get("/seg", "Range: bytes=1000000-\r\n"));
        Assert.Equal(segment.AsSpan(123457, 900000 - 123457 + 1).ToArray(), (await client.ReadAsync()).Body);
        Assert.Equal(segment.AsSpan(1000000).ToArray(), (await client.ReadAsync()).Body);

        // A reader that takes its time with a small receive buffer: sendfile stops at a full socket buffer, the rest
        // waits in the sender and sendfile goes on; the bytes and their order must not change.
        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        slow.Connect(IPAddress.Loopback, host.Port);
        slow.Send(Encoding.ASCII.GetBytes(Get("/seg") + Get("/obj") + Get("/seg")));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        var expected = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline;)
        {
            var n = slow.Receive(buffer);
            Assert.True(n > 0, "the server closed the connection");
            received.Write(buffer, 0, n);
            if (received.Length < 200_000)
            {
                await Task.Delay(20);
            }

            expected = ExpectedLength(received.ToArray());
            if (expected > 0 && received.Length >= expected)
            {
                break;
            }
        }

        var bytes = received.ToArray();
        Assert.Equal(expected, bytes.Length);
        var responses = Split(bytes);
        Assert.Equal(3, responses.Count);
        Assert.Equal(segment, responses[0]);
        Assert.Equal(host.Router.Playlist.Chunks[0].ToArray(), responses[1]);
        Assert.Equal(segment, responses[2]);

        // Three framed responses back to back: the total they announce (0 while a head is still missing).
        static int ExpectedLength(byte[] all)
        {
            var offset = 0;
            for (var i = 0; i < 3; i++)
            {
                var end = all.AsSpan(offset).IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    return 0;
                }

                var head = Encoding.ASCII.GetString(all, offset, end);
                var length = int.Parse(head.Split("\r\n").First(l => l.StartsWith("Content-Length:")).Split(':')[1]);
                offset += end + 4 + length;
                if (offset > all.Length && i < 2)
                {
                    return 0;
                }
            }

            return offset;
        }

        static List<byte[]> Split(byte[] all)
        {
            var list = new List<byte[]>();
            var offset = 0;
            while (offset < all.Length)
            {
                var end = all.AsSpan(offset).IndexOf("\r\n\r\n"u8);
                var head = Encoding.ASCII.GetString(all, offset, end);
                var length = int.Parse(head.Split("\r\n").First(l => l.StartsWith("Content-Length:")).Split(':')[1]);
                list.Add(all.AsSpan(offset + end + 4, length).ToArray());
                offset += end + 4 + length;
            }

            return list;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipelined_requests_are_answered_in_order_and_a_request_it_does_not_answer_hands_over_the_rest(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        // Three for the lane, then one it does not route, then two more: Kestrel answers the last three.
        client.Send(Get("/obj") + Get("/seg", "Range: bytes=0-3\r\n") + Get("/obj") + Get("/other") + Get("/obj") +
                    "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        Assert.Equal(200, (await client.ReadAsync()).Status);
        Assert.Equal(206, (await client.ReadAsync()).Status);
        Assert.Equal(200, (await client.ReadAsync()).Status);
        Assert.Equal("routed GET /other", (await client.ReadAsync()).Text);
        Assert.Equal("routed GET /obj", (await client.ReadAsync()).Text);
        Assert.Equal("routed POST /form", (await client.ReadAsync()).Text);
        Assert.Equal(3, host.KestrelRequests);

        // A new connection starts in the lane again; Kestrel's own answer to a malformed request is untouched.
        using var second = new RawClient(host.Port);
        second.Send("GET /obj HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
        Assert.Equal(400, (await second.ReadAsync()).Status);

        // A Host Kestrel refuses is Kestrel's 400, not the lane's 200 (the http-head fuzz target's finding).
        using var third = new RawClient(host.Port);
        third.Send("GET /obj HTTP/1.1\r\nHost: a b\r\n\r\n");
        Assert.Equal(400, (await third.ReadAsync()).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_response_head_that_outgrows_the_lanes_buffer_goes_to_kestrel_and_is_answered(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        client.Send(Get("/obj") + Get("/huge-head") + Get("/obj"));
        Assert.Equal(200, (await client.ReadAsync()).Status);
        Assert.Equal("routed GET /huge-head", (await client.ReadAsync()).Text);
        Assert.Equal("routed GET /obj", (await client.ReadAsync()).Text);

        using var problem = new RawClient(host.Port);
        problem.Send(Get("/huge-problem"));
        Assert.Equal("routed GET /huge-problem", (await problem.ReadAsync()).Text);
        Assert.Equal(3, host.KestrelRequests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_head_split_across_reads_goes_to_kestrel_and_is_answered(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        client.Send("GET /obj HTTP/1.1\r\nHo");
        await Task.Delay(200);
        client.Send("st: x\r\n\r\n");
        Assert.Equal("routed GET /obj", (await client.ReadAsync()).Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connection_close_is_honoured(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        client.Send(Get("/obj", "Connection: close\r\n"));
        var r = await client.ReadAsync();
        Assert.Equal("close", r.Headers["Connection"]);
        Assert.True(await client.ClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_idle_connection_is_closed_after_the_keep_alive_timeout(bool loops)
    {
        await using var host = await StartAsync(loops, keepAlive: TimeSpan.FromSeconds(1));
        using var client = new RawClient(host.Port);
        client.Send(Get("/obj"));
        Assert.Equal(200, (await client.ReadAsync()).Status);
        // Kestrel's heartbeat runs once a second: closed within a few.
        Assert.True(await client.ClosedAsync(TimeSpan.FromSeconds(6)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_pending_answer_is_sent_when_it_completes_and_a_problem_can_end_the_wait(bool loops)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        client.Send(Get("/wait") + Get("/obj"));
        await Task.Delay(100);
        host.Router.Wait.SetResult(new FastLaneAnswer(host.Router.Playlist, TestRouter.Short, DeliveryMetrics.Kind.Playlist, Compress: false));
        Assert.Equal(host.Router.Playlist.Chunks[0].ToArray(), (await client.ReadAsync()).Body);
        Assert.Equal(200, (await client.ReadAsync()).Status);
        // Each request routed once: with loops, the waiting answer went along with the connection to Kestrel's transport.
        Assert.Equal(2, host.Router.Routed);

        host.Router.Wait = new(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Send(Get("/wait"));
        host.Router.Wait.SetResult(new FastLaneAnswer(null, TestRouter.Short, DeliveryMetrics.Kind.Playlist, false,
            new FastLaneProblem(503, "Service Unavailable", "https://tools.ietf.org/html/rfc9110#section-15.6.4", "not in time", "Cache-Control: no-cache\r\n"u8.ToArray())));
        var problem = await client.ReadAsync();
        Assert.Equal("HTTP/1.1 503 Service Unavailable", problem.StatusLine);
        Assert.Equal("application/problem+json", problem.Headers["Content-Type"]);
        Assert.Equal("no-cache", problem.Headers["Cache-Control"]);
        Assert.Contains("\"detail\":\"not in time\"", problem.Text);
        Assert.Contains("\"status\":503", problem.Text);

        // A wait that ends in "not here" hands the request (unconsumed) to Kestrel.
        host.Router.Wait = new(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Send(Get("/wait"));
        host.Router.Wait.SetResult(FastLaneAnswer.HandOver);
        Assert.Equal("routed GET /wait", (await client.ReadAsync()).Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_connection_limit_counts_every_open_connection_wherever_it_is_served(bool loops)
    {
        await using var host = await StartAsync(loops, maxConnections: 2);
        using var lane = new RawClient(host.Port);
        lane.Send(Get("/obj"));
        Assert.Equal(200, (await lane.ReadAsync()).Status);
        // The second one is Kestrel's after its first request (with loops: given to Kestrel's transport).
        using var routed = new RawClient(host.Port);
        routed.Send(Get("/other"));
        Assert.Equal("routed GET /other", (await routed.ReadAsync()).Text);

        using (var third = new RawClient(host.Port))
        {
            // Accepted by the kernel, then closed unanswered.
            third.Send(Get("/obj"));
            Assert.True(await third.ClosedAsync(TimeSpan.FromSeconds(5)));
        }

        routed.Dispose();
        // Once one has closed there is room again (the server notices the close at once; allow it a moment).
        Response? answer = null;
        for (var attempt = 0; attempt < 50 && answer is null; attempt++)
        {
            using var next = new RawClient(host.Port);
            next.Send(Get("/obj"));
            try
            {
                answer = await next.ReadAsync();
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(200, answer?.Status);
        lane.Send(Get("/obj"));
        Assert.Equal(200, (await lane.ReadAsync()).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_does_not_read_its_response_is_closed_at_the_minimum_data_rate(bool loops)
    {
        await using var host = await StartAsync(loops, minResponseRate: new MinDataRate(bytesPerSecond: 100_000, gracePeriod: TimeSpan.FromSeconds(2)));
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        stalled.Connect(IPAddress.Loopback, host.Port);
        // Eight 1 MiB responses: more than the sockets' buffers hold, so the server waits for a reader that never reads.
        stalled.Send(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Get("/seg"), 8))));
        await Task.Delay(TimeSpan.FromSeconds(2));
        // 2 s grace + 1 MiB at 100 KB/s: closed (reset) by about 13 s after the wait began; the heartbeat checks once a second.
        var closed = false;
        var buffer = new byte[64 * 1024];
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline && !closed;)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (DateTime.UtcNow > deadline.AddSeconds(-12))
            {
                // After the limit has passed: drain what the kernel holds; the end (0 or a reset) must come.
                try
                {
                    stalled.ReceiveTimeout = 2000;
                    while (true)
                    {
                        var n = stalled.Receive(buffer);
                        if (n == 0)
                        {
                            closed = true;
                            break;
                        }
                    }
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset)
                {
                    closed = true;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut)
                {
                }
            }
        }

        Assert.True(closed, "the stalled connection was never closed");
        // Others are untouched.
        using var other = new RawClient(host.Port);
        other.Send(Get("/obj"));
        Assert.Equal(200, (await other.ReadAsync()).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stopping_the_server_closes_idle_connections(bool loops)
    {
        var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        client.Send(Get("/obj"));
        Assert.Equal(200, (await client.ReadAsync()).Status);
        var stopping = host.DisposeAsync().AsTask();
        Assert.True(await client.ClosedAsync(TimeSpan.FromSeconds(10)));
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <param name="cmcd">A live part with CMCD in the query and the headers (issue 19): the observer reads it, hashes the
    /// viewer, counts the live viewer and hands an observation to analytics, all without allocating.</param>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Serving_from_the_lane_allocates_nothing_per_request(bool loops, bool cmcd)
    {
        await using var host = await StartAsync(loops);
        using var client = new RawClient(host.Port);
        var observedBefore = Volatile.Read(ref Observations.Count);
        var request = Encoding.ASCII.GetBytes(cmcd ? CmcdRequest : Get("/obj"));
        var buffer = new byte[64 * 1024];
        var expected = 0;
        expected = (await Measure(1)).Length;
        // Warm up (JIT, pools), then count every byte the process allocates over a short and a long run: the
        // difference is what the extra requests cost, whatever a run costs once (a connection, the Date line).
        await Measure(20000);
        // Three attempts, the lowest counts: a thread the pool adds on a loaded machine (a Thread object and its
        // buffers) lands in one attempt, while anything allocated per request shows in all of them.
        var best = double.MaxValue;
        var report = "";
        for (var attempt = 0; attempt < 3 && best >= 4; attempt++)
        {
            var start = GC.GetTotalAllocatedBytes(precise: true);
            await Measure(1000);
            var shortRun = GC.GetTotalAllocatedBytes(precise: true) - start;
            using var ticks = new AllocationTicks();
            start = GC.GetTotalAllocatedBytes(precise: true);
            ticks.Start();
            await Measure(11000);
            ticks.Stop();
            var longRun = GC.GetTotalAllocatedBytes(precise: true) - start;
            var perRequest = (longRun - shortRun) / 10000.0;
            if (perRequest < best)
            {
                best = perRequest;
                report = $"runs {shortRun} and {longRun} bytes; allocation ticks: " + string.Join(", ", ticks.Ticks.Select(t => t.Type));
            }
        }

        // The smallest object is 24 bytes: anything allocated per request would show as 24 or more.
        Assert.True(best < 4, $"{best:F2} bytes allocated per request (the client included); {report}");
        if (cmcd)
        {
            Assert.True(Volatile.Read(ref Observations.Count) - observedBefore >= 20000, "the observer did not see the requests");
        }

        Task<byte[]> Measure(int count)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // Blocking calls only: a socket that never went async allocates nothing per call, so what is counted is the server's.
            socket.Connect(IPAddress.Loopback, host.Port);
            var total = 0;
            for (var i = 0; i < count; i++)
            {
                socket.Send(request);
                // One response: head + body; the body length is fixed, so read until that many bytes arrived.
                total = 0;
                do
                {
                    total += socket.Receive(buffer, total, buffer.Length - total, SocketFlags.None);
                }
                while (expected == 0 ? IndexOf(buffer.AsSpan(0, total)) < 0 : total < expected);
            }

            return Task.FromResult(buffer[..total]);
        }

        static int IndexOf(ReadOnlySpan<byte> b)
        {
            var end = b.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return -1;
            }

            var head = Encoding.ASCII.GetString(b[..end]);
            var length = int.Parse(head.Split("\r\n").First(l => l.StartsWith("Content-Length:")).Split(':')[1]);
            return b.Length >= end + 4 + length ? end : -1;
        }
    }

    private static byte[] Concat(StoredObject obj) => obj.Chunks.SelectMany(c => c.ToArray()).ToArray();
}

/// <summary>Alone: the allocation test counts every byte the process allocates, so nothing else may run beside it.</summary>
[CollectionDefinition(nameof(FastLaneConnectionTests), DisableParallelization = true)]
public sealed class FastLaneConnectionCollection;
