using System.Globalization;

namespace StreamVerse.Origin.Rtmp;

/// <summary>What a creator should change, read from a publish's health against the segmenter's target duration.</summary>
internal static class StreamHealthWarnings
{
    /// <summary>Keyframe intervals within this of a divisor of the target count as fitting (RTMP timestamps are milliseconds).</summary>
    private const double Tolerance = 0.02;

    /// <summary>A drift beyond this is audible as lip-sync error.</summary>
    private const double DriftMilliseconds = 200;

    public static List<string> Of(in IngestHealthSnapshot health, TimeSpan targetDuration)
    {
        var warnings = new List<string>();
        var target = targetDuration.TotalSeconds;
        if (health.VideoFrames > 0 && health.KeyframeIntervalSeconds is null && health.Uptime > 2 * targetDuration)
        {
            warnings.Add(Format($"Only one keyframe in {health.Uptime.TotalSeconds:0.#} s: segments are cut at keyframes, so set the encoder's keyframe interval to {target:0.###} s."));
        }

        // Segments start on keyframes (RFC 8216bis §6.2.1 independent segments), so a segment is a whole number of GOPs:
        // the interval must divide the target duration, or segments come out longer or uneven.
        var interval = health.MaxKeyframeIntervalSeconds ?? health.KeyframeIntervalSeconds;
        if (interval is { } gop)
        {
            if (gop > target * (1 + Tolerance))
            {
                warnings.Add(Format($"Keyframe interval {gop:0.###} s is longer than the segment target duration {target:0.###} s: segments will be {gop:0.###} s long and latency grows; set the keyframe interval to {target:0.###} s."));
            }
            else if (Math.Abs((target / gop) - Math.Round(target / gop)) > Tolerance * Math.Round(target / gop))
            {
                warnings.Add(Format($"Keyframe interval {gop:0.###} s does not divide the segment target duration {target:0.###} s: segments will vary in length; use {target:0.###} s or an even divisor of it."));
            }
        }

        if (health.AvDriftMilliseconds is { } drift && Math.Abs(drift) > DriftMilliseconds)
        {
            warnings.Add(Format($"Audio and video timestamps drift apart by {drift:0} ms."));
        }

        if (health.DroppedFrames > 0)
        {
            warnings.Add(Format($"{health.DroppedFrames} frames were dropped by the ingest (sent before their track's configuration)."));
        }

        return warnings;
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
