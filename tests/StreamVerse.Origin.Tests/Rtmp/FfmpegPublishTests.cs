using Microsoft.Extensions.DependencyInjection;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class FfmpegPublishTests
{
    internal static void AssertGoodPublish(RecordingSink sink, bool expectBFrames)
    {
        Assert.NotEmpty(sink.VideoConfigs);
        Assert.Equal(1, sink.VideoConfigs[0][0]); // AVCDecoderConfigurationRecord version
        Assert.NotEmpty(sink.AudioConfigs);
        var samples = sink.SnapshotSamples();
        var video = samples.Where(s => s.Track == TrackKind.Video).ToArray();
        var audio = samples.Where(s => s.Track == TrackKind.Audio).ToArray();
        Assert.True(video.Length > 10, $"{video.Length} video samples");
        Assert.True(audio.Length > 10, $"{audio.Length} audio samples");
        Assert.True(video[0].IsKeyframe);
        Assert.Contains(video.Skip(1), s => s.IsKeyframe);
        for (var i = 1; i < video.Length; i++)
        {
            Assert.True(video[i].Dts > video[i - 1].Dts, $"video DTS not increasing at {i}");
        }

        for (var i = 1; i < audio.Length; i++)
        {
            Assert.True(audio[i].Dts >= audio[i - 1].Dts, $"audio DTS not monotonic at {i}");
        }

        Assert.All(video, s => Assert.True(s.Pts >= s.Dts));
        if (expectBFrames)
        {
            Assert.Contains(video, s => s.Pts > s.Dts);
        }

        Assert.Equal(1, sink.Ends);
    }

    [Fact]
    public async Task Ffmpeg_publish_delivers_configs_and_samples_and_ends_once()
    {
        await using var server = await RtmpTestServer.StartAsync();
        var result = await Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url(RtmpTestServer.Key)), TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.StandardError);

        var sink = await server.Target.WaitForPublishAsync();
        await sink.Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(RtmpTestServer.StreamName, sink.Name);
        AssertGoodPublish(sink, expectBFrames: true);
        Assert.Single(server.Target.Published);
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains(RtmpTestServer.Key, StringComparison.Ordinal));
        Assert.Contains(server.Logs.Lines, l => l.Contains("320x240", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Lines, l => l.Contains("digest form", StringComparison.Ordinal)); // ffmpeg sends an FP9 C1
    }

    /// <summary>A resolver that answers late (as the control plane's database does): nothing sent after the publish is lost.</summary>
    private sealed class SlowResolver : IStreamKeyResolver
    {
        public async ValueTask<PublishGrant?> CheckAsync(string app, string key, CancellationToken cancellationToken)
        {
            await Task.Delay(200, cancellationToken);
            return key == "slow-key" ? new PublishGrant(null, "slow") : null;
        }

        public async ValueTask<string?> BeginAsync(PublishGrant grant, CancellationToken cancellationToken)
        {
            await Task.Delay(200, cancellationToken);
            return grant.Subject;
        }
    }

    [Fact]
    public async Task Async_key_resolution_delays_the_publish_without_losing_media()
    {
        await using var server = await RtmpTestServer.StartAsync(services: s => s.AddSingleton<IStreamKeyResolver, SlowResolver>());
        var result = await Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url("slow-key")), TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.StandardError);
        var sink = await server.Target.WaitForPublishAsync();
        await sink.Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("slow", sink.Name);
        AssertGoodPublish(sink, expectBFrames: true);

        var refused = await Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url("other-key"), 1), TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Single(server.Target.Published);
    }

    [Fact]
    public async Task Unknown_key_makes_ffmpeg_fail_and_publishes_nothing()
    {
        await using var server = await RtmpTestServer.StartAsync();
        var result = await Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url("wrong-key?x=1"), 1), TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Empty(server.Target.Published);
        Assert.Contains(server.Logs.Lines, l => l.Contains("unknown key", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("wrong-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Second_publisher_of_a_live_name_is_refused_while_the_first_goes_on()
    {
        await using var server = await RtmpTestServer.StartAsync();
        var first = Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url(RtmpTestServer.Key), 8), TimeSpan.FromSeconds(30)); // long enough that a slow second ffmpeg still meets it live
        var sink = await server.Target.WaitForPublishAsync();

        var second = await Processes.RunAsync("ffmpeg", Processes.FfmpegPublishArgs(server.Url(RtmpTestServer.Key + "?second"), 1), TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, second.ExitCode);
        Assert.Equal(0, sink.Ends);

        var result = await first;
        Assert.True(result.ExitCode == 0, result.StandardError);
        await sink.Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Single(server.Target.Published);
        AssertGoodPublish(sink, expectBFrames: true);
        Assert.Contains(server.Logs.Lines, l => l.Contains("already live", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ffmpeg_timestamps_crossing_the_24_bit_limit_use_extended_timestamps()
    {
        // 0xFFFFFF ms = 16777.215 s: start just below it so the stream crosses into extended timestamps.
        await using var server = await RtmpTestServer.StartAsync();
        var args = Processes.FfmpegPublishArgs(server.Url(RtmpTestServer.Key), 2).Replace(" -f flv ", " -output_ts_offset 16776.5 -f flv ", StringComparison.Ordinal);
        var result = await Processes.RunAsync("ffmpeg", args, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.StandardError);

        var sink = await server.Target.WaitForPublishAsync();
        await sink.Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        AssertGoodPublish(sink, expectBFrames: true);
        var video = sink.SnapshotSamples().Where(s => s.Track == TrackKind.Video).ToArray();
        Assert.InRange(video[0].Dts, 16_776_000L * 90, 16_777_000L * 90);
        Assert.True(video[^1].Dts > 0xFFFFFFL * 90, "the stream crossed 0xFFFFFF ms");
        Assert.All(video.Zip(video.Skip(1)), p => Assert.InRange(p.Second.Dts - p.First.Dts, 1, 200 * 90));
    }
}
