using System.Net;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Subtitle tracks of an uploaded source become the video's captions: a tiny MKV with a SubRip track in English and an
/// ASS track in French goes through the daemon's real queue and MediaCore; both come out as WebVTT caption tracks with
/// their language tags, in the video resource and the published manifests. On both databases.
/// </summary>
public abstract class SourceCaptionTests(JobsApp app)
{
    /// <summary>160x120, 2 s, a tone, and two text subtitle tracks (eng SubRip titled "English", fre ASS untitled).</summary>
    internal static string SubtitledMkv()
    {
        var en = Path.Combine(Clips.Root, "en.srt");
        var fr = Path.Combine(Clips.Root, "fr.srt");
        File.WriteAllText(en, "1\n00:00:00,200 --> 00:00:01,000\nHello <i>there</i>\n\n2\n00:00:01,100 --> 00:00:01,800\nSecond cue\n");
        File.WriteAllText(fr, "1\n00:00:00,300 --> 00:00:01,500\nBonjour & bienvenue\n");
        return Clips.Make("subtitled.mkv",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-i", en, "-i", fr, "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map", "3:s", "-t", "2",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s:0", "srt", "-c:s:1", "ass",
            "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", "title=English", "-metadata:s:s:1", "language=fre");
    }

    [Fact]
    public async Task Text_subtitles_of_an_MKV_source_become_caption_tracks_with_their_languages()
    {
        var clip = SubtitledMkv();
        var probe = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffprobe", "-v", "error", "-select_streams", "s", "-show_entries",
            "stream=codec_name:stream_tags=language", "-of", "csv=p=0", clip);
        Assert.Equal(["subrip,eng", "ass,fre"], probe.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var (video, _, _, owner) = await app.EnqueueAsync(clip);
        var ready = await app.WaitForAsync(video, owner, ["ready"]);
        var captions = ready.GetProperty("captions").EnumerateArray().ToList();
        Assert.Equal(["eng", "fre"], captions.Select(c => c.GetProperty("language").GetString()));
        Assert.Equal(["English", "fre"], captions.Select(c => c.GetProperty("label").GetString()));
        Assert.All(captions, c => Assert.Equal("source", c.GetProperty("source").GetString()));

        // Cue times are the file's own, on the presentation's timeline (which starts where the container does). The
        // ffmpeg CLI that made the clip shifted every stream by the video's encoder delay (21 ms): read it back from the file.
        var packets = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffprobe", "-v", "error", "-select_streams", "s:0", "-show_entries", "packet=pts_time",
            "-of", "csv=p=0", clip);
        var shift = (int)Math.Round(double.Parse(packets.StdOut.Split('\n')[0].Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1000) - 200;
        string At(int ms) => TimeSpan.FromMilliseconds(ms + shift).ToString("hh\\:mm\\:ss\\.fff", System.Globalization.CultureInfo.InvariantCulture);
        var en = await app.Http.GetStringAsync(captions[0].GetProperty("url").GetString()!.TrimStart('/'));
        Assert.Equal($"WEBVTT\n\n{At(200)} --> {At(1000)}\nHello <i>there</i>\n\n{At(1100)} --> {At(1800)}\nSecond cue\n", en);
        var fr = await app.Http.GetStringAsync(captions[1].GetProperty("url").GetString()!.TrimStart('/'));
        Assert.Equal($"WEBVTT\n\n{At(300)} --> {At(1500)}\nBonjour &amp; bienvenue\n", fr);

        var master = await app.Http.GetStringAsync($"vod/{video}/index.m3u8");
        Assert.Contains("TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"eng\",NAME=\"English\"", master, StringComparison.Ordinal);
        Assert.Contains("LANGUAGE=\"fre\"", master, StringComparison.Ordinal);
        var mpd = await app.Http.GetStringAsync($"vod/{video}/index.mpd");
        Assert.Contains("lang=\"eng\"", mpd, StringComparison.Ordinal);

        // An upload in one of the languages replaces the source's track; the other stays.
        using var content = new ByteArrayContent("WEBVTT\n\n00:00.000 --> 00:01.000\nMine\n"u8.ToArray());
        using var put = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{video}/captions/eng", owner.AccessToken, content: content);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var after = (await app.VideoAsync(video, owner)).GetProperty("captions").EnumerateArray().ToList();
        Assert.Equal(["upload", "source"], after.Select(c => c.GetProperty("source").GetString()));
    }
}

[Collection("jobs-sqlite")]
public sealed class SourceCaptionTestsSqlite(JobsSqliteApp app) : SourceCaptionTests(app);

[Collection("jobs-postgres")]
public sealed class SourceCaptionTestsPostgres(JobsPostgresApp app) : SourceCaptionTests(app);
