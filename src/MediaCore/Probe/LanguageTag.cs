namespace StreamVerse.MediaCore.Probe;

/// <summary>
/// A stream's language as the three forms a presentation needs: the ISO 639-2/T code of the mp4 <c>mdhd</c> box
/// (ISO/IEC 14496-12 §8.4.2.3), the shortest RFC 5646 tag for HLS <c>LANGUAGE</c> (RFC 8216bis §4.4.6.1) and DASH
/// <c>@lang</c> (RFC 5646 §2.2.1: the two-letter ISO 639-1 code where one exists), and a display name.
/// </summary>
/// <param name="Iso639">Three lower-case letters; "und" when the source names no (known) language.</param>
/// <param name="Tag">The RFC 5646 tag: "en", "fr", "und", or the three-letter code when ISO 639-1 has none.</param>
/// <param name="Name">The language's English name ("English"), the tag when not in the table, "Audio" when undetermined.</param>
public sealed record LanguageTag(string Iso639, string Tag, string Name)
{
    public static LanguageTag Undetermined { get; } = new("und", "und", "Audio");

    // (639-2/T, 639-2/B or null, 639-1, English name): the languages of broadcast and film tracks. A code outside
    // it is kept as written when it is well formed (three letters), and named by its code.
    private static readonly (string T, string? B, string One, string Name)[] Known =
    [
        ("ara", null, "ar", "Arabic"), ("bul", null, "bg", "Bulgarian"), ("cat", null, "ca", "Catalan"),
        ("ces", "cze", "cs", "Czech"), ("cym", "wel", "cy", "Welsh"), ("dan", null, "da", "Danish"),
        ("deu", "ger", "de", "German"), ("ell", "gre", "el", "Greek"), ("eng", null, "en", "English"),
        ("est", null, "et", "Estonian"), ("eus", "baq", "eu", "Basque"), ("fas", "per", "fa", "Persian"),
        ("fin", null, "fi", "Finnish"), ("fra", "fre", "fr", "French"), ("gle", null, "ga", "Irish"),
        ("glg", null, "gl", "Galician"), ("heb", null, "he", "Hebrew"), ("hin", null, "hi", "Hindi"),
        ("hrv", null, "hr", "Croatian"), ("hun", null, "hu", "Hungarian"), ("hye", "arm", "hy", "Armenian"),
        ("ind", null, "id", "Indonesian"), ("isl", "ice", "is", "Icelandic"), ("ita", null, "it", "Italian"),
        ("jpn", null, "ja", "Japanese"), ("kat", "geo", "ka", "Georgian"), ("kor", null, "ko", "Korean"),
        ("lav", null, "lv", "Latvian"), ("lit", null, "lt", "Lithuanian"), ("mkd", "mac", "mk", "Macedonian"),
        ("msa", "may", "ms", "Malay"), ("nld", "dut", "nl", "Dutch"), ("nor", null, "no", "Norwegian"),
        ("pol", null, "pl", "Polish"), ("por", null, "pt", "Portuguese"), ("ron", "rum", "ro", "Romanian"),
        ("rus", null, "ru", "Russian"), ("slk", "slo", "sk", "Slovak"), ("slv", null, "sl", "Slovenian"),
        ("spa", null, "es", "Spanish"), ("sqi", "alb", "sq", "Albanian"), ("srp", null, "sr", "Serbian"),
        ("swe", null, "sv", "Swedish"), ("tam", null, "ta", "Tamil"), ("tha", null, "th", "Thai"),
        ("tur", null, "tr", "Turkish"), ("ukr", null, "uk", "Ukrainian"), ("urd", null, "ur", "Urdu"),
        ("vie", null, "vi", "Vietnamese"), ("zho", "chi", "zh", "Chinese"),
    ];

    /// <summary>
    /// Reads a container's language tag: ISO 639-2 (T or B, as mp4 and Matroska write it) or ISO 639-1 ("en", as some
    /// muxers write it), any case, a region subtag ignored ("en-US" is English). Anything else, or none, is "und".
    /// </summary>
    public static LanguageTag From(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            return Undetermined;
        }

        var primary = tag.Trim().Split('-', '_')[0].ToLowerInvariant();
        foreach (var k in Known)
        {
            if (primary == k.T || primary == k.B || primary == k.One)
            {
                return new LanguageTag(k.T, k.One, k.Name);
            }
        }

        // ISO 639-2 reserves qaa-qtz for local use and "mis"/"mul"/"zxx" for special cases: all three letters a-z.
        return primary.Length == 3 && primary is not "und" && primary.All(c => c is >= 'a' and <= 'z')
            ? new LanguageTag(primary, primary, primary)
            : Undetermined;
    }
}
