using System.Text;
using StreamVerse.Segmenter.Dash;
using StreamVerse.Segmenter.Hls;

namespace StreamVerse.Origin.Vod;

/// <summary>
/// Points a presentation's entry manifests at its version folder, so <c>/vod/{id}/index.*</c> (short-lived: the
/// version can change) lead to <c>/vod/{id}/{version}/...</c> (immutable), and no cache ever mixes the media
/// playlists or segments of two versions (their file names repeat between versions).
/// </summary>
internal static class VodManifests
{
    /// <summary>
    /// HLS master: every URI line (RFC 8216bis §4.1) and every <c>URI="..."</c> attribute (EXT-X-MEDIA,
    /// EXT-X-I-FRAME-STREAM-INF, EXT-X-SESSION-DATA) that is relative gets <c>{version}/</c> in front. The media
    /// playlists need no change: their own URIs are relative to them, hence already inside the version folder.
    /// </summary>
    public static string RewriteMaster(string text, string version)
    {
        var sb = new StringBuilder(text.Length + 256);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                sb.Append('\n');
                continue;
            }

            if (line[0] != '#')
            {
                sb.Append(IsRelative(line) ? version + "/" + line : line).Append('\n');
                continue;
            }

            const string Attribute = "URI=\"";
            var at = 0;
            while (true)
            {
                var found = line.IndexOf(Attribute, at, StringComparison.Ordinal);
                // An attribute name starts the list or follows a comma (RFC 8216bis §4.2): not e.g. "XURI=".
                if (found < 0)
                {
                    sb.Append(line, at, line.Length - at);
                    break;
                }

                var valueStart = found + Attribute.Length;
                var end = line.IndexOf('"', valueStart);
                var standalone = found == 0 || line[found - 1] is ',' or ':';
                sb.Append(line, at, valueStart - at);
                if (end < 0)
                {
                    sb.Append(line, valueStart, line.Length - valueStart);
                    break;
                }

                var uri = line.AsSpan(valueStart, end - valueStart);
                if (standalone && IsRelative(uri))
                {
                    sb.Append(version).Append('/');
                }

                sb.Append(uri).Append('"');
                at = end + 1;
            }

            sb.Append('\n');
        }

        // Every piece got a '\n'; the last piece had none in the text (empty after a final newline, or unterminated).
        sb.Length--;
        return sb.ToString();
    }

    /// <summary>
    /// DASH: an MPD-level <c>&lt;BaseURL&gt;{version}/&lt;/BaseURL&gt;</c> (ISO/IEC 23009-1 §5.6): every relative
    /// SegmentTemplate/BaseURL below it resolves inside the version folder, relative to the MPD's own URL, so the same
    /// document works under <c>/vod/{id}/</c> and <c>/vod/t/{token}/{id}/</c>. Placed first among the MPD's children, as
    /// the schema orders BaseURL before Period (ProgramInformation, if present, may come first; players accept either).
    /// </summary>
    public static string RewriteMpd(string text, string version)
    {
        var mpd = text.IndexOf("<MPD", StringComparison.Ordinal);
        var close = mpd < 0 ? -1 : text.IndexOf('>', mpd);
        if (close < 0)
        {
            throw new FormatException("not an MPD: no <MPD> element");
        }

        return text[..(close + 1)] + "\n  <BaseURL>" + version + "/</BaseURL>" + text[(close + 1)..];
    }

    /// <summary>The GROUP-ID of the caption renditions the entry playlist adds.</summary>
    internal const string SubtitleGroup = "subs";

    /// <summary>The folder of caption files beside the versions: <c>/vod/{id}/captions/{file}</c>.</summary>
    internal const string CaptionFolder = "captions";

    /// <summary>
    /// Adds the caption tracks to an entry HLS playlist (after <see cref="RewriteMaster"/>): one EXT-X-MEDIA
    /// TYPE=SUBTITLES per track ahead of the first variant, and SUBTITLES="subs" on every EXT-X-STREAM-INF (RFC 8216bis
    /// §4.4.6.2: a variant names the group its subtitle renditions form). URIs are relative to the entry playlist, whose
    /// folder holds <c>captions/</c>.
    /// </summary>
    public static string AddCaptionsToMaster(string text, IReadOnlyList<VodCaption> captions)
    {
        if (captions.Count == 0)
        {
            return text;
        }

        var media = new StringBuilder();
        foreach (var c in captions)
        {
            HlsPlaylistWriter.AppendSubtitleRendition(media, SubtitleGroup, c.Language, c.Label, CaptionFolder + "/" + c.Playlist);
        }

        const string Variant = "#EXT-X-STREAM-INF:";
        var sb = new StringBuilder(text.Length + media.Length + 64);
        var inserted = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith(Variant, StringComparison.Ordinal))
            {
                if (!inserted)
                {
                    sb.Append(media);
                    inserted = true;
                }

                sb.Append(line).Append(",SUBTITLES=\"").Append(SubtitleGroup).Append("\"\n");
                continue;
            }

            sb.Append(line).Append('\n');
        }

        sb.Length--;
        return sb.ToString();
    }

    /// <summary>
    /// Adds the caption tracks to an entry MPD (after <see cref="RewriteMpd"/>): one text AdaptationSet per track at the
    /// end of the Period. Their BaseURL climbs out of the version folder the MPD-level BaseURL points into, to the
    /// <c>captions/</c> folder beside it, so it works under a token path too. Ids start at 1000, clear of the media sets'.
    /// </summary>
    public static string AddCaptionsToMpd(string text, IReadOnlyList<VodCaption> captions)
    {
        if (captions.Count == 0)
        {
            return text;
        }

        var end = text.LastIndexOf("</Period>", StringComparison.Ordinal);
        if (end < 0)
        {
            throw new FormatException("not an MPD: no </Period>");
        }

        var lineStart = text.LastIndexOf('\n', end) + 1;
        var sets = new StringBuilder();
        for (var i = 0; i < captions.Count; i++)
        {
            MpdWriter.AppendTextAdaptationSet(sets, 1000 + i, captions[i].Language, captions[i].Label, "../" + CaptionFolder + "/" + captions[i].File);
        }

        return string.Concat(text.AsSpan(0, lineStart), sets.ToString(), text.AsSpan(lineStart));
    }

    /// <summary>A relative reference (RFC 3986 §4.2) that is not network- or absolute-path: no scheme, no leading '/'.</summary>
    internal static bool IsRelative(ReadOnlySpan<char> uri)
    {
        if (uri.IsEmpty || uri[0] == '/')
        {
            return false;
        }

        var colon = uri.IndexOf(':');
        var slash = uri.IndexOfAny('/', '?', '#');
        return colon < 0 || (slash >= 0 && slash < colon);
    }
}
