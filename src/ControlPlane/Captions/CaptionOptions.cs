using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Captions;

/// <summary><c>StreamVerse:ControlPlane:Captions</c>.</summary>
internal sealed class CaptionOptions
{
    public const string Section = "StreamVerse:ControlPlane:Captions";

    /// <summary>Largest caption file accepted, in bytes (default 1 MiB: a feature film's subtitles are about 100 KiB).</summary>
    public int MaxBytes { get; set; } = 1024 * 1024;

    /// <summary>Most caption tracks per video (default 50).</summary>
    public int MaxPerVideo { get; set; } = 50;
}

internal sealed class CaptionOptionsValidator : IValidateOptions<CaptionOptions>
{
    public ValidateOptionsResult Validate(string? name, CaptionOptions o)
    {
        const string S = CaptionOptions.Section + ":";
        var errors = new List<string>();
        if (o.MaxBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add(S + "MaxBytes must be between 1024 and 67108864");
        }

        if (o.MaxPerVideo is < 1 or > 1000)
        {
            errors.Add(S + "MaxPerVideo must be between 1 and 1000");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
