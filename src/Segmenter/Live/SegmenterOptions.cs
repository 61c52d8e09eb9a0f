using System.ComponentModel.DataAnnotations;

namespace StreamVerse.Segmenter.Live;

/// <summary>Config section <c>StreamVerse:Segmenter</c>.</summary>
public sealed class SegmenterOptions : IValidatableObject
{
    public const string Section = "StreamVerse:Segmenter";

    /// <summary>Segments start on keyframes and aim at this duration (HLS target duration is derived from the longest).</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00")]
    public TimeSpan TargetDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>LL-HLS part target (EXT-X-PART-INF:PART-TARGET). Frozen per stream after the first segment.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:05")]
    public TimeSpan PartTarget { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Segments listed in a live media playlist (the sliding window).</summary>
    [Range(3, 1000)]
    public int WindowSegments { get; set; } = 8;

    /// <summary>How long an ended stream's recording stays playable as VOD before it is deleted.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan RecordingRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Root of recordings: <c>{RecordingsPath}/{name}/{sessionId}/...</c>. The host sets <c>{--data}/live</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string RecordingsPath { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PartTarget >= TargetDuration)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(PartTarget)} must be shorter than {Section}:{nameof(TargetDuration)}.",
                [nameof(PartTarget)]);
        }

        if (!string.IsNullOrWhiteSpace(RecordingsPath) && RecordingsPath.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            yield return new ValidationResult($"{Section}:{nameof(RecordingsPath)} is not a valid path.", [nameof(RecordingsPath)]);
        }
    }
}
