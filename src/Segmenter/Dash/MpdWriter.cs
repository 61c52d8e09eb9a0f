using System.Globalization;
using System.Text;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Segmenter.Dash;

/// <summary>One AdaptationSet/Representation of the MPD (one CMAF track).</summary>
internal sealed class MpdTrack
{
    public required string Prefix { get; init; }

    public required bool IsVideo { get; init; }

    public required int Timescale { get; init; }

    public required string Codec { get; init; }

    public required long Bandwidth { get; init; }

    public int Width { get; init; }

    public int Height { get; init; }

    public double FrameRate { get; init; }

    public int SampleRate { get; init; }

    public int Channels { get; init; }

    /// <summary>
    /// An audio track's RFC 5646 tag: set, it makes the track an AdaptationSet of its own with <c>@lang</c> and a
    /// <see cref="Role"/> (alternative audio, ISO/IEC 23009-1 §5.8.5.5); null: no language is stated.
    /// </summary>
    public string? Language { get; init; }

    /// <summary>"main" or "alternate" (urn:mpeg:dash:role:2011), written with <see cref="Language"/>.</summary>
    public string? Role { get; init; }

    /// <summary>Segments to list, ascending and contiguous in MSN.</summary>
    public required IReadOnlyList<SegmentInfo> Segments { get; init; }

    /// <summary>The same track with other segments (those of one Period).</summary>
    public MpdTrack With(IReadOnlyList<SegmentInfo> segments) => new()
    {
        Prefix = Prefix, IsVideo = IsVideo, Timescale = Timescale, Codec = Codec, Bandwidth = Bandwidth, Width = Width, Height = Height,
        FrameRate = FrameRate, SampleRate = SampleRate, Channels = Channels, Language = Language, Role = Role, Segments = segments,
    };
}

/// <summary>MPD-level attributes.</summary>
internal readonly record struct MpdParams(
    string SessionId,
    bool Dynamic,
    DateTimeOffset AvailabilityStartTime,
    DateTimeOffset PublishTime,
    TimeSpan TargetDuration,
    TimeSpan TimeShiftBufferDepth,
    double PresentationDuration);

