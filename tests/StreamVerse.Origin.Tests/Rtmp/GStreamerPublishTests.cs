namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class GStreamerPublishTests
{
    private static string Pipeline(string sink) =>
        "-q videotestsrc num-buffers=75 ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc tune=zerolatency key-int-max=25 ! h264parse ! " +
        $"flvmux name=m streamable=true ! {sink} " +
        "audiotestsrc num-buffers=150 ! audioconvert ! avenc_aac ! aacparse ! m.";

    [Theory]
    [InlineData("rtmp2sink")]
    [InlineData("rtmpsink")]
    public async Task GStreamer_publish_delivers_configs_and_keyframes(string element)
    {
        await using var server = await RtmpTestServer.StartAsync();
        var result = await Processes.RunAsync("gst-launch-1.0", Pipeline($"{element} location={server.Url(RtmpTestServer.Key)}"), TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.StandardError);

        var sink = await server.Target.WaitForPublishAsync();
        await sink.Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotEmpty(sink.VideoConfigs);
        Assert.NotEmpty(sink.AudioConfigs);
        var samples = sink.SnapshotSamples();
        var video = samples.Where(s => s.Track == Segmenter.Media.TrackKind.Video).ToArray();
        Assert.True(video.Length >= 70, $"{video.Length} video samples");
        Assert.True(video[0].IsKeyframe);
        Assert.True(video.Count(s => s.IsKeyframe) >= 3);
        Assert.Contains(samples, s => s.Track == Segmenter.Media.TrackKind.Audio);
        Assert.Equal(1, sink.Ends);
        Assert.DoesNotContain(server.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) || l.Contains("protocol violation", StringComparison.Ordinal));
    }
}
