using System.Text;
using System.Xml.Linq;
using StreamVerse.Segmenter.Dash;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Segmenter.Tests;

/// <summary>
/// Every AdaptationSet's timeline begins where the earliest one does. A young live stream's audio starts ~60 ms after
/// its video (the AAC encoder's priming); dash.js starts buffering there, and a track with no segment at that time
/// waited forever once the video buffer's internal seek had moved the clock (CI: Dash_js_plays_the_live_mpd).
/// </summary>
public sealed class MpdStartAlignmentTests
{
    private static readonly XNamespace Ns = "urn:mpeg:dash:schema:mpd:2011";

    [Fact]
    public void A_track_that_starts_a_little_later_is_listed_from_the_common_start_and_keeps_its_later_segment_times()
    {
        // What a publisher like ffmpeg gave: video from 0 (90 kHz), audio from 2832 (48 kHz, 59 ms later).
        var video = Track(isVideo: true, 90_000, first: 0, [180_000, 180_000, 180_000]);
        var audio = Track(isVideo: false, 48_000, first: 2832, [93_184, 96_256, 96_256]);

        var timelines = Timelines(Write(video, audio));

        Assert.Equal([(0L, 180_000L), (180_000L, 180_000L), (360_000L, 180_000L)], timelines["video"]);
        // The first audio segment is listed from 0 and reaches the second's real start (2832 + 93184 = 96016).
        Assert.Equal([(0L, 96_016L), (96_016L, 96_256L), (192_272L, 96_256L)], timelines["audio"]);
    }

    [Fact]
    public void A_track_that_starts_earlier_than_another_is_the_common_start()
    {
        var video = Track(isVideo: true, 90_000, first: 9000, [180_000, 180_000]);
        var audio = Track(isVideo: false, 48_000, first: 0, [96_000, 96_000]);

        var timelines = Timelines(Write(video, audio));

        Assert.Equal([(0L, 189_000L), (189_000L, 180_000L)], timelines["video"]);
        Assert.Equal([(0L, 96_000L), (96_000L, 96_000L)], timelines["audio"]);
    }

    [Fact]
    public void A_track_that_starts_much_later_keeps_its_own_start()
    {
        // Audio that began a second after the video is a real gap in the media, not a lead-in to paper over.
        var video = Track(isVideo: true, 90_000, first: 0, [180_000, 180_000]);
        var audio = Track(isVideo: false, 48_000, first: 48_000, [96_000]);

        var timelines = Timelines(Write(video, audio));

        Assert.Equal([(48_000L, 96_000L)], timelines["audio"]);
    }

    private static MpdTrack Track(bool isVideo, int timescale, long first, long[] durations)
    {
        var segments = new List<SegmentInfo>();
        var t = first;
        foreach (var d in durations)
        {
            segments.Add(new SegmentInfo(segments.Count, t, d, (double)d / timescale, DateTimeOffset.UnixEpoch, 1000));
            t += d;
        }

        return new MpdTrack
        {
            Prefix = isVideo ? "video" : "audio",
            IsVideo = isVideo,
            Timescale = timescale,
            Codec = isVideo ? "avc1.4D400D" : "mp4a.40.2",
            Bandwidth = 100_000,
            Width = 320,
            Height = 240,
            FrameRate = 25,
            SampleRate = 48_000,
            Channels = 1,
            Segments = segments,
        };
    }

    private static XDocument Write(params MpdTrack[] tracks)
    {
        var p = new MpdParams("s", Dynamic: true, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(16), 0);
        return XDocument.Parse(Encoding.UTF8.GetString(MpdWriter.Write(new StringBuilder(), p, tracks)));
    }

    /// <summary>Each AdaptationSet's segments as (start, duration), expanding @r and implicit starts (ISO/IEC 23009-1 §5.3.9.6).</summary>
    private static Dictionary<string, List<(long Start, long Duration)>> Timelines(XDocument mpd)
    {
        var result = new Dictionary<string, List<(long, long)>>(StringComparer.Ordinal);
        foreach (var set in mpd.Descendants(Ns + "AdaptationSet"))
        {
            var list = new List<(long, long)>();
            long next = 0;
            foreach (var s in set.Descendants(Ns + "S"))
            {
                var start = s.Attribute("t") is { } t ? long.Parse(t.Value, System.Globalization.CultureInfo.InvariantCulture) : next;
                var d = long.Parse(s.Attribute("d")!.Value, System.Globalization.CultureInfo.InvariantCulture);
                var r = s.Attribute("r") is { } rr ? int.Parse(rr.Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
                for (var k = 0; k <= r; k++)
                {
                    list.Add((start, d));
                    start += d;
                }

                next = start;
            }

            result[set.Attribute("contentType")!.Value] = list;
        }

        return result;
    }
}
