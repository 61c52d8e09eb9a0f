using System.Security.Cryptography;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;

namespace StreamVerse.Functional.Tests;

/// <summary>
/// Issue 17 defect 1 with the real daemon: an ffmpeg publisher killed mid-stream (its connection drops, no unpublish) and
/// started again with the same key continues the broadcast within StreamVerse:Live:ReconnectWindowSeconds.
/// </summary>
public sealed partial class ReconnectTests
{
    [Fact]
    public async Task A_publisher_killed_and_restarted_within_the_window_continues_the_playlist()
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        await using var daemon = await Daemon.StartAsync(["--stream", $"cam={key}"]);
        using var http = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl + "/") };

        var first = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 60);
        var before = await WaitForAsync(http, p => SegmentLine().Matches(p).Count >= 2);
        first.Dispose(); // killed: the socket closes without FCUnpublish
        var session = SegmentLine().Match(before).Groups[1].Value;
        var lastBefore = long.Parse(SegmentLine().Matches(before)[^1].Groups[2].Value);

        using var second = Publishers.Ffmpeg(daemon.RtmpUrl(key), seconds: 60);
        var after = await WaitForAsync(http, p => p.Contains("#EXT-X-DISCONTINUITY\n", StringComparison.Ordinal) && SegmentLine().Matches(p[p.IndexOf("#EXT-X-DISCONTINUITY\n", StringComparison.Ordinal)..]).Count >= 2);

        Assert.DoesNotContain("#EXT-X-ENDLIST", after);
        var segments = SegmentLine().Matches(after);
        Assert.All(segments, m => Assert.Equal(session, m.Groups[1].Value)); // the same session, paths unchanged
        var numbers = segments.Select(m => long.Parse(m.Groups[2].Value)).ToList();
        Assert.Equal(Enumerable.Range((int)numbers[0], numbers.Count).Select(n => (long)n), numbers); // MSNs continue
        Assert.Contains(numbers, n => n > lastBefore);
        var mpd = await http.GetStringAsync("live/cam/index.mpd");
        Assert.Contains("type=\"dynamic\"", mpd);
        Assert.True(Regex.Count(mpd, "<Period ") >= 2, after + mpd); // a Period per publisher
    }

    private static async Task<string> WaitForAsync(HttpClient http, Func<string, bool> done)
    {
        var playlist = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(40); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            using var response = await http.GetAsync("live/cam/video.m3u8");
            if (response.IsSuccessStatusCode)
            {
                playlist = await response.Content.ReadAsStringAsync();
                if (done(playlist))
                {
                    return playlist;
                }
            }
        }

        Assert.Fail("the playlist never reached the expected state:\n" + playlist);
        return playlist;
    }

    [GeneratedRegex(@"^(\w+)/video_(\d+)\.m4s$", RegexOptions.Multiline)]
    private static partial Regex SegmentLine();
}
