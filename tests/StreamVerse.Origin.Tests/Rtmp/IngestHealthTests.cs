using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class IngestHealthTests
{
    /// <summary>A clock the test moves.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Ticks { get; set; } = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    /// <summary>Feeds 25 fps video with a keyframe every <paramref name="gop"/> frames and 48 kHz AAC, arriving in real time.</summary>
    private static void Feed(IngestHealth health, ManualTime time, int seconds, int gop, long audioOffsetTicks = 0)
    {
        var start = time.Ticks;
        for (var f = 0; f < seconds * 25; f++)
        {
            time.Ticks = start + (f * TimeSpan.TicksPerSecond / 25);
            health.OnSample(TrackKind.Video, f * 3600L, f % gop == 0, 5000);
            health.OnSample(TrackKind.Audio, (f * 3600L) + audioOffsetTicks, true, 250);
        }

        time.Ticks = start + (seconds * TimeSpan.TicksPerSecond);
    }

    [Fact]
    public void Measures_a_known_stream_and_allocates_nothing_per_sample()
    {
        var time = new ManualTime();
        var health = new IngestHealth(time);
        Feed(health, time, 1, 50); // warm up (first bucket, first GOP)
        var before = GC.GetAllocatedBytesForCurrentThread();
        Feed(health, time, 7, 50);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        var snapshot = health.Snapshot();
        Assert.Equal(2.0, snapshot.KeyframeIntervalSeconds);
        Assert.Equal(2.0, snapshot.MaxKeyframeIntervalSeconds);
        Assert.Equal(25.0, snapshot.FrameRate!.Value, 6);
        Assert.Equal(25 * (5000 + 250) * 8, snapshot.BitsPerSecond, 6);
        Assert.Equal(0, snapshot.AvDriftMilliseconds!.Value, 6);
        Assert.Equal(200, snapshot.VideoFrames);
        Assert.Equal(0, snapshot.DroppedFrames);
        Assert.Empty(StreamHealthWarnings.Of(snapshot, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Drift_and_a_keyframe_interval_that_does_not_fit_are_warned_about()
    {
        var time = new ManualTime();
        var health = new IngestHealth(time);
        Feed(health, time, 8, 75, audioOffsetTicks: -90 * 300); // audio timestamps 300 ms behind video
        health.Dropped(3);
        var snapshot = health.Snapshot();
        Assert.Equal(3.0, snapshot.KeyframeIntervalSeconds);
        Assert.Equal(300, snapshot.AvDriftMilliseconds!.Value, 6);
        var warnings = StreamHealthWarnings.Of(snapshot, TimeSpan.FromSeconds(2));
        Assert.Contains(warnings, w => w.Contains("Keyframe interval 3 s is longer than the segment target duration 2 s", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("drift apart by 300 ms", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("3 frames were dropped", StringComparison.Ordinal));
        Assert.Contains(StreamHealthWarnings.Of(snapshot, TimeSpan.FromSeconds(4)), w => w.Contains("does not divide", StringComparison.Ordinal));
        Assert.DoesNotContain(StreamHealthWarnings.Of(snapshot, TimeSpan.FromSeconds(6)), w => w.Contains("Keyframe", StringComparison.Ordinal));
    }
}
