using Microsoft.Extensions.Options;

namespace StreamVerse.Segmenter.Live;

/// <summary>Config section <c>StreamVerse:Live</c>: how live sessions treat their publishers.</summary>
public sealed class LiveOptions
{
    public const string Section = "StreamVerse:Live";

    /// <summary>
    /// Seconds a session stays live after its publisher's connection drops (without an unpublish): a republish with the
    /// same key within it continues the session after a discontinuity. 0: the session ends when the publisher leaves.
    /// </summary>
    public int ReconnectWindowSeconds { get; set; } = 10;

    public TimeSpan ReconnectWindow => TimeSpan.FromSeconds(ReconnectWindowSeconds);
}

internal sealed class LiveOptionsValidator : IValidateOptions<LiveOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveOptions options) =>
        options.ReconnectWindowSeconds is < 0 or > 300
            ? ValidateOptionsResult.Fail($"{LiveOptions.Section}:{nameof(LiveOptions.ReconnectWindowSeconds)} must be 0 (off) to 300 seconds.")
            : ValidateOptionsResult.Success;
}
