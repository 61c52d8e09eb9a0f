using StreamVerse.MediaCore.Probe;
using StreamVerse.MediaCore.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

public sealed class ProbeTests
{
    private static readonly string[] TestSource = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];

    [Fact]
    public void Probes_h264_aac_mp4_with_b_frames()
    {
        var clip = Tools.Clip("bframes.mp4", [.. TestSource, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-c:a", "aac", "-b:a", "64k"]);
        var info = MediaProbe.Probe(clip);

        Assert.StartsWith("mov,mp4", info.Container, StringComparison.Ordinal);
        Assert.NotNull(info.Duration);
        Assert.InRange(info.Duration!.Value.TotalSeconds, 1.9, 2.2);
        Assert.Equal(2, info.Streams.Count);
        var v = info.Video!;
        Assert.Equal("h264", v.Codec);
        Assert.Equal((320, 240), (v.Width, v.Height));
        Assert.Equal(25, v.FrameRate, 3);
        Assert.Equal(0, v.Rotation);
        Assert.Equal("yuv420p", v.PixelFormat);
        var a = info.Audio!;
        Assert.Equal("aac", a.Codec);
        Assert.Equal(48000, a.SampleRate);
        Assert.Equal(1, a.Channels);
        Assert.Equal("mono", a.ChannelLayout);
    }

    [Fact]
    public void Probes_odd_size_rotation_and_5_1_audio()
    {
        var clip = Tools.Clip("odd-rot-51.mp4",
        [
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30000/1001,scale=321:241", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p",
            "-c:a", "aac", "-ac", "6",
        ]);

        // FFmpeg 5.1 writes a display matrix for a rotate tag only when stream-copying; its angle is counter-clockwise.
        clip = Tools.Clip("odd-rot-51-tagged.mp4", ["-i", clip, "-c", "copy", "-metadata:s:v", "rotate=270"]);
        var info = MediaProbe.Probe(clip);
        var v = info.Video!;
        Assert.Equal((321, 241), (v.Width, v.Height));
        Assert.Equal(90, v.Rotation);
        Assert.Equal((241, 321), (v.DisplayWidth, v.DisplayHeight));
        Assert.Equal(30000.0 / 1001, v.FrameRate, 3);
        var a = info.Audio!;
        Assert.Equal(6, a.Channels);
        Assert.Equal("5.1", a.ChannelLayout);
        Assert.Equal(44100, a.SampleRate);
    }

    [Fact]
    public void Probes_display_rotation_270()
    {
        var clip = Tools.Clip("rot270.mp4",
            ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast"]);
        clip = Tools.Clip("rot270-tagged.mp4", ["-i", clip, "-c", "copy", "-metadata:s:v", "rotate=90"]);
        var v = MediaProbe.Probe(clip).Video!;

        // FFmpeg 5.1 has no -display_rotation; its rotate tag becomes a display matrix of 90 degrees counter-clockwise,
        // which ffmpeg's autorotate undoes with transpose=cclock: 270 clockwise.
        Assert.Equal(270, v.Rotation);
    }

    [Fact]
    public void Probes_audio_only()
    {
        var clip = Tools.Clip("audio-only.m4a", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1", "-ac", "2", "-c:a", "aac"]);
        var info = MediaProbe.Probe(clip);
        Assert.Null(info.Video);
        Assert.Equal(2, info.Audio!.Channels);
        Assert.Equal("stereo", info.Audio.ChannelLayout);
    }

    [Fact]
    public void Cover_art_is_not_video()
    {
        var cover = Tools.Clip("cover.jpg", ["-f", "lavfi", "-i", "testsrc2=size=160x160", "-frames:v", "1"]);
        var clip = Tools.Clip("with-cover.mp3",
            ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-i", cover, "-t", "2", "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "copy", "-disposition:v", "attached_pic"]);
        var info = MediaProbe.Probe(clip);
        Assert.Null(info.Video);
        Assert.Equal("mp3", info.Audio!.Codec);
        Assert.Contains(info.Streams, s => s.Kind == MediaStreamKind.Video && s.IsAttachedPicture);
    }

    [Fact]
    public void Refuses_zero_byte_file()
    {
        var path = Path.Combine(Tools.TempRoot, "empty.mp4");
        File.WriteAllBytes(path, []);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.Empty, ex.Error);
        Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_truncated_mp4()
    {
        var clip = Tools.Clip("whole.mp4", [.. TestSource, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]);
        var bytes = File.ReadAllBytes(clip);
        var path = Path.Combine(Tools.TempRoot, "truncated.mp4");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.Truncated, ex.Error);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_truncated_faststart_mp4()
    {
        var clip = Tools.Clip("faststart.mp4", [.. TestSource, "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-movflags", "+faststart"]);
        var bytes = File.ReadAllBytes(clip);
        var path = Path.Combine(Tools.TempRoot, "faststart-truncated.mp4");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length * 6 / 10).ToArray());

        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.Truncated, ex.Error);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);

        // The whole file passes the same check.
        Assert.NotNull(MediaProbe.Probe(clip).Video);
    }

    [Fact]
    public void Refuses_random_bytes_named_mp4()
    {
        var path = Path.Combine(Tools.TempRoot, "random.mp4");
        var bytes = new byte[64 * 1024];
        new Random(42).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.NotMedia, ex.Error);
        Assert.Contains("not a media file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_text_file()
    {
        var path = Path.Combine(Tools.TempRoot, "notes.mp4");
        File.WriteAllText(path, "hello, this is not a video\n");
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.NotMedia, ex.Error);
    }

    [Theory]
    [InlineData("hls")]
    [InlineData("concat")]
    public void Refuses_a_text_file_that_names_other_media_files(string kind)
    {
        // What an upload could be to pull the server's own files (a recording, another upload) into a public video:
        // a playlist or concat list naming them. libavformat reads both (ffprobe shows it); we must not.
        var secret = Tools.Clip("someone-elses.ts", [.. TestSource, "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", "mpegts"]);
        var path = Path.Combine(Tools.TempRoot, $"upload-{kind}.source");
        File.WriteAllText(path, kind == "hls"
            ? $"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n{secret}\n#EXT-X-ENDLIST\n"
            : $"ffconcat version 1.0\nfile '{Path.GetFileName(secret)}'\n");  // concat's safe mode takes names next to the list
        var control = Tools.MustRun("ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", path);
        Assert.Equal(kind, control.StdOut.Trim());

        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.NotMedia, ex.Error);
        Assert.Contains("playlists, concat lists and image sequences are refused", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("still.jpg", "JPEG")]
    [InlineData("still.gif", "GIF")]
    [InlineData("still.png", "PNG")]
    public void Refuses_an_image_saying_images_are_not_videos(string name, string kind)
    {
        var image = Tools.Clip(name, ["-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1"]);
        var path = Path.Combine(Tools.TempRoot, "upload-" + name + ".source");
        File.Copy(image, path, overwrite: true);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.NotMedia, ex.Error);
        Assert.Contains($"is a {kind} image; images are not videos", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("concat", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_codec_without_decoder()
    {
        // An AVI whose video FourCC no decoder knows (XVID patched to ZQZQ).
        var avi = Tools.Clip("xvid.avi", ["-f", "lavfi", "-i", "testsrc2=s=64x48", "-t", "0.2", "-c:v", "mpeg4", "-vtag", "XVID"]);
        var bytes = File.ReadAllBytes(avi);
        for (var i = 0; i + 4 <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, 4).SequenceEqual("XVID"u8) || bytes.AsSpan(i, 4).SequenceEqual("xvid"u8))
            {
                "ZQZQ"u8.CopyTo(bytes.AsSpan(i));
            }
        }

        var path = Path.Combine(Tools.TempRoot, "unknown-fourcc.avi");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.UnsupportedCodec, ex.Error);
        Assert.Contains("not supported", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_file_without_audio_or_video()
    {
        var srt = Path.Combine(Tools.TempRoot, "subs.srt");
        File.WriteAllText(srt, "1\n00:00:00,000 --> 00:00:01,000\nhello\n");
        var clip = Tools.Clip("subs-only.mkv", ["-i", srt, "-c:s", "srt"]);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(clip));
        Assert.Equal(MediaProbeError.NotMedia, ex.Error);
    }

    [Fact]
    public void Refuses_absurd_dimensions()
    {
        // A raw y4m header may claim any size; a 10000-pixel-wide picture is beyond any real upload.
        var path = Path.Combine(Tools.TempRoot, "huge.y4m");
        var header = "YUV4MPEG2 W10000 H16 F25:1 Ip A1:1 C420jpeg\nFRAME\n"u8.ToArray();
        File.WriteAllBytes(path, [.. header, .. new byte[10000 * 16 * 3 / 2]]);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(path));
        Assert.Equal(MediaProbeError.AbsurdDimensions, ex.Error);
        Assert.Contains("10000x16", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(64, 1)]
    public void Refuses_pictures_smaller_than_the_ladder_can_scale(int width, int height)
    {
        // One pixel wide or high: libav describes it, but no rung can be planned from it (LadderPlanner needs 2x2).
        var clip = Tools.Clip($"tiny-{width}x{height}.mkv",
            ["-f", "lavfi", "-i", "color=s=2x64:d=0.2", "-vf", height == 1 ? "format=yuv444p,transpose=1,crop=64:1" : "format=yuv444p,crop=1:64", "-c:v", "ffv1"]);
        var ex = Assert.Throws<MediaProbeException>(() => MediaProbe.Probe(clip));
        Assert.Equal(MediaProbeError.AbsurdDimensions, ex.Error);
        Assert.Contains($"a {width}x{height} picture", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2x2", ex.Message, StringComparison.Ordinal);
    }
}
