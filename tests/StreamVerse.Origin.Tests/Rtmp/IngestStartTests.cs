using System.Buffers.Binary;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Tests.Rtmp;

/// <summary>
/// The start of a publish (issue 17): refusals before anything exists (defect 5), the bounded wait for announced
/// tracks (defect 2), ending a publish from the control plane, and the health the ingest measures.
/// </summary>
public sealed class IngestStartTests
{
    private static readonly TimeSpan CloseWithin = TimeSpan.FromSeconds(5);

    private static byte[] Metadata(bool video = true, bool audio = true)
    {
        var o = new Amf0Object(isEcmaArray: true);
        if (video)
        {
            o.Add("width", 320d).Add("height", 240d).Add("framerate", 25d).Add("videocodecid", 7d);
        }

        if (audio)
        {
            o.Add("audiosamplerate", 48000d).Add("audiocodecid", 10d);
        }

        return Amf0Tests.Encode("@setDataFrame", "onMetaData", o);
    }

    private static async Task<Amf0Object> PublishStartedAsync(TestRtmpClient client)
    {
        await client.ConnectAndPublishAsync(RtmpTestServer.Key);
        var start = (Amf0Object)(await client.ReceiveCommandAsync("onStatus"))[3]!;
        Assert.Equal("NetStream.Publish.Start", start.GetString("code"));
        return start;
    }

    [Fact]
    public async Task Sorenson_video_after_audio_is_refused_with_Publish_Failed_before_a_stream_exists()
    {
        await using var server = await RtmpTestServer.StartAsync();
        await using var client = await TestRtmpClient.ConnectAsync(server.Port);
        await PublishStartedAsync(client);
        await client.SendAsync(4, RtmpMessageType.DataAmf0, 1, 0, Amf0Tests.Encode("@setDataFrame", "onMetaData",
            new Amf0Object(isEcmaArray: true).Add("width", 320d).Add("audiocodecid", 10d)));
        await client.SendAsync(4, RtmpMessageType.Audio, 1, 0, [0xAF, 0x00, 0x11, 0x90]);
        for (uint i = 0; i < 5; i++)
        {
            await client.SendAsync(4, RtmpMessageType.Audio, 1, i * 21, [0xAF, 0x01, 1, 2, 3]);
        }

        await client.SendAsync(6, RtmpMessageType.Video, 1, 0, [0x12, 0, 0, 0, 0, 0, 0]); // FLV CodecID 2: Sorenson H.263
        var status = (Amf0Object)(await client.ReceiveCommandAsync("onStatus"))[3]!;
        Assert.Equal("NetStream.Publish.Failed", status.GetString("code"));
        Assert.Equal("error", status.GetString("level"));
        Assert.Contains("FLV CodecID 2", status.GetString("description"), StringComparison.Ordinal);
        Assert.True(await client.WaitClosedAsync(CloseWithin));
        Assert.Empty(server.Target.Published);
    }

    [Fact]
    public async Task Ffmpeg_publishing_flv1_hears_why_and_nothing_is_created()
    {
        await using var server = await RtmpTestServer.StartAsync();
        var args = Processes.FfmpegPublishArgs(server.Url(RtmpTestServer.Key), 2).Replace("-c:v libx264 -bf 2 -g 25 -preset ultrafast", "-c:v flv1", StringComparison.Ordinal);
        var result = await Processes.RunAsync("ffmpeg", args, TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Unsupported video codec (FLV CodecID 2)", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(server.Target.Published);
    }

    [Fact]
    public async Task Bad_key_hears_Publish_Failed()
    {
        await using var server = await RtmpTestServer.StartAsync();
        await using var client = await TestRtmpClient.ConnectAsync(server.Port);
        await client.ConnectAndPublishAsync("not-a-key");
        var status = (Amf0Object)(await client.ReceiveCommandAsync("onStatus"))[3]!;
        Assert.Equal("NetStream.Publish.Failed", status.GetString("code"));
        Assert.Equal("error", status.GetString("level"));
        Assert.True(await client.WaitClosedAsync(CloseWithin));
        Assert.Empty(server.Target.Published);
    }

    /// <summary>An FLV file's tags (FLV specification 10.1, annex E.3): type, timestamp, body.</summary>
    private static List<(byte Type, uint Timestamp, byte[] Body)> FlvTags(byte[] file)
    {
        var tags = new List<(byte, uint, byte[])>();
        var at = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(5)) + 4;
        while (at + 11 <= file.Length)
        {
            var type = file[at];
            var size = (file[at + 1] << 16) | (file[at + 2] << 8) | file[at + 3];
            var timestamp = (uint)((file[at + 7] << 24) | (file[at + 4] << 16) | (file[at + 5] << 8) | file[at + 6]);
            tags.Add((type, timestamp, file.AsSpan(at + 11, size).ToArray()));
            at += 11 + size + 4;
        }

        return tags;
    }

