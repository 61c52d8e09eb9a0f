using System.Text;
using StreamVerse.Origin.Http;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Http;

public sealed class MpdUtcTimingTests
{
    private static readonly StoredObject Mpd = new(
        [Encoding.ASCII.GetBytes("<?xml version=\"1.0\"?>\n<MPD type=\"dynamic\"><Period/></MPD>\n")], "\"mpd-1\"", "application/dash+xml");

    private static string Text(StoredObject o) => Encoding.ASCII.GetString(o.Chunks.ToArray().SelectMany(c => c.ToArray()).ToArray());

    [Fact]
    public void Is_composed_once_per_host_and_mpd()
    {
        var timing = new MpdUtcTiming();
        var first = timing.WithUtcTiming(Mpd, "edge.example:8080", https: false);
        Assert.Contains("value=\"http://edge.example:8080/time\"", Text(first), StringComparison.Ordinal);
        Assert.Same(first, timing.WithUtcTiming(Mpd, "edge.example:8080", https: false));
        Assert.Contains("value=\"https://edge.example:8080/time\"", Text(timing.WithUtcTiming(Mpd, "edge.example:8080", https: true)), StringComparison.Ordinal);
        Assert.Same(Mpd, timing.WithUtcTiming(Mpd, "bad host<", https: false));
    }

    [Fact]
    public void Requests_with_many_made_up_hosts_do_not_take_utc_timing_from_the_real_ones()
    {
        var timing = new MpdUtcTiming();
        var real = timing.WithUtcTiming(Mpd, "live.example.com", https: false);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Contains($"//junk{i}.example/time", Text(timing.WithUtcTiming(Mpd, $"junk{i}.example", https: false)), StringComparison.Ordinal);
        }

        // A host first seen after the junk, and the one seen before it, still get their clock.
        Assert.Contains("value=\"http://cdn.example.com/time\"", Text(timing.WithUtcTiming(Mpd, "cdn.example.com", https: false)), StringComparison.Ordinal);
        Assert.Contains("value=\"http://live.example.com/time\"", Text(timing.WithUtcTiming(Mpd, "live.example.com", https: false)), StringComparison.Ordinal);
        Assert.Equal(Text(real), Text(timing.WithUtcTiming(Mpd, "live.example.com", https: false)));
    }
}