/// <summary>
/// Renders the DASH MPD (ISO/IEC 23009-1) for the live profile with CMAF segments: SegmentTemplate with
/// $Number$ and a SegmentTimeline that repeats the real segment durations (§5.3.9.6).
/// </summary>
internal static class MpdWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static byte[] Write(StringBuilder sb, in MpdParams p, IReadOnlyList<MpdTrack> tracks)
    {
        sb.Clear();
        sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.Append("<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019\"");
        if (p.Dynamic)
        {
            sb.Append(" type=\"dynamic\" availabilityStartTime=\"");
            AppendDate(sb, p.AvailabilityStartTime);
            sb.Append("\" publishTime=\"");
            AppendDate(sb, p.PublishTime);
            sb.Append("\" minimumUpdatePeriod=\"");
            AppendDuration(sb, p.TargetDuration.TotalSeconds);
            sb.Append("\" suggestedPresentationDelay=\"");
            AppendDuration(sb, 3 * p.TargetDuration.TotalSeconds);
            sb.Append("\" timeShiftBufferDepth=\"");
            AppendDuration(sb, p.TimeShiftBufferDepth.TotalSeconds);
            sb.Append('"');
        }
        else
        {
            sb.Append(" type=\"static\" mediaPresentationDuration=\"");
            AppendDuration(sb, p.PresentationDuration);
            sb.Append('"');
        }

        sb.Append(" minBufferTime=\"");
        AppendDuration(sb, p.TargetDuration.TotalSeconds);
        sb.Append("\">\n");

        // A new Period per discontinuity (ISO/IEC 23009-1 §5.3.2): each timeline in its own Period, which starts where
        // its first segment does (presentationTimeOffset maps the media times onto it). Without one, the single Period
        // starts at 0, as the media times do.
        var periods = PeriodsOf(tracks);
        foreach (var sequence in periods)
        {
            var periodTracks = periods.Count == 1 ? tracks : InPeriod(tracks, sequence);
            var start = sequence == 0 ? 0 : CommonStart(periodTracks);
            sb.Append(Inv, $"  <Period id=\"{sequence}\" start=\"");
            AppendDuration(sb, start);
            sb.Append("\">\n");
            AppendPeriod(sb, p, periodTracks, start);
            sb.Append("  </Period>\n");
        }

        sb.Append("</MPD>\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The discontinuity sequence numbers the listed segments belong to, ascending; at least one.</summary>
    private static List<long> PeriodsOf(IReadOnlyList<MpdTrack> tracks)
    {
        var sequences = new SortedSet<long>();
        foreach (var t in tracks)
        {
            foreach (var segment in t.Segments)
            {
                sequences.Add(segment.DiscontinuitySequence);
            }
        }

        return sequences.Count == 0 ? [0] : [.. sequences];
    }

    private static List<MpdTrack> InPeriod(IReadOnlyList<MpdTrack> tracks, long sequence)
    {
        var result = new List<MpdTrack>(tracks.Count);
        foreach (var t in tracks)
        {
            var segments = t.Segments.Where(s => s.DiscontinuitySequence == sequence).ToList();
            if (segments.Count > 0)
            {
                result.Add(t.With(segments));
            }
        }

        return result;
    }

    private static void AppendPeriod(StringBuilder sb, in MpdParams p, IReadOnlyList<MpdTrack> tracks, double periodStart)
    {
        var commonStart = CommonStart(tracks);

        // Consecutive tracks of one kind form one AdaptationSet (a VOD ladder's rungs); a set of one keeps the
        // per-track paths, a set of several shares a SegmentTemplate through $RepresentationID$ (§5.3.9.4.4),
        // which requires their segment timelines to be identical (aligned keyframes).
        var set = 0;
        for (var i = 0; i < tracks.Count; set++)
        {
            var count = 1;
            while (i + count < tracks.Count && tracks[i + count].IsVideo == tracks[i].IsVideo
                && tracks[i].Language is null && tracks[i + count].Language is null)
            {
                count++;
            }

            var t = tracks[i];
            var contentType = t.IsVideo ? "video" : "audio";
            var basePath = p.SessionId.Length == 0 ? string.Empty : p.SessionId + "/";
            sb.Append(Inv, $"    <AdaptationSet id=\"{set}\" contentType=\"{contentType}\"");
            if (t.Language is not null)
            {
                sb.Append(Inv, $" lang=\"{t.Language}\"");
            }

            sb.Append(Inv, $" mimeType=\"{contentType}/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">\n");
            if (t.Language is not null)
            {
                // Role precedes SegmentTemplate and Representation in AdaptationSetType's sequence.
                sb.Append(Inv, $"      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"{t.Role ?? "main"}\"/>\n");
            }

            if (count == 1 || SameTimeline(tracks, i, count))
            {
                AppendTemplate(sb, t, basePath, count == 1 ? t.Prefix : "$RepresentationID$", "      ", commonStart, periodStart);
                for (var r = i; r < i + count; r++)
                {
                    AppendRepresentation(sb, tracks[r], basePath: null, commonStart, periodStart);
                }
            }
            else
            {
                // A live ladder's rungs can differ from the source in their numbering or window (a rung that
                // dropped a GOP under load, or started a segment later): each Representation then carries its own
                // SegmentTemplate (§5.3.9.1 allows it at Representation level). The segments still start at the
                // same presentation times, so segmentAlignment holds.
                for (var r = i; r < i + count; r++)
                {
                    AppendRepresentation(sb, tracks[r], basePath, commonStart, periodStart);
                }
            }

            sb.Append("    </AdaptationSet>\n");
            i += count;
        }
    }

    /// <summary>
    /// The earliest first-segment start of all tracks, in seconds. Every timeline is made to begin there (see
    /// <see cref="FirstStart"/>): a track whose first listed segment starts a little later (audio whose first frame
    /// follows the first video frame by the encoder's priming, ~60 ms from an RTMP publisher) would otherwise leave a
    /// gap at the period's start, where dash.js starts buffering a young live stream. dash.js repairs such a gap only
    /// if the media element's time is still 0 when that track first looks for a segment; once the video buffer's own
    /// internal seek (to its first frame) has moved the time, the track waits for a segment at 0 forever and playback
    /// never starts (seen in CI: audio never requested while video fetched 15 segments).
    /// </summary>
    private static double CommonStart(IReadOnlyList<MpdTrack> tracks)
    {
        var start = double.PositiveInfinity;
        foreach (var t in tracks)
        {
            if (t.Segments.Count > 0)
            {
                start = Math.Min(start, (double)t.Segments[0].StartTime / t.Timescale);
            }
        }

        return start;
    }

    /// <summary>The largest lead-in a first segment is stretched over to begin at the common start.</summary>
    private const double MaxStartAlignment = 0.5;

    /// <summary>
    /// The S@t written for the track's first listed segment: the common start when the segment begins at most
    /// <see cref="MaxStartAlignment"/> later (its duration grows by as much, so every later segment keeps its time);
    /// otherwise its own start. Players place the media by its own decode times, so the listed lead-in only says
    /// that this segment is the one to fetch for those first milliseconds.
    /// </summary>
    private static long FirstStart(MpdTrack t, double commonStart)
    {
        var own = t.Segments[0].StartTime;
        var aligned = (long)Math.Floor(commonStart * t.Timescale);
        return aligned < own && (double)(own - aligned) / t.Timescale <= MaxStartAlignment ? aligned : own;
    }

    /// <param name="periodStart">The Period's start, seconds on the media timeline: its presentationTimeOffset (§5.3.9.2).</param>
    private static void AppendTemplate(StringBuilder sb, MpdTrack t, string basePath, string name, string indent, double commonStart, double periodStart)
    {
        var startNumber = t.Segments.Count > 0 ? t.Segments[0].Msn : 0;
        sb.Append(Inv, $"{indent}<SegmentTemplate timescale=\"{t.Timescale}\" initialization=\"{basePath}{name}_init.mp4\" media=\"{basePath}{name}_$Number$.m4s\" startNumber=\"{startNumber}\"");
        if (periodStart > 0)
        {
            sb.Append(Inv, $" presentationTimeOffset=\"{(long)Math.Floor(periodStart * t.Timescale)}\"");
        }

        sb.Append(">\n");
        sb.Append(indent).Append("  <SegmentTimeline>\n");
        AppendTimeline(sb, t.Segments, t.Segments.Count > 0 ? FirstStart(t, commonStart) : 0);
        sb.Append(indent).Append("  </SegmentTimeline>\n").Append(indent).Append("</SegmentTemplate>\n");
    }

    private static bool SameTimeline(IReadOnlyList<MpdTrack> tracks, int first, int count)
    {
        var a = tracks[first].Segments;
        for (var r = first + 1; r < first + count; r++)
        {
            var b = tracks[r].Segments;
            if (tracks[r].Timescale != tracks[first].Timescale || b.Count != a.Count)
            {
                return false;
            }

            for (var k = 0; k < a.Count; k++)
            {
                if (a[k].Msn != b[k].Msn || a[k].StartTime != b[k].StartTime || a[k].Ticks != b[k].Ticks)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <param name="basePath">Non-null: the Representation carries its own SegmentTemplate under this path.</param>
    private static void AppendRepresentation(StringBuilder sb, MpdTrack t, string? basePath, double commonStart, double periodStart)
    {
        sb.Append(Inv, $"      <Representation id=\"{t.Prefix}\" bandwidth=\"{Math.Max(1, t.Bandwidth)}\" codecs=\"{t.Codec}\"");
        if (t.IsVideo)
        {
            sb.Append(Inv, $" width=\"{t.Width}\" height=\"{t.Height}\" sar=\"1:1\"");
            if (t.FrameRate > 0)
            {
                sb.Append(" frameRate=\"").Append(FormatFrameRate(t.FrameRate)).Append('"');
            }

            if (basePath is null)
            {
                sb.Append("/>\n");
            }
            else
            {
                sb.Append(">\n");
                AppendTemplate(sb, t, basePath, t.Prefix, "        ", commonStart, periodStart);
                sb.Append("      </Representation>\n");
            }
        }
        else
        {
            sb.Append(Inv, $" audioSamplingRate=\"{t.SampleRate}\">\n");
            sb.Append(Inv, $"        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{t.Channels}\"/>\n");
            sb.Append("      </Representation>\n");
        }
    }

    /// <summary>
    /// A text AdaptationSet holding one whole-presentation WebVTT file (ISO/IEC 23009-1 §5.3.3: contentType "text", lang
    /// as a BCP 47 tag; Role "subtitle" from the DASH role scheme, §5.8.5.5), addressed by a BaseURL.
    /// <paramref name="label"/> and <paramref name="url"/> are XML-escaped here.
    /// </summary>
    public static void AppendTextAdaptationSet(StringBuilder sb, int id, string language, string label, string url)
    {
        var escapedLabel = System.Security.SecurityElement.Escape(label);
        sb.Append(Inv, $"    <AdaptationSet id=\"{id}\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"{language}\">\n");
        sb.Append("      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>\n");
        sb.Append(Inv, $"      <Label>{escapedLabel}</Label>\n");
        sb.Append(Inv, $"      <Representation id=\"text-{language}\" bandwidth=\"256\">\n");
        sb.Append(Inv, $"        <BaseURL>{System.Security.SecurityElement.Escape(url)}</BaseURL>\n");
        sb.Append("      </Representation>\n    </AdaptationSet>\n");
    }

    /// <summary>Run-length S elements; t is repeated only where the timeline is not contiguous.</summary>
    /// <param name="firstStart">The S@t of the first segment (see <see cref="FirstStart"/>); its d reaches the second.</param>
    private static void AppendTimeline(StringBuilder sb, IReadOnlyList<SegmentInfo> segments, long firstStart)
    {
        var i = 0;
        long expected = -1;
        while (i < segments.Count)
        {
            var start = i == 0 ? firstStart : segments[i].StartTime;
            var d = i == 0 ? segments[0].Ticks + (segments[0].StartTime - firstStart) : segments[i].Ticks;
            var repeat = 0;
            while (i + repeat + 1 < segments.Count
                && segments[i + repeat + 1].Ticks == d
                && segments[i + repeat + 1].StartTime == start + ((repeat + 1) * d))
            {
                repeat++;
            }

            sb.Append("          <S");
            if (start != expected)
            {
                sb.Append(Inv, $" t=\"{start}\"");
            }

            sb.Append(Inv, $" d=\"{d}\"");
            if (repeat > 0)
            {
                sb.Append(Inv, $" r=\"{repeat}\"");
            }

            sb.Append("/>\n");
            expected = start + ((repeat + 1) * d);
            i += repeat + 1;
        }
    }

    internal static string FormatFrameRate(double fps)
    {
        var rounded = Math.Round(fps);
        if (Math.Abs(fps - rounded) < 0.001)
        {
            return ((long)rounded).ToString(Inv);
        }

        var ntsc = Math.Round(fps * 1.001);
        if (Math.Abs((ntsc * 1000 / 1001) - fps) < 0.001)
        {
            return string.Create(Inv, $"{(long)(ntsc * 1000)}/1001");
        }

        return string.Create(Inv, $"{(long)Math.Round(fps * 1000)}/1000");
    }

    private static void AppendDuration(StringBuilder sb, double seconds) =>
        sb.Append(Inv, $"PT{Math.Max(0, seconds):0.###}S");

    private static void AppendDate(StringBuilder sb, DateTimeOffset value) =>
        sb.Append(Inv, $"{value.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}");
}
