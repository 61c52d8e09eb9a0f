using System.Globalization;
using System.Text.RegularExpressions;
using StreamVerse.MediaCore.Probe;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.MediaCore.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

/// <summary>Rotation, odd sizes, VFR, audio-only, thumbnails, cancellation and clean failure.</summary>
public sealed partial class LadderEdgeTests
{
    private static readonly LadderOptions Fast = new() { SegmentDuration = TimeSpan.FromSeconds(1), Preset = "ultrafast" };

    private static string NewOutput(string name) => Path.Combine(Tools.TempRoot, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    [Theory]
    [InlineData(90)]
    [InlineData(180)]
    [InlineData(270)]
    public async Task Rotated_sources_come_out_upright_like_ffmpeg_autorotate(int rotateTag)
    {
        var plain = Tools.Clip("rot-src.mp4", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10"]);
        var tagged = Tools.Clip($"rot-src-{rotateTag}.mp4", ["-i", plain, "-c", "copy", "-metadata:s:v", $"rotate={rotateTag}"]);
        var result = await new Transcoder().TranscodeAsync(tagged, NewOutput("rot"), Fast, null, CancellationToken.None);

        var info = MediaProbe.Probe(tagged);
        var (w, h) = (info.Video!.DisplayWidth, info.Video.DisplayHeight);
        Assert.Equal((info.Video.Rotation is 90 or 270) ? (240, 320) : (320, 240), (w, h));
        var rung = Assert.Single(result.Rungs);
        Assert.Equal((w, h), (rung.Width, rung.Height));

        // ffmpeg autorotates input 1 (the tagged source); our rung must match it picture for picture.
        var psnr = Psnr(Path.Combine(result.OutputDirectory, rung.Playlist), tagged, w, h);
        Assert.True(psnr > 30, $"PSNR {psnr:0.0} dB against ffmpeg's autorotated source: wrong orientation?");
    }

    [Fact]
    public async Task Odd_sized_yuv444_source_gets_even_rungs()
    {
        var clip = Tools.Clip("odd-444.mp4", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25,scale=321:241", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"]);
        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("odd"), Fast, null, CancellationToken.None);
        var rung = Assert.Single(result.Rungs);
        Assert.Equal((320, 240), (rung.Width, rung.Height));
        var probe = Tools.MustRun("ffprobe", "-v", "error", "-show_entries", "stream=width,height,pix_fmt,profile", "-of", "csv=p=0",
            Path.Combine(result.OutputDirectory, rung.Playlist)).StdOut;
        Assert.Contains("320,240,yuv420p", probe.Replace("Constrained Baseline,", string.Empty, StringComparison.Ordinal).Replace("High,", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Null(result.Audio);
        Assert.DoesNotContain("audio", File.ReadAllText(Path.Combine(result.OutputDirectory, result.MasterPlaylist)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Variable_frame_rate_becomes_constant()
    {
        // 1 s at 25 fps then 1 s at 50 fps in Matroska (ms timestamps): 75 frames in 2 s.
        var clip = Tools.Clip("vfr.mkv",
        [
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=50", "-t", "2",
            "-vf", "select='gte(t,1)+not(mod(n,2))',setpts='if(lt(N,25),N*2,N-25+50)/50/TB'",
            "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast",
        ]);
        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("vfr"), Fast, null, CancellationToken.None);
        var rung = Assert.Single(result.Rungs);
        Assert.True(result.FramesDuplicated > 0 || result.FramesDropped > 0, $"dup {result.FramesDuplicated} drop {result.FramesDropped}");

        var pts = Tools.MustRun("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts", "-of", "csv=p=0",
                Path.Combine(result.OutputDirectory, rung.Playlist)).StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => long.Parse(p.Trim(), CultureInfo.InvariantCulture)).Order().ToList();
        var deltas = pts.Zip(pts.Skip(1), (a, b) => b - a).Distinct().ToList();
        Assert.Single(deltas); // constant frame duration
        Assert.Equal(result.FramesOut, pts.Count);
        Assert.InRange(pts.Count / result.FrameRate, 1.9, 2.1);
    }

    [Fact]
    public async Task Audio_only_input_gives_an_audio_only_rendition_downmixed_to_stereo_48k()
    {
        var clip = Tools.Clip("surround.m4a", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "3", "-ac", "6", "-c:a", "aac"]);
        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("audio"), Fast, null, CancellationToken.None);
        Assert.Empty(result.Rungs);
        Assert.NotNull(result.Audio);
        Assert.Null(result.Poster);

        var master = Path.Combine(result.OutputDirectory, result.MasterPlaylist);
        var text = File.ReadAllText(master);
        Assert.Contains("CODECS=\"mp4a.40.2\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("RESOLUTION", text, StringComparison.Ordinal);
        Assert.Equal(string.Empty, Tools.MustRun("ffmpeg", "-v", "error", "-i", master, "-f", "null", "-").StdErr.Trim());
        var streams = Tools.MustRun("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0",
            Path.Combine(result.OutputDirectory, result.DashManifest)).StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().Single();
        Assert.Equal("aac,48000,2", streams);
    }

    [Fact]
    public async Task Poster_storyboard_and_vtt_track_are_written()
    {
        var clip = Tools.Clip("thumbs.mp4", ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast"]);
        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("thumbs"), Fast, null, CancellationToken.None);
        Assert.Equal("poster.jpg", result.Poster);

        string Dims(string file) => Tools.MustRun("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0",
            Path.Combine(result.OutputDirectory, file)).StdOut.Trim();
        Assert.Equal("mjpeg,640,360", Dims(result.Poster!));
        Assert.Equal("mjpeg,480,90", Dims(result.Storyboard!)); // 3 tiles of 160x90, one row

        var vtt = File.ReadAllText(Path.Combine(result.OutputDirectory, result.StoryboardTrack!));
        Assert.StartsWith("WEBVTT\n\n", vtt, StringComparison.Ordinal);
        var cues = Regex.Matches(vtt, @"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\nstoryboard\.jpg#xywh=(\d+),(\d+),160,90");
        Assert.Equal(3, cues.Count);
        Assert.Equal(["0", "160", "320"], cues.Select(c => c.Groups[3].Value));
        Assert.Equal("00:00:00.000", cues[0].Groups[1].Value);
        Assert.Equal("00:00:03.000", cues[2].Groups[2].Value);
    }

    [Fact]
    public async Task Cancellation_stops_between_frames_and_removes_partial_output()
    {
        var clip = Tools.Clip("cancel.mp4", ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast"]);
        var output = NewOutput("cancel");
        using var cts = new CancellationTokenSource();
        var reports = new List<double>();
        var progress = new SynchronousProgress(p =>
        {
            reports.Add(p);
            if (p >= 0.2)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Transcoder().TranscodeAsync(clip, output, Fast, progress, cts.Token));
        Assert.NotEmpty(reports);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.EnumerateDirectories(Tools.TempRoot, $".{Path.GetFileName(output)}.partial-*"));
    }

    [Fact]
    public async Task Failure_reports_a_readable_error_and_leaves_nothing()
    {
        var path = Path.Combine(Tools.TempRoot, "junk-upload.mp4");
        var bytes = new byte[32 * 1024];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var output = NewOutput("junk");

        var ex = await Assert.ThrowsAsync<MediaProbeException>(() => new Transcoder().TranscodeAsync(path, output, Fast, null, CancellationToken.None));
        Assert.Equal(MediaProbeError.NotMedia, ex.Error);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.EnumerateDirectories(Tools.TempRoot, $".{Path.GetFileName(output)}.partial-*"));
    }

    [Fact]
    public async Task A_timestamp_jump_of_hours_fails_at_once_instead_of_encoding_hours_of_repeats()
    {
        // Three frames, the third ten hours in: 11 kB that declare 10 h; filling the jump would be 900,000 frames. It
        // fails once the repeats pass what the file accounts for (MaxUnexplainedRepeatSeconds).
        var clip = Tools.Clip("jump-10h.mkv", ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25", "-frames:v", "3",
            "-vf", "setpts='if(eq(N,2),36000/TB,PTS)'", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast"]);
        var output = NewOutput("jump");

        var ex = await Assert.ThrowsAsync<MediaProbeException>(() => new Transcoder().TranscodeAsync(clip, output, Fast, null, CancellationToken.None));
        Assert.Equal(MediaProbeError.BrokenTimestamps, ex.Error);
        Assert.Contains("jump from 0.0 s to 36000.0 s with nothing in between", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Short_video_gaps_and_gaps_under_sound_are_filled()
    {
        // A 20 s still in a video-only file, and a 90 s one under continuous audio (muxed after the picture that ends
        // the gap, as ffmpeg's MKV muxer does): both real, both kept.
        var still = Tools.Clip("gap-20s.mkv", ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25", "-frames:v", "3",
            "-vf", "setpts='if(eq(N,2),20/TB,PTS)'", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast"]);
        var voiced = Tools.Clip("gap-90s-voiced.mkv", ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=91",
            "-frames:v", "3", "-vf", "setpts='if(eq(N,2),90/TB,PTS)'", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]);

        var a = await new Transcoder().TranscodeAsync(still, NewOutput("still"), Fast, null, CancellationToken.None);
        Assert.InRange(a.Duration.TotalSeconds, 19.9, 21);
        Assert.True(a.FramesDuplicated > 400, $"{a.FramesDuplicated} repeats");
        var b = await new Transcoder().TranscodeAsync(voiced, NewOutput("voiced"), Fast, null, CancellationToken.None);
        Assert.InRange(b.Duration.TotalSeconds, 89.9, 92);
    }

    [Fact]
    public async Task Truncated_faststart_upload_fails_instead_of_publishing_a_short_video()
    {
        var clip = Tools.Clip("faststart-ladder.mp4", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart"]);
        var bytes = File.ReadAllBytes(clip);
        var path = Path.Combine(Tools.TempRoot, "faststart-ladder-truncated.mp4");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var output = NewOutput("trunc");

        var ex = await Assert.ThrowsAsync<MediaProbeException>(() => new Transcoder().TranscodeAsync(path, output, Fast, null, CancellationToken.None));
        Assert.Equal(MediaProbeError.Truncated, ex.Error);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Audio_that_starts_late_is_padded_with_silence_to_stay_in_sync()
    {
        var clip = Tools.Clip("late-audio.mp4",
        [
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-itsoffset", "1", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        ]);
        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("late"), Fast, null, CancellationToken.None);
        var audio = Path.Combine(result.OutputDirectory, "audio.m3u8");
        Assert.InRange(LadderTests.ExtInf(audio).Sum(), 2.95, 3.1);

        static double MaxVolume(string playlist, string from, string to)
        {
            // atrim, not -ss: input seeking in an fMP4 audio-only HLS playlist yields nothing in FFmpeg 5.1.
            var r = Tools.MustRun("ffmpeg", "-v", "info", "-nostats", "-i", playlist, "-af", $"atrim=start={from}:end={to},volumedetect", "-f", "null", "-");
            var m = Regex.Match(r.StdErr, @"max_volume: (-?[\d.]+|-inf) dB");
            Assert.True(m.Success, r.StdErr);
            return m.Groups[1].Value == "-inf" ? -200 : double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        Assert.True(MaxVolume(audio, "0", "0.95") < -60, "the first second should be silent");
        Assert.True(MaxVolume(audio, "1.05", "2.9") > -30, "the tone should play from 1 s");
    }

    [Fact]
    public async Task Progress_reaches_one()
    {
        var clip = Tools.Clip("progress.mp4", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]);
        var reports = new List<double>();
        await new Transcoder().TranscodeAsync(clip, NewOutput("progress"), Fast, new SynchronousProgress(reports.Add), CancellationToken.None);
        Assert.True(reports.Count >= 5, $"{reports.Count} reports");
        Assert.Equal(1.0, reports[^1]);
        Assert.Equal(reports.Order(), reports);
    }

    private static double Psnr(string ours, string reference, int w, int h)
    {
        var r = Tools.MustRun("ffmpeg", "-v", "info", "-nostats", "-i", ours, "-i", reference,
            "-lavfi", $"[1:v]scale={w}:{h}[ref];[0:v][ref]psnr", "-f", "null", "-");
        var m = Regex.Match(r.StdErr, @"PSNR y:[\d.]+ u:[\d.]+ v:[\d.]+ average:([\d.]+|inf)");
        Assert.True(m.Success, r.StdErr);
        return m.Groups[1].Value == "inf" ? 100 : double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this one calls back on the reporting thread, in order.</summary>
    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
