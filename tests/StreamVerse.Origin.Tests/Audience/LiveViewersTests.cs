using System.Net;
using StreamVerse.ControlPlane.Analytics;
using StreamVerse.Origin.Audience;

namespace StreamVerse.Origin.Tests.Audience;

public sealed class LiveViewersTests
{
    /// <summary>Ids as ViewerHash makes them (uniform 64-bit), but the same in every run: SplitMix64.</summary>
    private static ulong Viewer(int n)
    {
        var z = ((ulong)n + 1) * 0x9e3779b97f4a7c15UL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    [Fact]
    public void Distinct_viewers_are_counted_once_per_stream_within_the_window()
    {
        var time = new Clock(DateTimeOffset.UnixEpoch.AddDays(1));
        var viewers = new LiveViewers(time);
        for (var request = 0; request < 20; request++)
        {
            viewers.Saw("cam", Viewer(1));
            viewers.Saw("cam", Viewer(2));
            viewers.Saw("other", Viewer(1));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(2, viewers.Count("cam"));
        Assert.Equal(1, viewers.Count("other"));
        Assert.Equal(0, viewers.Count("nobody"));
        Assert.Equal(3, viewers.Total());

        // One stops; after the window only the other is left, and then nobody.
        for (var second = 0; second < LiveViewers.WindowSeconds; second++)
        {
            viewers.Saw("cam", Viewer(1));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(1, viewers.Count("cam"));
        time.Advance(TimeSpan.FromSeconds(LiveViewers.WindowSeconds));
        Assert.Equal(0, viewers.Count("cam"));
        Assert.Equal(0, viewers.Total());
    }

    [Theory]
    [InlineData(100)]
    [InlineData(LiveViewers.ExactViewers - 1)]
    public void Up_to_the_exact_capacity_the_count_is_exact(int n)
    {
        var time = new Clock(DateTimeOffset.UnixEpoch.AddDays(1));
        var viewers = new LiveViewers(time);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < n; i++)
            {
                viewers.Saw("cam", Viewer(i));
            }

            time.Advance(TimeSpan.FromSeconds(LiveViewers.BucketSeconds));
        }

        time.Advance(TimeSpan.FromSeconds(-1));
        Assert.Equal(n, viewers.Count("cam"));
    }

    [Fact]
    public void Beyond_the_exact_capacity_the_estimate_stays_within_a_few_percent()
    {
        var time = new Clock(DateTimeOffset.UnixEpoch.AddDays(1));
        var viewers = new LiveViewers(time);
        const int N = 20_000;
        for (var i = 0; i < N; i++)
        {
            viewers.Saw("cam", Viewer(i));
            viewers.Saw("cam", Viewer(i)); // repeats do not count
        }

        var count = viewers.Count("cam");
        Assert.InRange(count, N * 0.9, N * 1.1);
    }

    [Fact]
    public void Recording_a_viewer_allocates_nothing()
    {
        var viewers = new LiveViewers(TimeProvider.System);
        // The first run warms up (the stream's buckets, JIT tiering); the least of the others counts.
        var best = long.MaxValue;
        for (var run = 0; run < 4 && best > 0; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10_000; i++)
            {
                viewers.Saw("cam", Viewer(i));
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            best = run == 0 ? best : Math.Min(best, allocated);
        }

        Assert.Equal(0, best);
    }

    [Fact]
    public void Viewer_ids_are_stable_within_a_day_and_change_with_it()
    {
        var address = IPAddress.Parse("192.0.2.7");
        var day = DateTimeOffset.UnixEpoch.AddDays(20_000).ToUnixTimeMilliseconds();
        var a = ViewerHash.OfClient(address, "Mozilla/5.0"u8, day);
        Assert.Equal(a, ViewerHash.OfClient(address, "Mozilla/5.0"u8, day + 3_600_000));
        Assert.Equal(a, ViewerHash.OfClient(IPAddress.Parse("::ffff:192.0.2.7"), "Mozilla/5.0".AsSpan(), day));
        Assert.NotEqual(a, ViewerHash.OfClient(address, "curl/8"u8, day));
        Assert.NotEqual(a, ViewerHash.OfClient(IPAddress.Parse("192.0.2.8"), "Mozilla/5.0"u8, day));
        Assert.NotEqual(a, ViewerHash.OfClient(address, "Mozilla/5.0"u8, day + 86_400_000));
        Assert.NotEqual(ViewerHash.OfSession(42, day), ViewerHash.OfSession(43, day));
    }

    /// <summary>SipHash-2-4's reference vector (Aumasson and Bernstein, appendix A): key 00..0f, message 00..0e.</summary>
    [Fact]
    public void SipHash_matches_the_reference_vector()
    {
        var message = Enumerable.Range(0, 15).Select(i => (byte)i).ToArray();
        Assert.Equal(0xa129ca6149be45e5UL, ViewerHash.SipHash24(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
    }

    [Fact]
    public void Objects_are_named_by_the_segmenters_file_names()
    {
        Assert.Equal(DeliveredObject.Manifest, DeliveryObserver.ObjectOf("index.m3u8"u8));
        Assert.Equal(DeliveredObject.Manifest, DeliveryObserver.ObjectOf("index.mpd"u8));
        Assert.Equal(DeliveredObject.InitSegment, DeliveryObserver.ObjectOf("s1/video_init.mp4"u8));
        Assert.Equal(DeliveredObject.Segment, DeliveryObserver.ObjectOf("s1/video360_12.m4s"u8));
        Assert.Equal(DeliveredObject.Part, DeliveryObserver.ObjectOf("s1/audio_12.3.m4s"u8));
        Assert.Equal(DeliveredObject.Other, DeliveryObserver.ObjectOf("poster.jpg"u8));
    }

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
