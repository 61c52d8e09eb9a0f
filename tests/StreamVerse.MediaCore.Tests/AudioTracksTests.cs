using System.Text.Json;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.MediaCore.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// A source with several audio streams (languages) keeps every one as an alternative rendition, each encoded once:
/// HLS EXT-X-MEDIA per language in one group, DASH one AdaptationSet per language, the language in each track's
/// header (ffprobe), and real players (hls.js, dash.js in headless Chromium) list them and play after a switch.
/// </summary>
public sealed class AudioTracksTests
{
    // 3 s, 160x120 (one rung), two tones: English 440 Hz, French 880 Hz; the mp4 muxer marks the first default.
    private static readonly Lazy<Task<LadderResult>> TwoLanguages = new(() => new Transcoder().TranscodeAsync(
        Tools.Clip("two-languages.mp4",
        [
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000", "-map", "0:v", "-map", "1:a", "-map", "2:a",
            "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
        ]),
        Path.Combine(Tools.TempRoot, "two-languages-out"), new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(1), Thumbnails = false },
        null, CancellationToken.None));

    [Fact]
    public async Task Every_audio_stream_becomes_a_rendition_with_its_language_and_name()
    {
        var result = await TwoLanguages.Value;
        Assert.Equal(
            [("en", "English", true, "audio.m3u8"), ("fr", "French", false, "audio2.m3u8")],
            result.AudioTracks.Select(a => (a.Language, a.Name, a.IsDefault, a.Playlist)));
        Assert.Equal("audio.m3u8", result.Audio!.Playlist);

        // ffprobe reads each rendition's language from its track header (mdhd, in the init segment: FFmpeg's HLS
        // demuxer does not pass the tags of the streams it opens on).
        foreach (var (init, language) in (ReadOnlySpan<(string, string)>)[("audio_init.mp4", "eng"), ("audio2_init.mp4", "fra")])
        {
            var probe = Tools.MustRun("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream_tags=language",
                "-of", "csv=p=0", Path.Combine(result.OutputDirectory, init)).StdOut;
            Assert.Equal(language, probe.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().Single());
        }

        // Each is its own sound: encoded from its own stream, not a copy of the first.
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(result.OutputDirectory, "audio_1.m4s")),
            File.ReadAllBytes(Path.Combine(result.OutputDirectory, "audio2_1.m4s")));
    }

    [Fact]
    public async Task The_master_playlist_and_the_MPD_offer_each_language()
    {
        var result = await TwoLanguages.Value;
        var master = File.ReadAllText(Path.Combine(result.OutputDirectory, result.MasterPlaylist));
        Assert.Contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"en\",NAME=\"English\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio.m3u8\"\n", master, StringComparison.Ordinal);
        Assert.Contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"fr\",NAME=\"French\",DEFAULT=NO,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio2.m3u8\"\n", master, StringComparison.Ordinal);
        var variants = master.Split('\n').Where(l => l.StartsWith("#EXT-X-STREAM-INF", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(variants);
        Assert.All(variants, v => Assert.Contains(",AUDIO=\"audio\"", v, StringComparison.Ordinal));

        var mpd = File.ReadAllText(Path.Combine(result.OutputDirectory, result.DashManifest));
        Assert.Contains("contentType=\"audio\" lang=\"en\"", mpd, StringComparison.Ordinal);
        Assert.Contains("contentType=\"audio\" lang=\"fr\"", mpd, StringComparison.Ordinal);
        Assert.Equal(2, mpd.Split("contentType=\"audio\"").Length - 1);
        Assert.Contains("<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>", mpd, StringComparison.Ordinal);
        Assert.Contains("<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"alternate\"/>", mpd, StringComparison.Ordinal);

        // Both decode through their manifests (ffmpeg picks every audio stream with -map).
        var decoded = Tools.Run("ffmpeg", "-v", "error", "-i", Path.Combine(result.OutputDirectory, result.DashManifest), "-map", "0:a", "-f", "null", "-");
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim().Length == 0, decoded.StdErr);
    }

    [Fact]
    public async Task Hls_js_and_dash_js_list_both_languages_and_play_after_switching_to_the_second()
    {
        var result = await TwoLanguages.Value;
        using var server = BrowserPlaybackTests.StartServer(result.OutputDirectory, out var baseUrl);
        try
        {
            var lint = BrowserPlaybackTests.Node("lint-hls.mjs", baseUrl + result.MasterPlaylist);
            Assert.True(lint.ExitCode == 0, lint.StdOut + lint.StdErr);

            foreach (var (player, manifest) in (ReadOnlySpan<(string, string)>)[("hls", result.MasterPlaylist), ("dash", result.DashManifest)])
            {
                var run = BrowserPlaybackTests.NodeWith(["PLAY_AUDIO_TRACK=1"], "play.mjs", player, baseUrl + manifest, "2");
                Assert.True(run.ExitCode == 0, player + ": " + run.StdOut + run.StdErr);
                using var json = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
                var langs = json.RootElement.GetProperty("audioLangs").EnumerateArray().Select(l => l.GetString()).ToList();
                Assert.Equal(["en", "fr"], langs);
                Assert.Equal(1, json.RootElement.GetProperty("audioTrackNow").GetInt32());
            }
        }
        finally
        {
            server.Kill();
        }
    }

    // The second stream is the default one. (Matroska: the mp4 muxer writes no track title.)
    private static string SecondIsDefault() => Tools.Clip("two-languages-second-default.mkv",
    [
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000", "-map", "0:v", "-map", "1:a", "-map", "2:a",
        "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "title=Version \"française\"",
        "-disposition:a:0", "0", "-disposition:a:1", "default",
    ]);

    [Fact]
    public async Task The_default_track_is_the_stream_the_source_marks_default()
    {
        var options = new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(1), Thumbnails = false };
        var result = await new Transcoder().TranscodeAsync(SecondIsDefault(), Path.Combine(Tools.TempRoot, "second-default-all-out"), options, null, CancellationToken.None);
        Assert.Equal([("en", false), ("fr", true)], result.AudioTracks.Select(a => (a.Language, a.IsDefault)));
        var master = File.ReadAllText(Path.Combine(result.OutputDirectory, result.MasterPlaylist));
        Assert.Contains("LANGUAGE=\"fr\",NAME=\"Version 'française'\",DEFAULT=YES", master, StringComparison.Ordinal);
        Assert.Contains("LANGUAGE=\"en\",NAME=\"English\",DEFAULT=NO", master, StringComparison.Ordinal);
        var mpd = File.ReadAllText(Path.Combine(result.OutputDirectory, result.DashManifest));
        Assert.Matches("lang=\"fr\"[^>]*>\\s*<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>", mpd);
    }

    [Fact]
    public async Task An_audio_only_source_with_two_languages_plays_in_hls_js_and_switches()
    {
        var source = Tools.Clip("two-languages-audio-only.m4a",
        [
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000",
            "-map", "0:a", "-map", "1:a", "-t", "3", "-c:a", "aac", "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
        ]);
        var options = new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(1), Thumbnails = false };
        var result = await new Transcoder().TranscodeAsync(source, Path.Combine(Tools.TempRoot, "audio-only-two-out"), options, null, CancellationToken.None);
        var master = File.ReadAllText(Path.Combine(result.OutputDirectory, result.MasterPlaylist));
        Assert.Contains("LANGUAGE=\"fr\"", master, StringComparison.Ordinal);

        using var server = BrowserPlaybackTests.StartServer(result.OutputDirectory, out var baseUrl);
        try
        {
            var lint = BrowserPlaybackTests.Node("lint-hls.mjs", baseUrl + result.MasterPlaylist);
            Assert.True(lint.ExitCode == 0, lint.StdOut + lint.StdErr);
            var run = BrowserPlaybackTests.NodeWith(["PLAY_AUDIO_TRACK=1"], "play.mjs", "hls", baseUrl + result.MasterPlaylist, "2");
            Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
            Assert.Contains("\"audioLangs\":[\"en\",\"fr\"]", run.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            server.Kill();
        }
    }

    [Fact]
    public async Task MaxAudioTracks_keeps_the_default_stream_and_one_track_is_written_as_before()
    {
        // With room for one track, the default stream is the one kept.
        var source = SecondIsDefault();
        var options = new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(1), Thumbnails = false, MaxAudioTracks = 1 };
        var result = await new Transcoder().TranscodeAsync(source, Path.Combine(Tools.TempRoot, "second-default-out"), options, null, CancellationToken.None);

        var only = Assert.Single(result.AudioTracks);
        Assert.Equal(("fr", "Version 'française'", true, "audio.m3u8", 2), (only.Language, only.Name, only.IsDefault, only.Playlist, only.SourceIndex));

        // One audio track: the single-audio form (no LANGUAGE, one unnamed rendition, no lang in the MPD), with
        // the language in the track header all the same.
        var master = File.ReadAllText(Path.Combine(result.OutputDirectory, result.MasterPlaylist));
        Assert.Contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio.m3u8\"\n", master, StringComparison.Ordinal);
        Assert.DoesNotContain("LANGUAGE", master, StringComparison.Ordinal);
        Assert.DoesNotContain(" lang=", File.ReadAllText(Path.Combine(result.OutputDirectory, result.DashManifest)), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(result.OutputDirectory, "audio2.m3u8")));
        var probe = Tools.MustRun("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream_tags=language",
            "-of", "csv=p=0", Path.Combine(result.OutputDirectory, "audio_init.mp4")).StdOut;
        Assert.Equal("fra", probe.Trim());
    }
}

public sealed class LanguageTagTests
{
    [Theory]
    [InlineData("eng", "eng", "en", "English")]
    [InlineData("fre", "fra", "fr", "French")] // ISO 639-2/B, as Matroska writes it
    [InlineData("FRA", "fra", "fr", "French")]
    [InlineData("de", "deu", "de", "German")] // ISO 639-1
    [InlineData("pt-BR", "por", "pt", "Portuguese")]
    [InlineData("tlh", "tlh", "tlh", "tlh")] // well formed, not in the table: kept as written
    [InlineData(null, "und", "und", "Audio")]
    [InlineData("", "und", "und", "Audio")]
    [InlineData("und", "und", "und", "Audio")]
    [InlineData("e\"n", "und", "und", "Audio")]
    [InlineData("english", "und", "und", "Audio")]
    public void A_container_tag_gives_the_mdhd_code_the_RFC_5646_tag_and_a_name(string? tag, string iso639, string bcp47, string name) =>
        Assert.Equal(new Probe.LanguageTag(iso639, bcp47, name), Probe.LanguageTag.From(tag));
}
