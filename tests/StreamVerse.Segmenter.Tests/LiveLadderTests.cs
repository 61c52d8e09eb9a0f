using System.Text.RegularExpressions;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>
/// A live ladder's composite documents: the source (video + audio, from <see cref="SyntheticFeeder"/>) and a rung
/// fed as the transcoder would (same presentation times, keyframes on the source's, no B-frames).
/// </summary>
public sealed partial class LiveLadderTests
{
    /// <summary>What the transcoder hands a rung for source frame <paramref name="index"/> (25 fps, source CTS 2 frames).</summary>
    private static void FeedRung(IMediaSink rung, long index)
    {
        var pts = SyntheticFeeder.VideoStart + (index * 3600) + 7200;
        var data = new byte[80];
        data[3] = 76;
        data[4] = (byte)(index % 25 == 0 ? 0x65 : 0x41);
        rung.OnSample(TrackKind.Video, pts - 7200, pts, index % 25 == 0, data);
    }

    [Fact]
    public async Task Master_lists_each_rendition_with_its_bandwidth_and_the_shared_audio_and_the_mpd_one_adaptation_set()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("abr", advertiseSource: true)!;
            Assert.Null(registry.TryStartLadder("abr", advertiseSource: true)); // one publish per name
            var rung = ladder.AddRung("video120", registry);
            rung.OnVideoConfig(TestStreams.Configs().AvcC);
            var source = new SyntheticFeeder(ladder.Source);

            // The rung lags the source, as the transcoder does.
            for (var second = 1; second <= 6; second++)
            {
                source.FeedUntil(second + 0.5);
                for (long i = (second - 1) * 25; i < second * 25; i++)
                {
                    FeedRung(rung, i);
                }
            }

