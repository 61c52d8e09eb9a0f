using System.Buffers.Binary;
using Microsoft.Extensions.DependencyInjection;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class RobustnessTests
{
    private static readonly TimeSpan CloseWithin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Garbage_connections_are_closed_while_a_concurrent_publish_completes()
    {
        await using var server = await RtmpTestServer.StartAsync();
        var publish = Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url(RtmpTestServer.Key)), TimeSpan.FromSeconds(30));
        var sink = await server.Target.WaitForPublishAsync();

        // 1. Random bytes from the first byte on (wrong C0 version), and a short HTTP request.
        var random = new byte[8192];
        new Random(42).NextBytes(random);
        random[0] = 0x17;
        await using var a = await TestRtmpClient.ConnectAsync(server.Port);
        await a.SendRawAsync(random);
        await using var http = await TestRtmpClient.ConnectAsync(server.Port);
        await http.SendRawAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        // 2. A valid handshake, then a continuation chunk for a chunk stream that never had a header.
        await using var b = await TestRtmpClient.ConnectAsync(server.Port);
        await b.HandshakeAsync();
        await b.SendRawAsync([0xC5, .. random[1..4000]]);

        // 3. A valid handshake, then an AMF nesting bomb in a command.
        await using var c = await TestRtmpClient.ConnectAsync(server.Port);
        await c.HandshakeAsync(digest: false);
        var bomb = Enumerable.Repeat<byte[]>([0x03, 0x00, 0x01, (byte)'a'], 2000).SelectMany(x => x).ToArray();
        await c.SendAsync(3, RtmpMessageType.CommandAmf0, 0, 0, [.. Amf0Tests.Encode("connect", 1d), .. bomb]);

        // 4. A valid handshake, then Set Chunk Size 0.
        await using var d = await TestRtmpClient.ConnectAsync(server.Port);
        await d.HandshakeAsync();
        await d.SendAsync(2, RtmpMessageType.SetChunkSize, 0, 0, [0, 0, 0, 0]);

        Assert.True(await a.WaitClosedAsync(CloseWithin));
        Assert.True(await http.WaitClosedAsync(TimeSpan.FromSeconds(3))); // well before the 10 s handshake timeout
        Assert.True(await b.WaitClosedAsync(CloseWithin));
        Assert.True(await c.WaitClosedAsync(CloseWithin));
        Assert.True(await d.WaitClosedAsync(CloseWithin));
        Assert.Equal(0, sink.Ends);

        var result = await publish;
        Assert.True(result.ExitCode == 0, result.StandardError);
        await sink.Ended.Task.WaitAsync(CloseWithin);
        FfmpegPublishTests.AssertGoodPublish(sink, expectBFrames: true);
        Assert.True(server.Logs.Lines.Count(l => l.Contains("protocol violation", StringComparison.Ordinal)) >= 5);
    }

    /// <summary>A video tag of <paramref name="length"/> bytes: an AVC keyframe NALU (length-prefixed, as FLV carries it).</summary>
    private static byte[] Keyframe(int length)
    {
        var tag = new byte[length];
        tag[0] = 0x17;
        tag[1] = 0x01;
        BinaryPrimitives.WriteInt32BigEndian(tag.AsSpan(5), length - 9);
        tag[9] = 0x65;
        return tag;
    }

    [Fact]
    public async Task Metadata_sent_again_is_logged_once_and_a_change_is_logged()
    {
        // GStreamer's flvmux resends onMetaData about once a second: each used to be an Information line.
        await using var server = await RtmpTestServer.StartAsync();
        await using var publisher = await TestRtmpClient.ConnectAsync(server.Port);
        await publisher.ConnectAndPublishAsync(RtmpTestServer.Key);
        await publisher.ReceiveCommandAsync("onStatus");
        foreach (var (width, height) in new[] { (640d, 360d), (640d, 360d), (640d, 360d), (1280d, 720d), (1280d, 720d) })
        {
            await publisher.SendAsync(4, RtmpMessageType.DataAmf0, 1, 0, Amf0Tests.Encode("@setDataFrame", "onMetaData",
                new Amf0Object(isEcmaArray: true).Add("width", width).Add("height", height).Add("framerate", 30d)));
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.Logs.Lines.Count(l => l.Contains(" 3114 ", StringComparison.Ordinal) || l.Contains(" 3119 ", StringComparison.Ordinal)) < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var informed = server.Logs.Lines.Where(l => l.StartsWith("Information 3114 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, informed.Count);
        Assert.Contains("640x360 at 30 fps", informed[0], StringComparison.Ordinal);
        Assert.Contains("1280x720 at 30 fps", informed[1], StringComparison.Ordinal);
        Assert.Equal(3, server.Logs.Lines.Count(l => l.StartsWith("Debug 3119 ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Oversized_messages_close_only_their_connection()
    {
        await using var server = await RtmpTestServer.StartAsync();
        var limit = TimeSpan.FromSeconds(3); // well before the 10 s handshake timeout

        // 1. Before connect, a connect command of about 70 KB: commands are capped at 64 KiB.
        await using var bigConnect = await TestRtmpClient.ConnectAsync(server.Port);
        await bigConnect.HandshakeAsync();
        await bigConnect.SendCommandAsync(0, "connect", 1d, new Amf0Object().Add("app", "live").Add("pad", new string('x', 70_000)));

        // 2. Connected but not publishing: a 100 KB video message, which a publisher may send, is over the
        //    64 KiB that any message may have before a publish starts.
        await using var early = await TestRtmpClient.ConnectAsync(server.Port);
        await early.HandshakeAsync();
        await early.SendCommandAsync(0, "connect", 1d, new Amf0Object().Add("app", "live"));
        await early.ReceiveCommandAsync("_result");
        await early.SendAsync(6, RtmpMessageType.Video, 1, 0, Keyframe(100_000));

        // 3. A publisher: a 100 KB keyframe is taken, a 70 KB command is not.
        await using var publisher = await TestRtmpClient.ConnectAsync(server.Port);
        await publisher.ConnectAndPublishAsync(RtmpTestServer.Key);
        await publisher.ReceiveCommandAsync("onStatus");
        await publisher.SendAsync(6, RtmpMessageType.Video, 1, 0, [0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF]);
        await publisher.SendAsync(6, RtmpMessageType.Video, 1, 0, Keyframe(100_000));
        var sink = await server.Target.WaitForPublishAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (sink.SnapshotSamples().Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(100_000 - 5, Assert.Single(sink.SnapshotSamples()).Length);
        await publisher.SendCommandAsync(1, "onTextData", 0d, null, new string('y', 70_000));

        Assert.True(await bigConnect.WaitClosedAsync(limit));
        Assert.True(await early.WaitClosedAsync(limit));
        Assert.True(await publisher.WaitClosedAsync(limit));
        await sink.Ended.Task.WaitAsync(CloseWithin);
        Assert.Equal(1, sink.Ends);
        var violations = server.Logs.Lines.Where(l => l.Contains("protocol violation", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, violations.Count(l => l.Contains("exceeds the 65536-byte limit", StringComparison.Ordinal)));
        Assert.All(violations, l => Assert.StartsWith("Warning 3100 ", l, StringComparison.Ordinal));
        Assert.All(violations, l => Assert.DoesNotContain(" at StreamVerse.", l, StringComparison.Ordinal)); // no stack trace
    }

    [Fact]
    public async Task Idle_socket_is_closed_after_the_handshake_timeout()
    {
        await using var server = await RtmpTestServer.StartAsync(new() { ["StreamVerse:Rtmp:HandshakeTimeout"] = "00:00:01" });
        await using var idle = await TestRtmpClient.ConnectAsync(server.Port);
        await using var connectedOnly = await TestRtmpClient.ConnectAsync(server.Port);
        await connectedOnly.HandshakeAsync();
        await connectedOnly.SendCommandAsync(0, "connect", 1d, new Amf0Object().Add("app", "live"));
        Assert.True(await idle.WaitClosedAsync(CloseWithin));
        Assert.True(await connectedOnly.WaitClosedAsync(CloseWithin));
        Assert.Contains(server.Logs.Lines, l => l.Contains("did not complete in time", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scripted_publish_control_messages_and_shutdown_unpublish()
    {
        var server = await RtmpTestServer.StartAsync();
        try
        {
            await using var client = await TestRtmpClient.ConnectAsync(server.Port);
            await client.ConnectAndPublishAsync(RtmpTestServer.Key + "?token=ignored");
            var start = await client.ReceiveCommandAsync("onStatus");
            Assert.Equal("NetStream.Publish.Start", ((Amf0Object)start[3]!).GetString("code"));

            // Ping request -> ping response with the same timestamp.
            await client.SendAsync(2, RtmpMessageType.UserControl, 0, 0, [0, 6, 0, 0, 0x12, 0x34]);
            Received pong;
            do
            {
                pong = await client.ReceiveAsync();
            }
            while (pong.Type != RtmpMessageType.UserControl || BinaryPrimitives.ReadUInt16BigEndian(pong.Payload) != 7);
            Assert.Equal(0x1234u, BinaryPrimitives.ReadUInt32BigEndian(pong.Payload.AsSpan(2)));

            // Unknown command with a transaction id -> _error.
            await client.SendCommandAsync(0, "getStreamLength", 7d, null, "x");
            var error = await client.ReceiveCommandAsync("_error");
            Assert.Equal(7d, error[1]);

            // Metadata, configs and frames, with a tiny window so the server has to acknowledge.
            var window = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(window, 100);
            await client.SendAsync(2, RtmpMessageType.WindowAcknowledgementSize, 0, 0, window);
            await client.SendAsync(4, RtmpMessageType.DataAmf0, 1, 0, Amf0Tests.Encode("@setDataFrame", "onMetaData",
                new Amf0Object(isEcmaArray: true).Add("width", 640d).Add("height", 360d).Add("framerate", 30d)));
            await client.SendAsync(6, RtmpMessageType.Video, 1, 0, [0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65]); // before config: dropped
            await client.SendAsync(6, RtmpMessageType.Video, 1, 0, [0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF]);
            await client.SendAsync(4, RtmpMessageType.Audio, 1, 0, [0xAF, 0x00, 0x11, 0x90]);
            for (uint i = 0; i < 10; i++)
            {
                await client.SendAsync(6, RtmpMessageType.Video, 1, i * 40, [(byte)(i == 0 ? 0x17 : 0x27), 0x01, 0, 0, 40, 0, 0, 0, 4, 0x65, 1, 2, 3, .. new byte[100]]);
                await client.SendAsync(4, RtmpMessageType.Audio, 1, i * 21, [0xAF, 0x01, 1, 2, 3]);
            }

            Received ack;
            do
            {
                ack = await client.ReceiveAsync();
            }
            while (ack.Type != RtmpMessageType.Acknowledgement);

            var sink = await server.Target.WaitForPublishAsync();
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (sink.SnapshotSamples().Length < 20 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            var samples = sink.SnapshotSamples();
            Assert.Equal(20, samples.Length);
            Assert.Equal(new Sample(TrackKind.Video, 0, 40 * 90, true, 108), samples[0]);
            Assert.Contains(server.Logs.Lines, l => l.Contains("640x360 at 30 fps", StringComparison.Ordinal));

            // Host shutdown: the publisher hears NetStream.Unpublish.Success and the sink ends once.
            var stop = server.StopAsync();
            var goodbye = await client.ReceiveCommandAsync("onStatus");
            Assert.Equal("NetStream.Unpublish.Success", ((Amf0Object)goodbye[3]!).GetString("code"));
            await stop.WaitAsync(TimeSpan.FromSeconds(10));
            await sink.Ended.Task.WaitAsync(CloseWithin);
            Assert.Equal(1, sink.Ends);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Play_is_refused_with_a_clear_error()
    {
        await using var server = await RtmpTestServer.StartAsync();
        await using var client = await TestRtmpClient.ConnectAsync(server.Port);
        await client.HandshakeAsync();
        await client.SendCommandAsync(0, "connect", 1d, new Amf0Object().Add("app", "live"));
        await client.ReceiveCommandAsync("_result");
        await client.SendCommandAsync(0, "createStream", 2d, null);
        await client.ReceiveCommandAsync("_result");
        await client.SendCommandAsync(1, "play", 3d, null, "cam1");
        var status = await client.ReceiveCommandAsync("onStatus");
        Assert.Equal("NetStream.Play.Failed", ((Amf0Object)status[3]!).GetString("code"));
        Assert.Contains("not offered", ((Amf0Object)status[3]!).GetString("description"), StringComparison.Ordinal);
        Assert.True(await client.WaitClosedAsync(CloseWithin));
        Assert.Empty(server.Target.Published);
    }

    [Fact]
    public async Task Unsupported_video_codec_closes_the_publish_with_a_reason()
    {
        await using var server = await RtmpTestServer.StartAsync();
        await using var client = await TestRtmpClient.ConnectAsync(server.Port);
        await client.ConnectAndPublishAsync(RtmpTestServer.Key);
        await client.ReceiveCommandAsync("onStatus");
        await client.SendAsync(6, RtmpMessageType.Video, 1, 0, [0x90, (byte)'h', (byte)'v', (byte)'c', (byte)'1', 1, 2, 3]);
        var status = await client.ReceiveCommandAsync("onStatus");
        Assert.Equal("NetStream.Publish.Failed", ((Amf0Object)status[3]!).GetString("code"));
        Assert.Contains("hvc1", ((Amf0Object)status[3]!).GetString("description"), StringComparison.Ordinal);
        Assert.True(await client.WaitClosedAsync(CloseWithin));

        // Refused before the stream started: nothing was created (issue 17, defect 5).
        Assert.Empty(server.Target.Published);
        Assert.Contains(server.Logs.Lines, l => l.Contains("unsupported codec FourCC hvc1", StringComparison.Ordinal));
        _ = server.Services.GetRequiredService<RtmpMetrics>();
    }
}