    private sealed class RegistryTarget(LiveStreamRegistry registry) : ILivePublishTarget
    {
        public IMediaSink? TryBeginPublish(string streamName) => registry.TryStartPublishing(streamName);
    }

    [Fact]
    public async Task Audio_before_the_video_configuration_still_makes_a_stream_with_both_tracks()
    {
        // A real encode (ffmpeg -> FLV), sent as an encoder whose video starts late would: AAC configuration and
        // 400 ms of AAC frames first, then the AVC configuration and the rest.
        var flv = Path.Combine(Path.GetTempPath(), $"sv-trackwait-{Guid.NewGuid():N}.flv");
        var recordings = Directory.CreateTempSubdirectory("sv-trackwait-rec-").FullName;
        try
        {
            var encode = await Processes.RunAsync("ffmpeg",
                "-hide_banner -loglevel error -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 " +
                $"-t 3 -c:v libx264 -g 25 -preset ultrafast -pix_fmt yuv420p -c:a aac -f flv {flv}", TimeSpan.FromSeconds(60));
            Assert.True(encode.ExitCode == 0, encode.StandardError);
            var tags = FlvTags(await File.ReadAllBytesAsync(flv));
            var audio = tags.Where(t => t.Type == RtmpMessageType.Audio).ToList();
            var video = tags.Where(t => t.Type == RtmpMessageType.Video).ToList();
            var early = audio.Where(t => t.Body[1] == 0 || t.Timestamp < 400).ToList();
            var rest = audio.Except(early).Concat(video).OrderBy(t => t.Timestamp).ThenBy(t => t.Type == RtmpMessageType.Video ? 0 : 1).ToList();
            rest.Remove(video[0]);

            await using var registry = new LiveStreamRegistry(Options.Create(new SegmenterOptions { RecordingsPath = recordings }), TimeProvider.System, NullLoggerFactory.Instance);
            await using var server = await RtmpTestServer.StartAsync(services: s => s.AddSingleton<ILivePublishTarget>(new RegistryTarget(registry)));
            await using var client = await TestRtmpClient.ConnectAsync(server.Port);
            await PublishStartedAsync(client);
            await client.SendAsync(4, RtmpMessageType.DataAmf0, 1, 0, Metadata());
            foreach (var (type, timestamp, body) in early)
            {
                await client.SendAsync(4, type, 1, timestamp, body);
            }

            await client.SendAsync(6, RtmpMessageType.Video, 1, video[0].Timestamp, video[0].Body); // the AVC configuration
            foreach (var (type, timestamp, body) in rest)
            {
                await client.SendAsync(type == RtmpMessageType.Video ? 6 : 4, type, 1, timestamp, body);
            }

            LiveStream? stream = null;
            for (var i = 0; i < 200 && (stream = registry.FindLive(RtmpTestServer.StreamName)) is null; i++)
            {
                await Task.Delay(25);
            }

            Assert.NotNull(stream);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var master = await stream.GetMasterPlaylistAsync(cts.Token);
            var text = System.Text.Encoding.UTF8.GetString(master!.Chunks.SelectMany(c => c.ToArray()).ToArray());
            Assert.Contains("avc1.", text, StringComparison.Ordinal);
            Assert.Contains("mp4a.", text, StringComparison.Ordinal);
            Assert.NotNull(stream.View.Video);
            Assert.NotNull(stream.View.Audio);
            Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("started without", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(flv);
            Directory.Delete(recordings, recursive: true);
        }
    }

    [Fact]
    public async Task Announced_video_that_never_comes_starts_audio_only_after_the_wait_with_a_warning()
    {
        await using var server = await RtmpTestServer.StartAsync(new() { ["StreamVerse:Rtmp:TrackWaitMilliseconds"] = "300" });
        await using var client = await TestRtmpClient.ConnectAsync(server.Port);
        await PublishStartedAsync(client);
        await client.SendAsync(4, RtmpMessageType.DataAmf0, 1, 0, Metadata());
        await client.SendAsync(4, RtmpMessageType.Audio, 1, 0, [0xAF, 0x00, 0x11, 0x90]);
        for (uint i = 0; i < 5; i++)
        {
            await client.SendAsync(4, RtmpMessageType.Audio, 1, i * 21, [0xAF, 0x01, 1, 2, 3]);
        }

        // Nothing more is sent: the wait ends on its own.
        var sink = await server.Target.WaitForPublishAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (sink.SnapshotSamples().Length < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(5, sink.SnapshotSamples().Length);
        Assert.Single(sink.AudioConfigs);
        Assert.Empty(sink.VideoConfigs);
        Assert.Contains(server.Logs.Lines, l => l.StartsWith("Warning 6002 ", StringComparison.Ordinal) && l.Contains("without video", StringComparison.Ordinal));
    }

    /// <summary>Grants every key as key id <c>key-1</c> publishing <c>cam1</c>, as the control plane's keys are granted.</summary>
    private sealed class IdResolver : IStreamKeyResolver
    {
        public ValueTask<PublishGrant?> CheckAsync(string app, string key, CancellationToken cancellationToken) =>
            ValueTask.FromResult<PublishGrant?>(new PublishGrant("key-1", RtmpTestServer.StreamName));

        public ValueTask<string?> BeginAsync(PublishGrant grant, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(grant.Subject);
    }

    [Fact]
    public async Task Disconnect_ends_a_running_ffmpeg_publish_and_measures_its_health_before()
    {
        await using var server = await RtmpTestServer.StartAsync(services: s => s.AddSingleton<IStreamKeyResolver, IdResolver>());
        var publishers = server.Services.GetRequiredService<RtmpPublishers>();
        var args = Processes.FfmpegPublishArgs(server.Url("any"), 60).Replace("-g 25", "-g 50", StringComparison.Ordinal);
        var publish = Processes.RunAsync("ffmpeg", args, TimeSpan.FromSeconds(90));
        var sink = await server.Target.WaitForPublishAsync();

        // Three GOPs of 2 s at 25 fps, then the health says so (a publish with -re runs at real time).
        RtmpPublishInfo? info = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (info = publishers.Find(["key-1"]).SingleOrDefault()) is not { Health.VideoFrames: >= 130 })
        {
            await Task.Delay(100);
        }

        Assert.NotNull(info);
        Assert.Equal(RtmpTestServer.StreamName, info.StreamName);
        Assert.Equal(2.0, info.Health.KeyframeIntervalSeconds!.Value, 2);
        Assert.Equal(25.0, info.Health.FrameRate!.Value, 1);
        Assert.True(info.Health.BitsPerSecond > 0);
        Assert.True(info.Health.AudioFrames > 0);
        Assert.InRange(info.Health.AvDriftMilliseconds!.Value, -200, 200);
        Assert.Empty(StreamHealthWarnings.Of(info.Health, TimeSpan.FromSeconds(2)));
        Assert.Contains(StreamHealthWarnings.Of(info.Health, TimeSpan.FromSeconds(1)), w => w.Contains("longer than the segment target", StringComparison.Ordinal));
        Assert.Contains(StreamHealthWarnings.Of(info.Health, TimeSpan.FromSeconds(3)), w => w.Contains("does not divide", StringComparison.Ordinal));
        Assert.Empty(publishers.Find(["key-2"]));

        Assert.Equal(0, publishers.Disconnect(["key-2"], "no"));
        Assert.Equal(1, publishers.Disconnect(["key-1"], "The stream key was revoked."));

        // ffmpeg hears why and gives up long before its 60 s (or the 30 s idle timeout).
        var result = await publish.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("The stream key was revoked.", result.StandardError, StringComparison.Ordinal);
        await sink.Ended.Task.WaitAsync(CloseWithin);
        Assert.Equal(1, sink.Ends);
        Assert.Empty(publishers.Find(["key-1"]));
    }
}
