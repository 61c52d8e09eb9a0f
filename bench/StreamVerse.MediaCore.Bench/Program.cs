using System.Diagnostics;
using System.Globalization;
using StreamVerse.MediaCore.Transcode;

// Small entry for bench/mediacore/run.sh: one ladder run, a summary line per rung on stdout.
// usage: StreamVerse.MediaCore.Bench <input> <outputDir> <preset> <segmentSeconds> <height:bitrate,...> [--no-thumbnails]
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: StreamVerse.MediaCore.Bench <input> <outputDir> <preset> <segmentSeconds> <height:bitrate,...> [--no-thumbnails]");
    return 2;
}

var rungs = args[4].Split(',').Select(r =>
{
    var parts = r.Split(':');
    return new LadderRung(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
}).ToList();
var options = new LadderOptions
{
    Rungs = rungs,
    Preset = args[2],
    SegmentDuration = TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture)),
    Thumbnails = !args.Contains("--no-thumbnails"),
};

var sw = Stopwatch.StartNew();
var result = await new Transcoder().TranscodeAsync(args[0], args[1], options, null, CancellationToken.None);
sw.Stop();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"frames={result.FramesOut} wall_s={sw.Elapsed.TotalSeconds:0.000} fps={result.FramesOut / sw.Elapsed.TotalSeconds:0.0} duration_s={result.Duration.TotalSeconds:0.000}"));
foreach (var r in result.Rungs)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"rung={r.Name} size={r.Width}x{r.Height} playlist={r.Playlist} peak_bps={r.PeakBitrate} avg_bps={r.AverageBitrate}"));
}

return 0;
