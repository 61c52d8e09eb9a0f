using System.Globalization;
using System.Text.RegularExpressions;
using StreamVerse.MediaCore.Probe;
using StreamVerse.MediaCore.Tests.Infrastructure;
using StreamVerse.MediaCore.Transcode;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// The output rate of a variable-frame-rate source is its nominal (fastest) rate, capped, not its average: the
/// average dropped the pictures of the fast parts, and the master's FRAME-RATE must be the rate of the stream.
/// </summary>
public sealed partial class FrameRateTests
{
    private static readonly LadderOptions Fast = new() { SegmentDuration = TimeSpan.FromSeconds(1), Preset = "ultrafast", Thumbnails = false };

    private static string NewOutput(string name) => Path.Combine(Tools.TempRoot, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>2 s at 60 fps, 2 s at 15 fps, 2 s at 30 fps in one MP4 (concatenated without re-encoding): 210 pictures
    /// in 6 s, an average of 35 fps, a nominal rate (r_frame_rate) of 60.</summary>
    private static string SixtyFifteenThirty()
    {
        var parts = new[] { 60, 15, 30 }.Select(rate => Tools.Clip($"vfr-part-{rate}.mp4",
            "-f", "lavfi", "-i", $"testsrc2=size=160x120:rate={rate}", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast",
            "-video_track_timescale", "600")).ToList();
        var list = Path.Combine(Tools.TempRoot, "vfr-parts.txt");
        File.WriteAllLines(list, parts.Select(p => $"file '{p}'"));
        return Tools.Clip("vfr-60-15-30.mp4", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy");
    }

    /// <summary>A 30 fps recording that lost 4 pictures of every 30 (timestamps kept: gaps, as phones write them): 26 fps on average.</summary>
    private static string PhoneWithDroppedFrames() => Tools.Clip("phone-dropped.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "6",
        "-vf", @"select='not(between(mod(n\,30)\,10\,13))'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast");

    private static string Probe(string media, string entries) =>
        Tools.MustRun("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0", media).StdOut.Trim();

    /// <summary>The rung as one MP4 (init + segments), so that ffprobe reads the stream as it is, without the HLS demuxer's view of it.</summary>
    private static string Joined(LadderResult result, RungResult rung)
    {
        var playlist = File.ReadAllLines(Path.Combine(result.OutputDirectory, rung.Playlist));
        var init = InitUri().Match(string.Join('\n', playlist)).Groups[1].Value;
        var path = Path.Combine(result.OutputDirectory, rung.Name + "-joined.mp4");
        using var output = File.Create(path);
        foreach (var file in playlist.Where(l => l.Length > 0 && !l.StartsWith('#')).Prepend(init))
        {
            using var input = File.OpenRead(Path.Combine(result.OutputDirectory, file));
            input.CopyTo(output);
        }

        return path;
    }

    private static double Rate(string rational)
    {
        var parts = rational.Split('/');
        return double.Parse(parts[0], CultureInfo.InvariantCulture) / double.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    private static void MasterStatesTheStreamRate(LadderResult result, string joined, double expected)
    {
        var master = File.ReadAllText(Path.Combine(result.OutputDirectory, result.MasterPlaylist));
        var stated = double.Parse(FrameRateAttribute().Match(master).Groups[1].Value, CultureInfo.InvariantCulture);
        var rates = Probe(joined, "stream=r_frame_rate,avg_frame_rate").Split(',');
        Assert.Equal(expected, Rate(rates[0]), 3);
        Assert.Equal(expected, Rate(rates[1]), 3); // constant rate: the average is the nominal rate
        Assert.Equal(Rate(rates[0]), stated, 3);
        var mpd = File.ReadAllText(Path.Combine(result.OutputDirectory, result.DashManifest));
        Assert.Contains($"frameRate=\"{expected.ToString(CultureInfo.InvariantCulture)}\"", mpd, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_60_15_30_fps_source_comes_out_at_60_with_every_picture_of_its_60_fps_part()
    {
        var clip = SixtyFifteenThirty();
        var info = MediaProbe.Probe(clip).Video!;
        Assert.Equal(35, info.FrameRate, 3); // the average the ladder used to take
        Assert.Equal(60, info.NominalFrameRate, 3);

        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("vfr-60"), Fast, null, CancellationToken.None);
        var rung = Assert.Single(result.Rungs);
        Assert.Equal(60, result.FrameRate, 3);
        Assert.Equal(210, result.FramesDecoded);
        Assert.Equal(0, result.FramesDropped);
        Assert.Equal(360, result.FramesOut); // 6 s at 60: the 15 and 30 fps parts repeated, nothing dropped

        var joined = Joined(result, rung);
        MasterStatesTheStreamRate(result, joined, 60);
        Assert.Equal("360", Tools.MustRun("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
            "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", joined).StdOut.Trim());

        // The first 2 s of output are the 120 distinct pictures of the 60 fps part (testsrc2 changes every frame).
        var hashes = Tools.MustRun("ffmpeg", "-v", "error", "-i", joined, "-frames:v", "120", "-f", "framemd5", "-").StdOut
            .Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(',')[^1].Trim()).ToList();
        Assert.Equal(120, hashes.Count);
        Assert.Equal(120, hashes.Distinct().Count());
    }

    [Fact]
    public async Task A_phone_clip_with_dropped_frames_comes_out_at_its_nominal_30()
    {
        var clip = PhoneWithDroppedFrames();
        var info = MediaProbe.Probe(clip).Video!;
        Assert.True(info.FrameRate < 29, $"the fixture should average below 30 fps, not {info.FrameRate}");
        Assert.Equal(30, info.NominalFrameRate, 3);

        var result = await new Transcoder().TranscodeAsync(clip, NewOutput("phone"), Fast, null, CancellationToken.None);
        var rung = Assert.Single(result.Rungs);
        Assert.Equal(30, result.FrameRate, 3);
        Assert.Equal(0, result.FramesDropped);
        Assert.Equal(180, result.FramesOut);
        MasterStatesTheStreamRate(result, Joined(result, rung), 30);
    }

    [Fact]
    public async Task MaxFrameRate_caps_the_nominal_rate()
    {
        var options = new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(1), Preset = "ultrafast", Thumbnails = false, MaxFrameRate = 24 };
        var result = await new Transcoder().TranscodeAsync(SixtyFifteenThirty(), NewOutput("vfr-cap"), options, null, CancellationToken.None);
        var rung = Assert.Single(result.Rungs);
        Assert.Equal(24, result.FrameRate, 3);
        Assert.Equal(144, result.FramesOut);
        MasterStatesTheStreamRate(result, Joined(result, rung), 24);
    }

    [GeneratedRegex("#EXT-X-MAP:URI=\"([^\"]+)\"")]
    private static partial Regex InitUri();

    [GeneratedRegex(@"FRAME-RATE=([0-9.]+)")]
    private static partial Regex FrameRateAttribute();
}
