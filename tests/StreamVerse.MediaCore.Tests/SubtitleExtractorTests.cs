using StreamVerse.MediaCore.Subtitles;
using StreamVerse.Tests.Shared;

namespace StreamVerse.MediaCore.Tests;

/// <summary>Text subtitle tracks out of real containers made by ffmpeg: MP4 mov_text, Matroska WebVTT; no decoding.</summary>
public sealed class SubtitleExtractorTests
{
    private static string Make(string dir, string name, params string[] args)
    {
        var path = Path.Combine(dir, name);
        var r = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffmpeg", ["-v", "error", "-y", .. args, path]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        return path;
    }

    [Fact]
    public void An_MP4_mov_text_track_and_a_Matroska_WebVTT_track_come_out_as_SubRip_with_their_tags()
    {
        var dir = Directory.CreateTempSubdirectory("sv-subs-").FullName;
        try
        {
            var srt = Path.Combine(dir, "in.srt");
            File.WriteAllText(srt, "1\n00:00:00,500 --> 00:00:01,250\nErste Zeile\nZweite Zeile\n");
            var mp4 = Make(dir, "in.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-i", srt, "-t", "2", "-map", "0:v", "-map", "1:s",
                "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-c:s", "mov_text", "-metadata:s:s:0", "language=ger");
            var found = SubtitleExtractor.Extract(mp4, Path.Combine(dir, "out-mp4"), CancellationToken.None);
            var track = Assert.Single(found.Tracks);
            Assert.Equal("ger", track.Language);
            Assert.Equal(1, track.Cues);
            Assert.Equal("1\n00:00:00,500 --> 00:00:01,250\nErste Zeile\nZweite Zeile\n\n", File.ReadAllText(track.Path));

            var mkv = Make(dir, "in.mkv", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-i", srt, "-t", "2", "-map", "0:v", "-map", "1:s",
                "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-c:s", "webvtt", "-metadata:s:s:0", "language=spa", "-metadata:s:s:0", "title=Español");
            var fromMkv = Assert.Single(SubtitleExtractor.Extract(mkv, Path.Combine(dir, "out-mkv"), CancellationToken.None).Tracks);
            Assert.Equal(("spa", "Español"), (fromMkv.Language, fromMkv.Title));
            Assert.Contains("Erste Zeile\nZweite Zeile", File.ReadAllText(fromMkv.Path), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_source_without_subtitles_gives_nothing_and_writes_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("sv-subs-").FullName;
        try
        {
            var mp4 = Make(dir, "plain.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast");
            var found = SubtitleExtractor.Extract(mp4, Path.Combine(dir, "out"), CancellationToken.None);
            Assert.Empty(found.Tracks);
            Assert.Empty(found.Skipped);
            Assert.False(Directory.Exists(Path.Combine(dir, "out")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("ass", "0,0,Default,,0,0,0,,{\\i1}Hi{\\i0}, you\\Nthere", "{\\i1}Hi{\\i0}, you\nthere")]
    [InlineData("subrip", "line one\r\n\r\nline two", "line one\nline two")]
    [InlineData("ass", "not enough,fields", "")]
    public void Packet_texts_become_SubRip_lines(string codec, string packet, string text) =>
        Assert.Equal(text, SubtitleExtractor.TextOf(SubtitleExtractor.KindOf(codec)!.Value, System.Text.Encoding.UTF8.GetBytes(packet)));

    [Fact]
    public void Bitmap_codecs_are_not_text() =>
        Assert.Null(SubtitleExtractor.KindOf("hdmv_pgs_subtitle"));
}
