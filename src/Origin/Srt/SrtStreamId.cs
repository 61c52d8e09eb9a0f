namespace StreamVerse.Origin.Srt;

/// <summary>What an SRT caller asks for, read from its stream id.</summary>
/// <param name="Resource">The <c>r</c> key (or the whole of a bare stream id): the stream key, optionally <c>APP/KEY</c>. Secret: never logged.</param>
/// <param name="Mode">The <c>m</c> key; <c>request</c> when absent (the spec's default).</param>
/// <param name="User">The <c>u</c> key, if any.</param>
/// <param name="Session">The <c>s</c> key, if any.</param>
internal sealed record SrtStreamId(string Resource, string Mode, string? User, string? Session)
{
    /// <summary>SRT limits SRTO_STREAMID to 512 bytes.</summary>
    public const int MaxLength = 512;

    private const string Prefix = "#!::";

    public bool IsPublish => Mode == "publish";

    /// <summary>Names what was asked without the secret.</summary>
    public override string ToString() => $"m={Mode}";

    /// <summary>
    /// Parses a stream id as the SRT access-control convention defines it (Haivision SRT, docs/features/access-control.md):
    /// <c>#!::</c> followed by comma-separated <c>key=value</c> pairs with the standard keys <c>u</c> (user), <c>r</c>
    /// (resource), <c>h</c> (host), <c>s</c> (session), <c>t</c> (type, <c>stream</c> by default) and <c>m</c> (mode:
    /// <c>request</c> by default, <c>publish</c>, <c>bidirectional</c>); other keys are the application's and are ignored.
    /// A stream id without the prefix is a bare stream key to publish with (what many encoders' single "stream key" field
    /// sends). A key given twice, an empty key or resource, a pair without <c>=</c>, or the reserved nested form
    /// (<c>#!:{...}</c>) is refused.
    /// </summary>
    /// <param name="error">Why the stream id was refused, and the SRT reject reason that goes with it.</param>
    public static bool TryParse(ReadOnlySpan<char> text, out SrtStreamId? id, out (int Reason, string Message) error)
    {
        id = null;
        error = default;
        if (text.Length > MaxLength)
        {
            error = (SrtRejectReasons.BadRequest, "The stream id is longer than 512 bytes.");
            return false;
        }

        if (!text.StartsWith("#!", StringComparison.Ordinal))
        {
            if (text.IsEmpty || text.ContainsAny(" \t\r\n,"))
            {
                error = (SrtRejectReasons.BadRequest, "The stream id names no stream key.");
                return false;
            }

            id = new SrtStreamId(text.ToString(), "publish", null, null);
            return true;
        }

        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = (SrtRejectReasons.BadRequest, "Unsupported stream id syntax (expected #!::key=value,...).");
            return false;
        }

        string? resource = null, mode = null, user = null, session = null, type = null, host = null;
        foreach (var range in text[Prefix.Length..].Split(','))
        {
            var pair = text[Prefix.Length..][range];
            var eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                error = (SrtRejectReasons.BadRequest, "A stream id pair without key=value.");
                return false;
            }

            var key = pair[..eq];
            var value = pair[(eq + 1)..].ToString();
            var fresh = key switch
            {
                "r" => Set(ref resource, value),
                "m" => Set(ref mode, value),
                "u" => Set(ref user, value),
                "s" => Set(ref session, value),
                "t" => Set(ref type, value),
                "h" => Set(ref host, value),
                _ => true, // an application's own key
            };
            if (!fresh)
            {
                error = (SrtRejectReasons.BadRequest, $"The stream id gives '{key}' twice.");
                return false;
            }
        }

        if (type is not null and not "stream")
        {
            error = (SrtRejectReasons.NotSupportedMedia, "Only t=stream is served.");
            return false;
        }

        mode ??= "request";
        if (mode is not "publish")
        {
            error = (SrtRejectReasons.BadMode, mode is "request" or "bidirectional"
                ? $"m={mode} is not served here: this is an ingest; publish with m=publish and play over HLS/DASH."
                : "Unknown m= mode.");
            return false;
        }

        if (string.IsNullOrEmpty(resource))
        {
            error = (SrtRejectReasons.BadRequest, "The stream id has no r= (the stream key).");
            return false;
        }

        id = new SrtStreamId(resource, mode, user, session);
        return true;

        static bool Set(ref string? slot, string value)
        {
            if (slot is not null)
            {
                return false;
            }

            slot = value;
            return true;
        }
    }
}

/// <summary>SRT reject reasons this ingest sends (access_control.h, <c>SRT_REJX_*</c>: the HTTP status plus 1000).</summary>
internal static class SrtRejectReasons
{
    public const int Fallback = 1000;
    public const int BadRequest = 1400;
    public const int Unauthorized = 1401;
    public const int Overload = 1402;
    public const int Forbidden = 1403;
    public const int BadMode = 1405;
    public const int NotSupportedMedia = 1415;
    public const int InternalError = 1500;
}
