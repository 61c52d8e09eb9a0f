using System.Globalization;
using System.Text;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Segmenter.Hls;

/// <summary>What a live media playlist rendering needs, besides the track's view.</summary>
internal readonly record struct MediaPlaylistParams(
    string SessionId,
    int TargetDuration,
    double PartTarget,
    int WindowSegments,
    bool Ended,
    IReadOnlyList<RenditionReport> Reports);

/// <summary>An EXT-X-RENDITION-REPORT (RFC 8216bis §4.4.5.4): another rendition's last part, URI relative to the playlist.</summary>
internal readonly record struct RenditionReport(string Uri, long Msn, int Part);

/// <summary>What the multivariant playlist advertises.</summary>
internal readonly record struct MasterPlaylistParams(
    bool HasVideo,
    bool HasAudio,
    long Bandwidth,
    long AverageBandwidth,
    string Codecs,
    int Width,
    int Height,
    double FrameRate,
    int AudioChannels);

/// <summary>One EXT-X-STREAM-INF of a multivariant playlist (RFC 8216bis §4.4.6.2).</summary>
internal readonly record struct VariantParams(
    string Uri,
    long Bandwidth,
    long AverageBandwidth,
    string Codecs,
    int Width,
    int Height,
    double FrameRate);

/// <summary>One EXT-X-MEDIA TYPE=AUDIO of a multivariant playlist (RFC 8216bis §4.4.6.1).</summary>
/// <param name="Language">RFC 5646 tag (LANGUAGE), or null to write none.</param>
/// <param name="Name">NAME: a quoted-string, so without '"', CR or LF.</param>
internal readonly record struct AudioRenditionParams(string Uri, string Name, string? Language, bool IsDefault, int Channels);

