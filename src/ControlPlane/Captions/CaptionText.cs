using System.Globalization;
using System.Text;

namespace StreamVerse.ControlPlane.Captions;

/// <summary>A caption file read and rewritten as WebVTT: the text to store and how many cues it has.</summary>
internal sealed record CaptionDocument(string WebVtt, int Cues);

/// <summary>
/// Reads an uploaded caption file, WebVTT (W3C WebVTT §4) or SubRip, and writes it back as WebVTT: strict UTF-8
/// (a byte-order mark is dropped), every cue timing checked (<c>[hh:]mm:ss.ttt --&gt; [hh:]mm:ss.ttt</c>, minutes and
/// seconds below 60, the end after the start; SubRip writes a comma before the milliseconds). What is wrong is reported
/// with its line number, so a creator can fix the file. Untrusted input: the caller caps its size before this reads it,
/// and nothing here is recursive or buffers more than the output.
/// </summary>
internal static class CaptionText
{
    private const string Arrow = "-->";

    /// <summary>Parses <paramref name="bytes"/>; on failure returns null and says why in <paramref name="error"/>.</summary>
    public static CaptionDocument? Parse(ReadOnlySpan<byte> bytes, out string? error)
    {
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"is not UTF-8 (invalid byte at offset {e.Index})");
            return null;
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            error = "contains a NUL character";
            return null;
        }

        // WebVTT §4.1: lines end with CRLF, LF or CR.
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        return IsWebVtt(lines[0]) ? ParseWebVtt(lines, out error) : ParseSubRip(lines, out error);
    }

    /// <summary>WebVTT §4.1: "WEBVTT" alone, or followed by a space or tab and anything.</summary>
    private static bool IsWebVtt(string first) =>
        first.StartsWith("WEBVTT", StringComparison.Ordinal) && (first.Length == 6 || first[6] is ' ' or '\t');

    private static CaptionDocument? ParseWebVtt(string[] lines, out string? error)
    {
        var output = new StringBuilder("WEBVTT\n");
        var cues = 0;
        var i = 1;

        // The header's other lines (up to the first blank line) are not kept: metadata headers are obsolete.
        while (i < lines.Length && lines[i].Length > 0)
        {
            if (lines[i].Contains(Arrow, StringComparison.Ordinal))
            {
                error = Line(i, "a cue must follow a blank line after the WEBVTT header");
                return null;
            }

            i++;
        }

        while (true)
        {
            while (i < lines.Length && lines[i].Length == 0)
            {
                i++;
            }

            if (i >= lines.Length)
            {
                break;
            }

            // A block: up to the next blank line. NOTE, STYLE and REGION blocks are copied as they are (§4.1); a cue
            // has an optional identifier line and then its timing line.
            var start = i;
            var end = i;
            while (end < lines.Length && lines[end].Length > 0)
            {
                end++;
            }

            var first = lines[start];
            if (cues == 0 && (first.StartsWith("STYLE", StringComparison.Ordinal) || first.StartsWith("REGION", StringComparison.Ordinal))
                || first.StartsWith("NOTE", StringComparison.Ordinal) && (first.Length == 4 || first[4] is ' ' or '\t'))
            {
                if (Array.FindIndex(lines, start, end - start, l => l.Contains(Arrow, StringComparison.Ordinal)) >= 0)
                {
                    error = Line(start, "a NOTE, STYLE or REGION block must not contain \"-->\"");
                    return null;
                }

                AppendBlock(output, lines, start, end);
                i = end;
                continue;
            }

            var timing = first.Contains(Arrow, StringComparison.Ordinal) ? start : start + 1;
            if (timing >= end || !lines[timing].Contains(Arrow, StringComparison.Ordinal))
            {
                error = Line(start, "expected a cue timing line \"00:00:01.000 --> 00:00:04.000\"");
                return null;
            }

            if (!TryTiming(lines[timing], commaMillis: false, out var from, out var to, out var settings, out var why))
            {
                error = Line(timing, why!);
                return null;
            }

            output.Append('\n');
            if (timing > start)
            {
                output.Append(lines[start]).Append('\n');
            }

            AppendTiming(output, from, to, settings);
            for (var k = timing + 1; k < end; k++)
            {
                if (lines[k].Contains(Arrow, StringComparison.Ordinal))
                {
                    error = Line(k, "cue text must not contain \"-->\" (is a blank line missing before this cue?)");
                    return null;
                }

                output.Append(lines[k]).Append('\n');
            }

            cues++;
            i = end;
        }

        return Done(output, cues, out error);
    }

    private static CaptionDocument? ParseSubRip(string[] lines, out string? error)
    {
        var output = new StringBuilder("WEBVTT\n");
        var cues = 0;
        var i = 0;
        while (true)
        {
            while (i < lines.Length && lines[i].Trim().Length == 0)
            {
                i++;
            }

            if (i >= lines.Length)
            {
                break;
            }

            // counter, timing, text lines up to a blank line. Some files leave the counter out; the timing line then comes first.
            var timing = lines[i].Contains(Arrow, StringComparison.Ordinal) ? i : i + 1;
            if (timing == i + 1 && !long.TryParse(lines[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                error = cues == 0
                    ? Line(i, "is neither WebVTT (the first line must be \"WEBVTT\") nor SubRip (a cue number, then a timing line)")
                    : Line(i, "expected a cue number or a timing line \"00:00:01,000 --> 00:00:04,000\"");
                return null;
            }

            if (timing >= lines.Length || !lines[timing].Contains(Arrow, StringComparison.Ordinal))
            {
                error = Line(Math.Min(timing, lines.Length - 1), "expected a cue timing line \"00:00:01,000 --> 00:00:04,000\"");
                return null;
            }

            // SubRip's position suffix (X1:.. Y1:..) has no WebVTT equivalent: dropped.
            if (!TryTiming(lines[timing], commaMillis: true, out var from, out var to, out _, out var why))
            {
                error = Line(timing, why!);
                return null;
            }

            output.Append('\n');
            AppendTiming(output, from, to, settings: null);
            var k = timing + 1;
            for (; k < lines.Length && lines[k].Trim().Length > 0; k++)
            {
                // A line that was only an ASS override or an unknown tag ({\an8}, <font ...>) becomes nothing: written as an
                // empty line it would end the WebVTT cue there, and the rest would be read as a block of its own.
                if (SubRipLine(lines[k]) is { Length: > 0 } text)
                {
                    output.Append(text).Append('\n');
                }
            }

            cues++;
            i = k;
        }

        return Done(output, cues, out error);
    }

    private static CaptionDocument? Done(StringBuilder output, int cues, out string? error)
    {
        if (cues == 0)
        {
            error = "has no cues";
            return null;
        }

        error = null;
        return new CaptionDocument(output.ToString(), cues);
    }

    /// <summary>
    /// <c>start --&gt; end [settings]</c>; WebVTT §4.1 timestamps (<c>[h+:]mm:ss.ttt</c>); SubRip's comma is accepted
    /// when <paramref name="commaMillis"/>. The end must be after the start.
    /// </summary>
    private static bool TryTiming(string line, bool commaMillis, out long from, out long to, out string? settings, out string? why)
    {
        (from, to, settings, why) = (0, 0, null, null);
        var arrow = line.IndexOf(Arrow, StringComparison.Ordinal);
        var left = line[..arrow].Trim(' ', '\t');
        var right = line[(arrow + Arrow.Length)..].TrimStart(' ', '\t');
        var space = right.IndexOfAny([' ', '\t']);
        if (space >= 0)
        {
            settings = right[(space + 1)..].Trim(' ', '\t');
            right = right[..space];
        }

        if (!TryTimestamp(left, commaMillis, out from))
        {
            why = $"\"{Shorten(left)}\" is not a cue start time (hh:mm:ss.ttt, minutes and seconds below 60)";
            return false;
        }

        if (!TryTimestamp(right, commaMillis, out to))
        {
            why = $"\"{Shorten(right)}\" is not a cue end time (hh:mm:ss.ttt, minutes and seconds below 60)";
            return false;
        }

        if (to <= from)
        {
            why = "the cue ends before it starts";
            return false;
        }

        if (settings is not null && settings.Contains(Arrow, StringComparison.Ordinal))
        {
            why = "more than one \"-->\" on the timing line";
            return false;
        }

        return true;
    }

    /// <summary>WebVTT §4.1 "WebVTT timestamp", in milliseconds.</summary>
    internal static bool TryTimestamp(string s, bool commaMillis, out long milliseconds)
    {
        milliseconds = 0;
        var parts = s.Split(':');
        if (parts.Length is < 2 or > 3)
        {
            return false;
        }

        long hours = 0;
        if (parts.Length == 3 && (parts[0].Length < 2 || parts[0].Length > 6 || !AllDigits(parts[0]) || !long.TryParse(parts[0], CultureInfo.InvariantCulture, out hours)))
        {
            return false;
        }

        var minutes = parts[^2];
        var last = parts[^1];
        if (minutes.Length != 2 || !AllDigits(minutes) || last.Length != 6 || !(last[2] == '.' || (commaMillis && last[2] == ',')))
        {
            return false;
        }

        var seconds = last[..2];
        var millis = last[3..];
        if (!AllDigits(seconds) || !AllDigits(millis))
        {
            return false;
        }

        var m = int.Parse(minutes, CultureInfo.InvariantCulture);
        var sec = int.Parse(seconds, CultureInfo.InvariantCulture);
        if (m > 59 || sec > 59)
        {
            return false;
        }

        milliseconds = (((hours * 60) + m) * 60 + sec) * 1000 + int.Parse(millis, CultureInfo.InvariantCulture);
        return true;
    }

    private static bool AllDigits(string s) => s.Length > 0 && !s.AsSpan().ContainsAnyExceptInRange('0', '9');

    private static void AppendTiming(StringBuilder sb, long from, long to, string? settings)
    {
        AppendTimestamp(sb, from);
        sb.Append(" --> ");
        AppendTimestamp(sb, to);
        if (!string.IsNullOrEmpty(settings))
        {
            sb.Append(' ').Append(settings);
        }

        sb.Append('\n');
    }

    internal static void AppendTimestamp(StringBuilder sb, long ms) =>
        sb.Append(CultureInfo.InvariantCulture, $"{ms / 3_600_000:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00}.{ms % 1000:000}");

    private static void AppendBlock(StringBuilder sb, string[] lines, int start, int end)
    {
        sb.Append('\n');
        for (var k = start; k < end; k++)
        {
            sb.Append(lines[k]).Append('\n');
        }
    }

    /// <summary>
    /// A SubRip text line as WebVTT cue text (§4.2.2): the tags both share (<c>&lt;i&gt;</c>, <c>&lt;b&gt;</c>,
    /// <c>&lt;u&gt;</c>) kept, other tags (<c>&lt;font&gt;</c>) and ASS overrides (<c>{\an8}</c>) dropped, and a bare
    /// <c>&amp;</c>, <c>&lt;</c> or <c>&gt;</c> escaped, since WebVTT reads them as markup.
    /// </summary>
    internal static string SubRipLine(string line)
    {
        var sb = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '{' && i + 1 < line.Length && line[i + 1] == '\\' && line.IndexOf('}', i) is var close and > 0)
            {
                i = close;
                continue;
            }

            if (c == '<' && line.IndexOf('>', i) is var gt and > 0)
            {
                var tag = line.AsSpan(i + 1, gt - i - 1).Trim();
                var name = tag.TrimStart('/');
                if (name.Length == 1 && (name[0] | 0x20) is 'i' or 'b' or 'u')
                {
                    sb.Append('<').Append(tag[0] == '/' ? "/" : "").Append((char)(name[0] | 0x20)).Append('>');
                    i = gt;
                    continue;
                }

                if (name.Length > 0 && char.IsAsciiLetter(name[0]))
                {
                    i = gt; // <font color=...>, </font>, ...
                    continue;
                }
            }

            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    private static string Line(int index, string message) => string.Create(CultureInfo.InvariantCulture, $"line {index + 1}: {message}");

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