            var master = TestStreams.Text(await ladder.Source.GetMasterPlaylistAsync(CancellationToken.None));
            Assert.StartsWith("#EXTM3U\n#EXT-X-VERSION:9\n", master, StringComparison.Ordinal);
            Assert.Contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\"", master, StringComparison.Ordinal);
            var variants = Variant().Matches(master);
            Assert.Equal(2, variants.Count);
            Assert.Equal("video120.m3u8", variants[0].Groups["uri"].Value); // the smaller one first
            Assert.Equal("video.m3u8", variants[1].Groups["uri"].Value);
            var low = long.Parse(variants[0].Groups["bw"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var high = long.Parse(variants[1].Groups["bw"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(low < high, master);
            Assert.All(variants, v => Assert.Contains("AUDIO=\"audio\"", v.Value, StringComparison.Ordinal));
            Assert.All(variants, v => Assert.Matches("CODECS=\"avc1\\.[0-9A-F]{6},mp4a\\.40\\.2\"", v.Value));

            // One video AdaptationSet, both Representations; identical timelines share the template.
            var mpd = TestStreams.Text(await ladder.Source.GetMpdAsync(CancellationToken.None));
            Assert.Equal(2, Regex.Matches(mpd, "<AdaptationSet ").Count);
            Assert.Contains("media=\"" + ladder.Source.SessionId + "/$RepresentationID$_$Number$.m4s\"", mpd, StringComparison.Ordinal);
            Assert.Contains("<Representation id=\"video120\"", mpd, StringComparison.Ordinal);
            Assert.Contains("<Representation id=\"video\"", mpd, StringComparison.Ordinal);
            Assert.Contains("segmentAlignment=\"true\"", mpd, StringComparison.Ordinal);

            // Each media playlist reports its siblings (RFC 8216bis §4.4.5.4), all reached through the stream name.
            var rungPlaylist = TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("video120.m3u8", null, null, false, CancellationToken.None)).Body);
            Assert.Contains("#EXT-X-RENDITION-REPORT:URI=\"video.m3u8\"", rungPlaylist, StringComparison.Ordinal);
            Assert.Contains("#EXT-X-RENDITION-REPORT:URI=\"audio.m3u8\"", rungPlaylist, StringComparison.Ordinal);
            Assert.Contains($"#EXT-X-MAP:URI=\"{ladder.Source.SessionId}/video120_init.mp4\"", rungPlaylist, StringComparison.Ordinal);
            var sourcePlaylist = TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("video.m3u8", null, null, false, CancellationToken.None)).Body);
            Assert.Contains("#EXT-X-RENDITION-REPORT:URI=\"video120.m3u8\"", sourcePlaylist, StringComparison.Ordinal);
            Assert.Contains("#EXT-X-RENDITION-REPORT:URI=\"audio.m3u8\"", sourcePlaylist, StringComparison.Ordinal);

            // Same segments, same numbers, same program date-times.
            // (the rung lags by up to a frame, so the source may have closed one more).
            var rungLines = SegmentLines(rungPlaylist).ToList();
            Assert.True(rungLines.Count >= 6, rungPlaylist);
            Assert.Equal(SegmentLines(sourcePlaylist).Select(l => l.Replace("/video_", "/video120_", StringComparison.Ordinal)).Take(rungLines.Count), rungLines);
            Assert.NotNull(await ladder.Source.GetSessionFileAsync("video120_1.m4s", CancellationToken.None));
            Assert.NotNull(await ladder.Source.GetSessionFileAsync("video120_init.mp4", CancellationToken.None));
            Assert.Null(await ladder.Source.GetSessionFileAsync("video999_1.m4s", CancellationToken.None));
            Assert.Equal(PlaylistStatus.NotFound, (await ladder.Source.GetMediaPlaylistAsync("video999.m3u8", null, null, false, CancellationToken.None)).Status);

            // The source ends first; the documents stay dynamic until the rung (flushed by the transcoder) ends too.
            ladder.Source.OnEnd();
            Assert.Contains("type=\"dynamic\"", TestStreams.Text(await ladder.Source.GetMpdAsync(CancellationToken.None)), StringComparison.Ordinal);
            Assert.NotNull(registry.FindLive("abr"));
            rung.OnEnd();
            Assert.Contains("type=\"static\"", TestStreams.Text(await ladder.Source.GetMpdAsync(CancellationToken.None)), StringComparison.Ordinal);
            Assert.Contains("#EXT-X-ENDLIST", TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("video120.m3u8", null, null, false, CancellationToken.None)).Body), StringComparison.Ordinal);
            await TestStreams.WaitRemovedAsync(registry, "abr");

            // The recording: one folder, every rendition's playlist, the composite master and a static MPD.
            var folder = Path.Combine(root, "abr");
            Assert.Contains("video120.m3u8", await File.ReadAllTextAsync(Path.Combine(folder, "index.m3u8")), StringComparison.Ordinal);
            Assert.Contains("type=\"static\"", await File.ReadAllTextAsync(Path.Combine(folder, "index.mpd")), StringComparison.Ordinal);
            Assert.Contains("#EXT-X-ENDLIST", await File.ReadAllTextAsync(Path.Combine(folder, "video120.m3u8")), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(folder, ladder.Source.SessionId, "video120_0.m4s")));
            Assert.True(File.Exists(Path.Combine(folder, ladder.Source.SessionId, "video_0.m4s")));
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_rung_that_lost_a_gop_cuts_only_where_the_source_did_and_gets_its_own_segment_template()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("drop", advertiseSource: true)!;
            var rung = ladder.AddRung("video120", registry);
            rung.OnVideoConfig(TestStreams.Configs().AvcC);
            var source = new SyntheticFeeder(ladder.Source);
            for (var second = 1; second <= 7; second++)
            {
                source.FeedUntil(second + 0.5);
                for (long i = (second - 1) * 25; i < second * 25; i++)
                {
                    if (i is < 50 or >= 75)
                    {
                        FeedRung(rung, i); // the GOP at 2 s (a source segment boundary) never reached the rung
                    }
                }
            }

            var rungPlaylist = TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("video120.m3u8", null, null, false, CancellationToken.None)).Body);
            var durations = Regex.Matches(rungPlaylist, "#EXTINF:([0-9.]+),").Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(["4.00000", "2.00000"], durations); // 0-4 s (no cut at the 3 s keyframe: the source did not cut there), 4-6 s

            // The timelines differ now: each Representation carries its own SegmentTemplate.
            var mpd = TestStreams.Text(await ladder.Source.GetMpdAsync(CancellationToken.None));
            Assert.DoesNotContain("$RepresentationID$", mpd, StringComparison.Ordinal);
            Assert.Matches("<Representation id=\"video120\"[^>]*>\\s*<SegmentTemplate [^>]*media=\"" + ladder.Source.SessionId + "/video120_\\$Number\\$.m4s\" startNumber=\"0\"", mpd);
            Assert.Matches("<Representation id=\"video\"[^>]*>\\s*<SegmentTemplate [^>]*media=\"" + ladder.Source.SessionId + "/video_\\$Number\\$.m4s\"", mpd);

            rung.OnEnd();
            ladder.Source.OnEnd();
            await TestStreams.WaitRemovedAsync(registry, "drop");
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_source_not_advertised_is_packaged_but_neither_listed_nor_reported()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("hidden", advertiseSource: false)!;
            var rung = ladder.AddRung("video120", registry);
            rung.OnVideoConfig(TestStreams.Configs().AvcC);
            var source = new SyntheticFeeder(ladder.Source);
            for (var second = 1; second <= 5; second++)
            {
                source.FeedUntil(second + 0.5);
                for (long i = (second - 1) * 25; i < second * 25; i++)
                {
                    FeedRung(rung, i);
                }
            }

            var master = TestStreams.Text(await ladder.Source.GetMasterPlaylistAsync(CancellationToken.None));
            Assert.Equal("video120.m3u8", Assert.Single(Variant().Matches(master)).Groups["uri"].Value);
            var rungPlaylist = TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("video120.m3u8", null, null, false, CancellationToken.None)).Body);
            Assert.DoesNotContain("URI=\"video.m3u8\"", rungPlaylist, StringComparison.Ordinal);
            Assert.Contains("URI=\"audio.m3u8\"", rungPlaylist, StringComparison.Ordinal);
            var audio = TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("audio.m3u8", null, null, false, CancellationToken.None)).Body);
            Assert.DoesNotContain("URI=\"video.m3u8\"", audio, StringComparison.Ordinal);
            Assert.Contains("URI=\"video120.m3u8\"", audio, StringComparison.Ordinal);
            var mpd = TestStreams.Text(await ladder.Source.GetMpdAsync(CancellationToken.None));
            Assert.DoesNotContain("<Representation id=\"video\"", mpd, StringComparison.Ordinal);
            Assert.Contains("media=\"" + ladder.Source.SessionId + "/video120_$Number$.m4s\"", mpd, StringComparison.Ordinal);

            rung.OnEnd();
            ladder.Source.OnEnd();
            await TestStreams.WaitRemovedAsync(registry, "hidden");
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_ladder_without_rungs_lists_its_source_even_when_told_not_to()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            // A source smaller than every configured rung: the transcoder adds none.
            var ladder = registry.TryStartLadder("small", advertiseSource: false)!;
            new SyntheticFeeder(ladder.Source).FeedUntil(4.5);
            var master = TestStreams.Text(await ladder.Source.GetMasterPlaylistAsync(CancellationToken.None));
            Assert.Equal("video.m3u8", Assert.Single(Variant().Matches(master)).Groups["uri"].Value);
            var audio = TestStreams.Text((await ladder.Source.GetMediaPlaylistAsync("audio.m3u8", null, null, false, CancellationToken.None)).Body);
            Assert.Contains("#EXT-X-RENDITION-REPORT:URI=\"video.m3u8\"", audio, StringComparison.Ordinal);
            ladder.Source.OnEnd();
            await TestStreams.WaitRemovedAsync(registry, "small");
            Assert.Contains("video.m3u8", await File.ReadAllTextAsync(Path.Combine(root, "small", "index.m3u8")), StringComparison.Ordinal);
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task An_audio_only_publish_to_a_ladder_stream_is_one_audio_variant()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("radio", advertiseSource: true)!;
            new SyntheticFeeder(ladder.Source, video: false).FeedUntil(4.5);
            var master = TestStreams.Text(await ladder.Source.GetMasterPlaylistAsync(CancellationToken.None));
            Assert.Contains("#EXT-X-STREAM-INF:BANDWIDTH=", master, StringComparison.Ordinal);
            Assert.Contains("CODECS=\"mp4a.40.2\"\naudio.m3u8\n", master, StringComparison.Ordinal);
            Assert.DoesNotContain("RESOLUTION", master, StringComparison.Ordinal);
            var mpd = TestStreams.Text(await ladder.Source.GetMpdAsync(CancellationToken.None));
            Assert.Single(Regex.Matches(mpd, "<AdaptationSet "));
            Assert.Contains("contentType=\"audio\"", mpd, StringComparison.Ordinal);
            ladder.Source.OnEnd();
            await TestStreams.WaitRemovedAsync(registry, "radio");
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Rung_names_are_checked()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("names", advertiseSource: true)!;
            Assert.Throws<ArgumentException>(() => ladder.AddRung("video", registry));
            Assert.Throws<ArgumentException>(() => ladder.AddRung("audio1", registry));
            Assert.Throws<ArgumentException>(() => ladder.AddRung("video_1", registry));
            ladder.AddRung("video360", registry);
            Assert.Throws<ArgumentException>(() => ladder.AddRung("video360", registry));
            ladder.Source.OnEnd();
            foreach (var rung in ladder.Rungs)
            {
                rung.OnEnd();
            }

            await TestStreams.WaitRemovedAsync(registry, "names");
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static IEnumerable<string> SegmentLines(string playlist) =>
        playlist.Split('\n').Where(l => l.StartsWith("#EXTINF", StringComparison.Ordinal) || l.StartsWith("#EXT-X-PROGRAM-DATE-TIME", StringComparison.Ordinal) || l.EndsWith(".m4s", StringComparison.Ordinal) && !l.StartsWith('#'));

    [GeneratedRegex("#EXT-X-STREAM-INF:BANDWIDTH=(?<bw>[0-9]+)[^\n]*\n(?<uri>[^\n]+)")]
    private static partial Regex Variant();
}
