using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>Live playlists, MPD and session files while a (synthetic) stream runs.</summary>
public sealed partial class LivePlaylistTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Epoch = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Epoch);
    private LiveStreamRegistry _registry = null!;
    private string _recordings = "";
    private LiveStream _stream = null!;

    public Task InitializeAsync()
    {
        _registry = TestStreams.CreateRegistry(out _recordings, time: _clock);
        _stream = _registry.TryStartPublishing("live1")!;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_recordings, recursive: true);
    }

    private async Task<string> PlaylistAsync(string file, bool skip = false)
    {
        var result = await _stream.GetMediaPlaylistAsync(file, null, null, skip, CancellationToken.None);
        Assert.Equal(PlaylistStatus.Ok, result.Status);
        Assert.Equal("application/vnd.apple.mpegurl", result.Body!.ContentType);
        Assert.StartsWith("\"", result.Body.ETag);
        return TestStreams.Text(result.Body);
    }

    [Fact]
    public async Task Media_playlist_has_ll_hls_tags_and_consistent_durations()
    {
        new SyntheticFeeder(_stream, clock: _clock).FeedUntil(30.3);
        var sid = _stream.SessionId;
        var text = await PlaylistAsync("video.m3u8");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("#EXTM3U", lines[0]);
        Assert.Contains("#EXT-X-VERSION:9", lines);
        var target = int.Parse(lines.Single(l => l.StartsWith("#EXT-X-TARGETDURATION:"))[22..], CultureInfo.InvariantCulture);
        Assert.Equal(2, target);
        Assert.Contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5,CAN-SKIP-UNTIL=12.0", lines);
        Assert.Contains("#EXT-X-PART-INF:PART-TARGET=0.5", lines);
        Assert.Contains($"#EXT-X-MAP:URI=\"{sid}/video_init.mp4\"", lines);

        var extinf = lines.Where(l => l.StartsWith("#EXTINF:")).Select(l => double.Parse(l[8..^1], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(8, extinf.Count); // the window
        Assert.All(extinf, d => Assert.True(Math.Round(d, MidpointRounding.AwayFromZero) <= target));
        Assert.All(extinf, d => Assert.Equal(2.0, d, 5));
        Assert.Equal(8, lines.Count(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME:")));
        Assert.Contains("#EXT-X-MEDIA-SEQUENCE:7", lines); // segments 0..14 done, window of 8

        // Program date-time = wall clock at the segment's first sample (the fake clock follows media time).
        Assert.Contains("#EXT-X-PROGRAM-DATE-TIME:2026-03-01T12:00:14.000Z", lines);

        var parts = lines.Where(l => l.StartsWith("#EXT-X-PART:")).ToList();
        Assert.NotEmpty(parts);
        foreach (var part in parts)
        {
            var duration = double.Parse(PartDuration().Match(part).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(duration <= 0.5, part);
            if (part.Contains(".0.m4s\"", StringComparison.Ordinal))
            {
                Assert.EndsWith(",INDEPENDENT=YES", part, StringComparison.Ordinal); // segments start on keyframes
            }
        }

        // RFC 8216bis §4.4.4.9: INDEPENDENT=YES marks every part that contains a keyframe. The feed has one keyframe
        // a second, so each complete 2 s segment has two: the one it starts with and the one inside a later part.
        var independentPerSegment = parts
            .Where(p => p.Contains("video_", StringComparison.Ordinal) && p.EndsWith(",INDEPENDENT=YES", StringComparison.Ordinal))
            .GroupBy(p => Regex.Match(p, @"video_(\d+)\.").Groups[1].Value)
            .ToDictionary(g => g.Key, g => g.Count());
        var complete = lines.Where(l => l.EndsWith(".m4s", StringComparison.Ordinal) && l.Contains("video_", StringComparison.Ordinal))
            .Select(l => Regex.Match(l, @"video_(\d+)\.m4s").Groups[1].Value).ToHashSet();
        var checkedSegments = independentPerSegment.Where(kv => complete.Contains(kv.Key)).ToList();
        Assert.NotEmpty(checkedSegments);
        Assert.All(checkedSegments, kv => Assert.Equal(2, kv.Value));

        // Non-final parts are at least 85 % of the part target.
        var byDuration = parts.Select(p => double.Parse(PartDuration().Match(p).Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(byDuration.Count(d => d >= 0.425) >= byDuration.Count - 4);

        // In-progress segment 15: 0.3 s fed -> hint names the next part.
        var view = _stream.View.Video!;
        Assert.Equal(15, view.NextMsn);
        Assert.Equal($"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{sid}/video_15.{view.PendingParts.Length}.m4s\"", lines.Single(l => l.StartsWith("#EXT-X-PRELOAD-HINT")));
        var audioLast = _stream.View.Audio!.LastPart;
        Assert.Equal($"#EXT-X-RENDITION-REPORT:URI=\"audio.m3u8\",LAST-MSN={audioLast.Msn},LAST-PART={audioLast.Part}", lines[^1]);
        Assert.DoesNotContain("#EXT-X-ENDLIST", lines);

        var audio = await PlaylistAsync("audio.m3u8");
        Assert.Contains("#EXT-X-MEDIA-SEQUENCE:7", audio);
        Assert.Contains("#EXT-X-RENDITION-REPORT:URI=\"video.m3u8\"", audio);
        Assert.Contains("#EXT-X-PRELOAD-HINT:TYPE=PART", audio);

        // The same bytes are served until the next change.
        var again = await _stream.GetMediaPlaylistAsync("video.m3u8", null, null, false, CancellationToken.None);
        var first = await _stream.GetMediaPlaylistAsync("video.m3u8", null, null, false, CancellationToken.None);
        Assert.Same(first.Body, again.Body);

        Assert.Equal(PlaylistStatus.NotFound, (await _stream.GetMediaPlaylistAsync("other.m3u8", null, null, false, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Delta_update_skips_old_segments()
    {
        new SyntheticFeeder(_stream, clock: _clock).FeedUntil(30.3);
        var full = await PlaylistAsync("video.m3u8");
        var delta = await PlaylistAsync("video.m3u8", skip: true);
        var skipped = int.Parse(SkipTag().Match(delta).Groups[1].Value, CultureInfo.InvariantCulture);

        // 16.3 s listed; segments ending >= 12 s before the end are skipped: 7, 8 (end 18.3 and 16.3 s before).
        Assert.Equal(2, skipped);
        Assert.Contains("#EXT-X-MEDIA-SEQUENCE:7", delta);
        Assert.Equal(Count(full, "#EXTINF:") - skipped, Count(delta, "#EXTINF:"));
        Assert.DoesNotContain("video_7.m4s", delta);
        Assert.DoesNotContain("video_8.m4s", delta);
        Assert.Contains("video_9.m4s", delta);
        Assert.Contains("#EXT-X-PRELOAD-HINT", delta);

        static int Count(string s, string what) => Regex.Count(s, Regex.Escape(what));
    }

    [Fact]
    public async Task Master_and_mpd_describe_both_tracks()
    {
        new SyntheticFeeder(_stream, clock: _clock).FeedUntil(10.3);
        var master = TestStreams.Text(await _stream.GetMasterPlaylistAsync(CancellationToken.None));
        Assert.Contains("#EXT-X-INDEPENDENT-SEGMENTS", master);
        Assert.Contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"1\",URI=\"audio.m3u8\"", master);
        var inf = master.Split('\n').Single(l => l.StartsWith("#EXT-X-STREAM-INF:"));
        Assert.Matches("BANDWIDTH=\\d+,AVERAGE-BANDWIDTH=\\d+,CODECS=\"avc1\\.[0-9A-F]{6},mp4a\\.40\\.2\",RESOLUTION=320x240,FRAME-RATE=25\\.000,AUDIO=\"audio\"$", inf);
        var peak = long.Parse(Regex.Match(inf, "BANDWIDTH=(\\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal((long)Math.Ceiling(_stream.PeakBandwidth!.Value), peak);
        Assert.EndsWith("video.m3u8\n", master);

        var mpdObject = await _stream.GetMpdAsync(CancellationToken.None);
        Assert.Equal("application/dash+xml", mpdObject!.ContentType);
        var mpd = XDocument.Parse(TestStreams.Text(mpdObject));
        XNamespace ns = "urn:mpeg:dash:schema:mpd:2011";
        var root = mpd.Root!;
        Assert.Equal("dynamic", root.Attribute("type")!.Value);
        Assert.Equal("2026-03-01T12:00:00.000Z", root.Attribute("availabilityStartTime")!.Value);
        Assert.Equal("PT2S", root.Attribute("minimumUpdatePeriod")!.Value);
        Assert.Equal("PT16S", root.Attribute("timeShiftBufferDepth")!.Value);
        Assert.NotNull(root.Attribute("publishTime"));
        Assert.NotNull(root.Attribute("suggestedPresentationDelay"));
        var templates = mpd.Descendants(ns + "SegmentTemplate").ToList();
        Assert.Equal($"{_stream.SessionId}/video_init.mp4", templates[0].Attribute("initialization")!.Value);
        Assert.Equal($"{_stream.SessionId}/video_$Number$.m4s", templates[0].Attribute("media")!.Value);
        Assert.Equal("0", templates[0].Attribute("startNumber")!.Value);
        var s = templates[0].Descendants(ns + "S").Single();
        Assert.Equal(("0", "180000", "4"), (s.Attribute("t")!.Value, s.Attribute("d")!.Value, s.Attribute("r")!.Value));
        var video = mpd.Descendants(ns + "Representation").First();
        Assert.Equal(("320", "240", "25"), (video.Attribute("width")!.Value, video.Attribute("height")!.Value, video.Attribute("frameRate")!.Value));
        var audio = mpd.Descendants(ns + "Representation").Last();
        Assert.Equal("48000", audio.Attribute("audioSamplingRate")!.Value);
        Assert.Equal("1", audio.Element(ns + "AudioChannelConfiguration")!.Attribute("value")!.Value);
        Assert.Equal("48000", templates[1].Attribute("timescale")!.Value);
    }

    [Fact]
    public async Task Session_files_are_served_from_memory_until_evicted()
    {
        new SyntheticFeeder(_stream, clock: _clock).FeedUntil(30.3);
        var init = await _stream.GetSessionFileAsync("video_init.mp4", CancellationToken.None);
        Assert.Equal("video/mp4", init!.ContentType);
        Assert.Equal("audio/mp4", (await _stream.GetSessionFileAsync("audio_init.mp4", CancellationToken.None))!.ContentType);

        var segment = (await _stream.GetSessionFileAsync("video_10.m4s", CancellationToken.None))!;
        var view = _stream.View.Video!;
        var parts = view.FindSegment(10)!.Parts;
        Assert.Equal(parts.Length, segment.Chunks.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            Assert.True(segment.Chunks[i].Span == parts[i].Bytes.AsSpan(), "segment shares its parts' buffers");
            Assert.Same(parts[i].Body, await _stream.GetSessionFileAsync($"video_10.{i}.m4s", CancellationToken.None));
        }

        Assert.Equal(parts.Sum(p => (long)p.Bytes.Length), segment.Length);
        Assert.NotEqual(segment.ETag, parts[0].Body.ETag);

        // Window 8 + 4 kept: 3..14 in memory, 0..2 evicted (the origin then reads the recording).
        Assert.Null(await _stream.GetSessionFileAsync("video_2.m4s", CancellationToken.None));
        Assert.NotNull(await _stream.GetSessionFileAsync("video_3.m4s", CancellationToken.None));
        Assert.NotNull(await _stream.GetSessionFileAsync("audio_3.1.m4s", CancellationToken.None));
        Assert.NotNull(await _stream.GetSessionFileAsync("video_14.4.m4s", CancellationToken.None));
        Assert.Null(await _stream.GetSessionFileAsync("video_99.0.m4s", CancellationToken.None));
        Assert.Null(await _stream.GetSessionFileAsync("../x", CancellationToken.None));
        Assert.Null(await _stream.GetSessionFileAsync("video_1x.m4s", CancellationToken.None));

        Assert.Equal(15, _stream.SegmentsProduced);
        Assert.True(_stream.PartsProduced > 15 * 2 * 4);
    }

    [Fact]
    public async Task Part_publish_delay_is_reported()
    {
        var delays = new List<double>();
        _stream.PartPublished += delays.Add;
        new SyntheticFeeder(_stream, clock: _clock).FeedUntil(3);
        Assert.NotEmpty(delays);
        Assert.All(delays, d => Assert.InRange(d, 0, 5));
        Assert.Equal(_stream.PartsProduced, delays.Count);
        await Task.CompletedTask;
    }

    [Fact]
    public void Session_ids_are_unique_and_url_safe()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => SessionId.New()).ToList();
        Assert.Equal(200, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^[a-z2-7]{13}$", id));
        Assert.Null(_registry.TryStartPublishing("live1"));
        Assert.Same(_stream, _registry.FindLive("live1"));
        Assert.Throws<ArgumentException>(() => _registry.TryStartPublishing("../etc"));
    }

    [GeneratedRegex("DURATION=([0-9.]+)")]
    private static partial Regex PartDuration();

    [GeneratedRegex("#EXT-X-SKIP:SKIPPED-SEGMENTS=(\\d+)")]
    private static partial Regex SkipTag();
}