/// <summary>
/// Renders HLS playlists (RFC 8216bis) with the LL-HLS extensions (§4.4.3.7 EXT-X-PART, §4.4.3.8
/// EXT-X-SERVER-CONTROL, §4.4.5.2 EXT-X-SKIP, §4.4.5.3 EXT-X-PRELOAD-HINT, §4.4.5.4 EXT-X-RENDITION-REPORT).
/// Called once per change on the ingest thread; viewers get the cached bytes.
/// </summary>
internal static class HlsPlaylistWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="independentSegments">Every segment starts on an IDR (§4.4.2.1 EXT-X-INDEPENDENT-SEGMENTS).</param>
    public static byte[] WriteMaster(StringBuilder sb, in MasterPlaylistParams p, bool independentSegments = true)
    {
        sb.Clear();
        sb.Append(independentSegments ? "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n" : "#EXTM3U\n#EXT-X-VERSION:9\n");
        if (p.HasVideo && p.HasAudio)
        {
            sb.Append(Inv, $"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"{p.AudioChannels}\",URI=\"audio.m3u8\"\n");
        }

        sb.Append(Inv, $"#EXT-X-STREAM-INF:BANDWIDTH={p.Bandwidth},AVERAGE-BANDWIDTH={p.AverageBandwidth},CODECS=\"{p.Codecs}\"");
        if (p.HasVideo)
        {
            sb.Append(Inv, $",RESOLUTION={p.Width}x{p.Height}");
            if (p.FrameRate > 0)
            {
                sb.Append(Inv, $",FRAME-RATE={p.FrameRate:0.000}");
            }

            if (p.HasAudio)
            {
                sb.Append(",AUDIO=\"audio\"");
            }

            sb.Append("\nvideo.m3u8\n");
        }
        else
        {
            sb.Append("\naudio.m3u8\n");
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// The live media playlist, or its delta update when <paramref name="skip"/> is set. Returns null for a delta
    /// update that would skip nothing: while no segment ends CAN-SKIP-UNTIL before the end, a delta update could not
    /// keep the skip boundary's worth of segments (§6.2.5.1), so the request is answered with the full playlist, which
    /// a client must accept (strict parsers such as hls-parser refuse <c>SKIPPED-SEGMENTS=0</c>).
    /// </summary>
    public static byte[]? WriteLive(StringBuilder sb, TrackView view, in MediaPlaylistParams p, bool skip)
    {
        var segments = view.Segments.AsSpan();
        if (segments.Length > p.WindowSegments)
        {
            segments = segments[^p.WindowSegments..];
        }

        // §6.2.5.1: segments may be skipped when they end at least CAN-SKIP-UNTIL before the playlist end.
        var skipUntil = 6.0 * p.TargetDuration;
        var skipped = 0;
        if (skip)
        {
            var fromEnd = 0.0;
            foreach (var part in view.PendingParts)
            {
                fromEnd += part.Duration;
            }

            for (var i = segments.Length - 1; i >= 0; i--)
            {
                if (fromEnd >= skipUntil)
                {
                    skipped = i + 1;
                    break;
                }

                fromEnd += segments[i].Info.Duration;
            }

            if (skipped == 0)
            {
                return null;
            }
        }

        sb.Clear();
        sb.Append(Inv, $"#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:{p.TargetDuration}\n");
        sb.Append(Inv, $"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={3 * p.PartTarget:0.0####},CAN-SKIP-UNTIL={skipUntil:0.0####}\n");
        sb.Append(Inv, $"#EXT-X-PART-INF:PART-TARGET={p.PartTarget:0.0####}\n");
        var firstMsn = segments.Length > 0 ? segments[0].Msn : view.NextMsn;
        sb.Append(Inv, $"#EXT-X-MEDIA-SEQUENCE:{firstMsn}\n");

        // §4.4.3.3: the discontinuity sequence number of the first listed segment (a skipped one counts); the
        // EXT-X-DISCONTINUITY tags that slid out of the window are counted in it, those still listed follow.
        var discontinuitySequence = segments.Length > 0 ? segments[0].Info.DiscontinuitySequence : view.PendingDiscontinuitySequence;
        if (discontinuitySequence > 0)
        {
            sb.Append(Inv, $"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuitySequence}\n");
        }

        if (skipped > 0)
        {
            sb.Append(Inv, $"#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}\n");
        }

        sb.Append(Inv, $"#EXT-X-MAP:URI=\"{p.SessionId}/{view.Prefix}_init.mp4\"\n");

        // §4.4.4.9: parts more than three target durations from the end of the playlist are removed, so a
        // segment keeps its parts only while its start is within that distance (the open segment counts).
        var partsFrom = segments.Length;
        var age = 0.0;
        if (!p.Ended)
        {
            foreach (var part in view.PendingParts)
            {
                age += part.Duration;
            }
        }

        for (var i = segments.Length - 1; i >= 0; i--)
        {
            age += segments[i].Info.Duration;
            if (age > 3.0 * p.TargetDuration)
            {
                break;
            }

            partsFrom = i;
        }

        for (var i = skipped; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (i > 0 && segment.Info.Discontinuity)
            {
                sb.Append("#EXT-X-DISCONTINUITY\n");
            }

            sb.Append("#EXT-X-PROGRAM-DATE-TIME:");
            AppendDate(sb, segment.Info.ProgramDateTime);
            sb.Append('\n');
            if (i >= partsFrom)
            {
                foreach (var part in segment.Parts)
                {
                    AppendPart(sb, p.SessionId, view.Prefix, part);
                }
            }

            sb.Append(Inv, $"#EXTINF:{segment.Info.Duration:0.00000},\n{p.SessionId}/{view.Prefix}_{segment.Msn}.m4s\n");
        }

        if (!p.Ended)
        {
            if (view.PendingDiscontinuity && segments.Length > 0)
            {
                sb.Append("#EXT-X-DISCONTINUITY\n");
            }

            foreach (var part in view.PendingParts)
            {
                AppendPart(sb, p.SessionId, view.Prefix, part);
            }

            sb.Append(Inv, $"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{p.SessionId}/{view.Prefix}_{view.NextMsn}.{view.PendingParts.Length}.m4s\"\n");
        }

        foreach (var report in p.Reports)
        {
            if (report.Msn >= 0)
            {
                sb.Append(Inv, $"#EXT-X-RENDITION-REPORT:URI=\"{report.Uri}\",LAST-MSN={report.Msn},LAST-PART={report.Part}\n");
            }
        }

        if (p.Ended)
        {
            sb.Append("#EXT-X-ENDLIST\n");
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The recording's VOD playlist: every segment of the session, URIs relative to the name folder.</summary>
    public static byte[] WriteRecorded(StringBuilder sb, string sessionId, string prefix, IReadOnlyList<SegmentInfo> segments, int targetDuration, bool independentSegments = true)
    {
        sb.Clear();
        sb.Append(Inv, $"#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n{(independentSegments ? "#EXT-X-INDEPENDENT-SEGMENTS\n" : "")}#EXT-X-TARGETDURATION:{targetDuration}\n");
        sb.Append(Inv, $"#EXT-X-MEDIA-SEQUENCE:{(segments.Count > 0 ? segments[0].Msn : 0)}\n");
        if (segments.Count > 0 && segments[0].DiscontinuitySequence > 0)
        {
            sb.Append(Inv, $"#EXT-X-DISCONTINUITY-SEQUENCE:{segments[0].DiscontinuitySequence}\n");
        }

        sb.Append(Inv, $"#EXT-X-MAP:URI=\"{sessionId}/{prefix}_init.mp4\"\n");
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            if (i > 0 && segment.Discontinuity)
            {
                sb.Append("#EXT-X-DISCONTINUITY\n");
            }

            sb.Append("#EXT-X-PROGRAM-DATE-TIME:");
            AppendDate(sb, segment.ProgramDateTime);
            sb.Append(Inv, $"\n#EXTINF:{segment.Duration:0.00000},\n{sessionId}/{prefix}_{segment.Msn}.m4s\n");
        }

        sb.Append("#EXT-X-ENDLIST\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// A VOD multivariant playlist: one EXT-X-STREAM-INF per rung, all sharing one audio rendition group when
    /// <paramref name="audioUri"/> is set; an audio-only presentation is one variant without RESOLUTION.
    /// </summary>
    /// <param name="version">EXT-X-VERSION: 7 for VOD, 9 for a live ladder whose media playlists use LL-HLS (EXT-X-SKIP needs 9).</param>
    public static byte[] WriteVodMaster(StringBuilder sb, IReadOnlyList<VariantParams> variants, string? audioUri, int audioChannels, int version = 7) =>
        WriteVodMaster(sb, variants, audioUri is null ? [] : [new AudioRenditionParams(audioUri, "audio", null, IsDefault: true, audioChannels)], version);

    /// <summary>
    /// The same with any number of audio renditions, all in GROUP-ID "audio", which every variant names (AUDIO=). One
    /// rendition and video variants: exactly the single-audio form above. An audio-only presentation with several
    /// renditions gets one variant (the default rendition's playlist) and the group, so players can switch language.
    /// </summary>
    public static byte[] WriteVodMaster(StringBuilder sb, IReadOnlyList<VariantParams> variants, IReadOnlyList<AudioRenditionParams> audio, int version = 7)
    {
        sb.Clear();
        sb.Append(Inv, $"#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-INDEPENDENT-SEGMENTS\n");
        var videoVariants = variants.Any(v => v.Width > 0);
        var grouped = audio.Count > 1 || (audio.Count == 1 && videoVariants);
        if (grouped)
        {
            // §4.4.6.1.1: at most one DEFAULT=YES per group; AUTOSELECT=YES on all, so a player may pick by the
            // viewer's language (AUTOSELECT must be YES where DEFAULT is).
            foreach (var a in audio)
            {
                sb.Append("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\"");
                if (a.Language is not null)
                {
                    sb.Append(Inv, $",LANGUAGE=\"{a.Language}\"");
                }

                sb.Append(Inv, $",NAME=\"{a.Name}\",DEFAULT={(a.IsDefault ? "YES" : "NO")},AUTOSELECT=YES,CHANNELS=\"{a.Channels}\",URI=\"{a.Uri}\"\n");
            }
        }

        foreach (var v in variants)
        {
            sb.Append(Inv, $"#EXT-X-STREAM-INF:BANDWIDTH={v.Bandwidth},AVERAGE-BANDWIDTH={v.AverageBandwidth},CODECS=\"{v.Codecs}\"");
            if (v.Width > 0)
            {
                sb.Append(Inv, $",RESOLUTION={v.Width}x{v.Height}");
                if (v.FrameRate > 0)
                {
                    sb.Append(Inv, $",FRAME-RATE={v.FrameRate:0.000}");
                }

                if (grouped)
                {
                    sb.Append(",AUDIO=\"audio\"");
                }
            }
            else if (grouped)
            {
                sb.Append(",AUDIO=\"audio\"");
            }

            sb.Append('\n').Append(v.Uri).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>A VOD media playlist (§4.4.3.5 EXT-X-PLAYLIST-TYPE:VOD, §4.4.3.4 ENDLIST), URIs relative to it.</summary>
    public static byte[] WriteVod(StringBuilder sb, string initUri, IReadOnlyList<(string Uri, double Duration)> segments)
    {
        var longest = segments.Count == 0 ? 0 : segments.Max(s => s.Duration);
        sb.Clear();
        sb.Append(Inv, $"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:{TargetDurationFor(longest, TimeSpan.Zero)}\n");
        sb.Append("#EXT-X-MEDIA-SEQUENCE:0\n");
        sb.Append(Inv, $"#EXT-X-MAP:URI=\"{initUri}\"\n");
        foreach (var (uri, duration) in segments)
        {
            sb.Append(Inv, $"#EXTINF:{duration:0.00000},\n{uri}\n");
        }

        sb.Append("#EXT-X-ENDLIST\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// One subtitle rendition of a multivariant playlist (RFC 8216bis §4.4.6.1: TYPE=SUBTITLES, a GROUP-ID that the
    /// variants name in SUBTITLES=, LANGUAGE as a BCP 47 tag, a NAME unique in the group). Not DEFAULT: captions are
    /// the viewer's choice; AUTOSELECT lets a player pick the one matching the viewer's language.
    /// </summary>
    public static void AppendSubtitleRendition(StringBuilder sb, string groupId, string language, string name, string uri) =>
        sb.Append(Inv, $"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{groupId}\",LANGUAGE=\"{language}\",NAME=\"{name}\",DEFAULT=NO,AUTOSELECT=YES,URI=\"{uri}\"\n");

    /// <summary>
    /// A subtitle media playlist over one whole-presentation WebVTT file (§3.1.4: a subtitle segment is a WebVTT
    /// file): a single segment as long as the presentation, so players load the file once.
    /// </summary>
    public static byte[] WriteSubtitles(StringBuilder sb, string vttUri, double durationSeconds)
    {
        sb.Clear();
        sb.Append(Inv, $"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:{TargetDurationFor(durationSeconds, TimeSpan.Zero)}\n");
        sb.Append(Inv, $"#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:{durationSeconds:0.00000},\n{vttUri}\n#EXT-X-ENDLIST\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// EXT-X-TARGETDURATION (§4.4.3.1): every EXTINF rounded to the nearest integer must not exceed it; and at least
    /// 1, since players derive reload and buffer timing from it (a one-frame video's 0.04 s segment rounded to 0).
    /// </summary>
    public static int TargetDurationFor(double longestSegment, TimeSpan configured) =>
        Math.Max(1, Math.Max((int)Math.Ceiling(configured.TotalSeconds - 1e-9), (int)Math.Floor(longestSegment + 0.5)));

    private static void AppendPart(StringBuilder sb, string sessionId, string prefix, TrackPart part)
    {
        sb.Append(Inv, $"#EXT-X-PART:DURATION={part.Duration:0.00000},URI=\"{sessionId}/{prefix}_{part.Msn}.{part.Index}.m4s\"");
        sb.Append(part.Independent ? ",INDEPENDENT=YES\n" : "\n");
    }

    private static void AppendDate(StringBuilder sb, DateTimeOffset value) =>
        sb.Append(Inv, $"{value.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}");
}
