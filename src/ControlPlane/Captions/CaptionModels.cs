using System.Text.RegularExpressions;

namespace StreamVerse.ControlPlane.Captions;

/// <summary>Where a caption came from: uploaded by the creator, or a text subtitle track of the uploaded source.</summary>
internal static class CaptionSource
{
    public const string Upload = "upload";
    public const string Source = "source";
}

/// <summary>One caption track of a video, as the video resource lists it.</summary>
/// <param name="Language">BCP 47 tag (RFC 5646), in its canonical case (<c>en</c>, <c>pt-BR</c>, <c>zh-Hant</c>).</param>
/// <param name="Label">What players show in their caption menu.</param>
/// <param name="Source"><c>upload</c> (PUT by the creator) or <c>source</c> (a text subtitle track of the uploaded file).</param>
/// <param name="Url">The WebVTT file: <c>/vod/{id}/captions/{file}.vtt</c>, under the video's playback token when it needs one.
/// Its name changes with every upload, so it can be cached for as long as the video's media.</param>
internal sealed record CaptionInfo(string Language, string Label, string Source, string Url);

/// <summary>A stored caption track: what the control plane keeps per (video, language).</summary>
internal sealed record CaptionRow(string VideoId, string Language, string Label, string Source, string BlobKey)
{
    /// <summary>The WebVTT file's name, the last segment of its blob key (<c>{language}-{revision}.vtt</c>).</summary>
    public string File => BlobKey[(BlobKey.LastIndexOf('/') + 1)..];

    public CaptionInfo ToInfo() => new(Language, Label, Source, $"/vod/{VideoId}/{CaptionFiles.Folder}/{File}");
}

/// <summary>Where caption files live: next to the video's presentations, in a folder of their own that survives a
/// re-transcode (<c>vod/{id}/captions/{language}-{revision}.vtt</c>) and goes with the video's media.</summary>
internal static class CaptionFiles
{
    public const string Folder = "captions";

    public static string Key(string videoId, string language, string revision) => $"vod/{videoId}/{Folder}/{language}-{revision}.vtt";
}

/// <summary>Caption language tags: the shape of an RFC 5646 §2.1 langtag, without extensions and private use.</summary>
internal static partial class CaptionLanguage
{
    public const int MaxLength = 35;

    /// <summary>language (2-3 letters, or 4-8 registered), optional script (4 letters), optional region (2 letters or 3
    /// digits), variants (5-8 alphanumerics, or a digit and 3 alphanumerics).</summary>
    [GeneratedRegex("^([A-Za-z]{2,3}|[A-Za-z]{5,8})(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();

    /// <summary>The tag in its canonical case (RFC 5646 §2.1.1: language lower, script title, region upper), or null.</summary>
    public static string? Canonical(string? tag)
    {
        if (tag is null || tag.Length > MaxLength || !Shape().IsMatch(tag))
        {
            return null;
        }

        var parts = tag.Split('-');
        for (var i = 0; i < parts.Length; i++)
        {
            var p = parts[i];
            parts[i] = i == 0 ? p.ToLowerInvariant()
                : p.Length == 4 && char.IsAsciiLetter(p[0]) && i == 1 ? char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()
                : p.Length == 2 ? p.ToUpperInvariant()
                : p.ToLowerInvariant();
        }

        return string.Join('-', parts);
    }
}

/// <summary>Caption labels: shown in players' menus and written into quoted manifest attributes.</summary>
internal static class CaptionLabel
{
    public const int MaxLength = 100;

    /// <summary>The trimmed label, or null with <paramref name="error"/> set. RFC 8216bis §4.2: a quoted-string holds no
    /// double quote, CR or LF; no control character at all is allowed.</summary>
    public static string? Validate(string label, out string? error)
    {
        label = label.Trim();
        error = label.Length == 0 ? "must not be empty"
            : label.Length > MaxLength ? $"must be at most {MaxLength} characters"
            : label.AsSpan().IndexOfAny('"', '\\') >= 0 || label.Any(char.IsControl) ? "must not contain quotes, backslashes or control characters"
            : null;
        return error is null ? label : null;
    }
}
