using System.ComponentModel.DataAnnotations;
using System.Globalization;
using StreamVerse.MediaCore.Transcode;

namespace StreamVerse.Origin.Live;

/// <summary>
/// Config section <c>StreamVerse:Live:Transcode</c>: whether a published stream is passed through as it comes
/// (one rendition, no CPU) or transcoded in-process into a live ladder, and with which rungs.
/// </summary>
internal sealed class LiveTranscodeOptions : IValidatableObject
{
    public const string Section = "StreamVerse:Live:Transcode";

    public const string Passthrough = "passthrough";

    public const string Ladder = "ladder";

    /// <summary>Default rungs: Apple-like (HLS authoring spec) 720p 3 Mbit/s down to 240p 300 kbit/s.</summary>
    public static readonly IReadOnlyList<string> DefaultRungs = ["720/3000k", "480/1400k", "360/730k", "240/300k"];

    private static readonly string[] Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"];

    /// <summary><c>passthrough</c> (default) or <c>ladder</c>, for every stream without its own <see cref="Streams"/> entry.</summary>
    public string Mode { get; set; } = Passthrough;

    /// <summary><c>HEIGHT/BITRATE</c> (bitrate in bit/s, or with a k/M suffix); null = <see cref="DefaultRungs"/>.</summary>
    public List<string>? Rungs { get; set; }

    /// <summary>The source, passed through, is the top rendition (else it is packaged but not listed).</summary>
    public bool IncludeSource { get; set; } = true;

    /// <summary>libx264 preset of the rungs.</summary>
    public string Preset { get; set; } = "veryfast";

    /// <summary>Video frames queued for a ladder's transcoder before it drops the rest of a GOP (a slow transcoder never stalls ingest).</summary>
    [Range(8, 3000)]
    public int QueueFrames { get; set; } = 120;

    /// <summary>Bytes of compressed video queued for a ladder's transcoder before it drops the rest of a GOP: whichever of this
    /// and <see cref="QueueFrames"/> is reached first (a publisher of huge frames cannot make a stream hold more memory than this).</summary>
    [Range(1024 * 1024, 1024 * 1024 * 1024)]
    public int QueueBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Per stream name (a <c>--stream</c> name, or a control-plane video id): <c>Mode</c>, <c>Rungs</c>, <c>IncludeSource</c>.</summary>
    public Dictionary<string, LiveStreamTranscodeOptions> Streams { get; set; } = new(StringComparer.Ordinal);

    /// <summary>What a publish of <paramref name="streamName"/> gets: null for passthrough.</summary>
    public LadderPlan? PlanFor(string streamName)
    {
        Streams.TryGetValue(streamName, out var own);
        var mode = own?.Mode ?? Mode;
        if (!string.Equals(mode, Ladder, StringComparison.Ordinal))
        {
            return null;
        }

        var rungs = (own?.Rungs ?? Rungs ?? DefaultRungs).Select(r => TryParseRung(r, out var rung) ? rung : throw new InvalidOperationException("validated at start")).ToList();
        return new LadderPlan(rungs, own?.IncludeSource ?? IncludeSource, Preset, QueueFrames, QueueBytes);
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var error in ValidateMode(Mode, $"{Section}:{nameof(Mode)}"))
        {
            yield return error;
        }

        foreach (var error in ValidateRungs(Rungs, $"{Section}:{nameof(Rungs)}"))
        {
            yield return error;
        }

        if (!Presets.Contains(Preset, StringComparer.Ordinal))
        {
            yield return new ValidationResult($"{Section}:{nameof(Preset)} must be one of {string.Join(", ", Presets)} (was '{Preset}').", [nameof(Preset)]);
        }

        foreach (var (name, own) in Streams)
        {
            var prefix = $"{Section}:{nameof(Streams)}:{name}";
            if (own.Mode is not null)
            {
                foreach (var error in ValidateMode(own.Mode, prefix + ":Mode"))
                {
                    yield return error;
                }
            }

            foreach (var error in ValidateRungs(own.Rungs, prefix + ":Rungs"))
            {
                yield return error;
            }
        }
    }

    private static IEnumerable<ValidationResult> ValidateMode(string mode, string key)
    {
        if (mode is not (Passthrough or Ladder))
        {
            yield return new ValidationResult($"{key} must be '{Passthrough}' or '{Ladder}' (was '{mode}').", [key]);
        }
    }

    private static IEnumerable<ValidationResult> ValidateRungs(List<string>? rungs, string key)
    {
        if (rungs is null)
        {
            yield break;
        }

        if (rungs.Count == 0)
        {
            yield return new ValidationResult($"{key} needs at least one rung (HEIGHT/BITRATE, e.g. 360/730k).", [key]);
        }

        var heights = new HashSet<int>();
        for (var i = 0; i < rungs.Count; i++)
        {
            if (!TryParseRung(rungs[i], out var rung))
            {
                yield return new ValidationResult($"{key}:{i} must be HEIGHT/BITRATE with an even height of 16-4320 and a bitrate of 32k-100M, e.g. 360/730k (was '{rungs[i]}').", [key]);
            }
            else if (!heights.Add(rung.Height))
            {
                yield return new ValidationResult($"{key}:{i}: height {rung.Height} appears twice.", [key]);
            }
        }
    }

    /// <summary>Parses <c>HEIGHT/BITRATE</c>: <c>360/730k</c>, <c>1080/5M</c>, <c>240/300000</c>.</summary>
    internal static bool TryParseRung(string? text, out LadderRung rung)
    {
        rung = null!;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash <= 0)
        {
            return false;
        }

        var rate = text.AsSpan(slash + 1).Trim();
        long multiplier = 1;
        if (rate.EndsWith("k") || rate.EndsWith("K"))
        {
            multiplier = 1000;
            rate = rate[..^1];
        }
        else if (rate.EndsWith("M"))
        {
            multiplier = 1_000_000;
            rate = rate[..^1];
        }

        if (!int.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var height)
            || !long.TryParse(rate, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        var bitrate = value * multiplier;
        if (height is < 16 or > 4320 || height % 2 != 0 || bitrate is < 32_000 or > 100_000_000)
        {
            return false;
        }

        rung = new LadderRung(height, (int)bitrate);
        return true;
    }
}

/// <summary><c>StreamVerse:Live:Transcode:Streams:{name}</c>: unset keys fall back to the section's.</summary>
internal sealed class LiveStreamTranscodeOptions
{
    public string? Mode { get; set; }

    public List<string>? Rungs { get; set; }

    public bool? IncludeSource { get; set; }
}

/// <summary>A stream's ladder as resolved from the options.</summary>
internal sealed record LadderPlan(IReadOnlyList<LadderRung> Rungs, bool IncludeSource, string Preset, int QueueFrames, int QueueBytes);
