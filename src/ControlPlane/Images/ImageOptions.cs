using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Images;

/// <summary>
/// Config section <c>StreamVerse:ControlPlane:Images</c>: uploaded pictures (account and channel avatars, channel
/// banners, custom video thumbnails). The byte cap of account and channel avatars is <c>AvatarMaxBytes</c>.
/// </summary>
internal sealed class ImageOptions
{
    public const string Section = "StreamVerse:ControlPlane:Images";

    /// <summary>Largest picture accepted, in pixels per side (decoding costs width x height x 4 bytes).</summary>
    public int MaxSourceWidth { get; set; } = 4096;

    public int MaxSourceHeight { get; set; } = 4096;

    /// <summary>Largest channel banner upload in bytes.</summary>
    public int BannerMaxBytes { get; set; } = 6 * 1024 * 1024;

    /// <summary>Largest custom thumbnail upload in bytes.</summary>
    public int ThumbnailMaxBytes { get; set; } = 4 * 1024 * 1024;

    public ImageBox Avatar => new(512, 512, MaxSourceWidth, MaxSourceHeight);

    public ImageBox Banner => new(2560, 1440, MaxSourceWidth, MaxSourceHeight);

    /// <summary>The poster's size (the transcoder's poster is at most 1280 pixels wide).</summary>
    public ImageBox Thumbnail => new(1280, 1280, MaxSourceWidth, MaxSourceHeight);
}

internal sealed class ImageOptionsValidator : IValidateOptions<ImageOptions>
{
    public ValidateOptionsResult Validate(string? name, ImageOptions options)
    {
        var errors = new List<string>();
        if (options.MaxSourceWidth is < 16 or > 16384)
        {
            errors.Add($"{ImageOptions.Section}:MaxSourceWidth must be between 16 and 16384");
        }

        if (options.MaxSourceHeight is < 16 or > 16384)
        {
            errors.Add($"{ImageOptions.Section}:MaxSourceHeight must be between 16 and 16384");
        }

        if (options.BannerMaxBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add($"{ImageOptions.Section}:BannerMaxBytes must be between 1024 and 67108864");
        }

        if (options.ThumbnailMaxBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add($"{ImageOptions.Section}:ThumbnailMaxBytes must be between 1024 and 67108864");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
