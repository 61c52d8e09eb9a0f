using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Probe;

namespace StreamVerse.MediaCore.Subtitles;

/// <summary>A text subtitle track taken from a source, written as a SubRip file.</summary>
/// <param name="Language">The stream's <c>language</c> tag as the container has it (ISO 639-2 such as <c>eng</c>, or
/// BCP 47 in newer Matroska), or null.</param>
/// <param name="Title">The stream's <c>title</c> tag, or null.</param>
/// <param name="Path">The SubRip file.</param>
/// <param name="Cues">Cues written (tracks with none are not reported).</param>
public sealed record ExtractedSubtitle(int StreamIndex, string? Language, string? Title, string Path, int Cues);

/// <summary>A subtitle track that was not taken, and why (a bitmap format, or one we cannot read as text).</summary>
public sealed record SkippedSubtitle(int StreamIndex, string Codec, string? Language, string Reason);

/// <summary>What <see cref="SubtitleExtractor.Extract"/> found.</summary>
public sealed record SubtitleExtraction(IReadOnlyList<ExtractedSubtitle> Tracks, IReadOnlyList<SkippedSubtitle> Skipped);

/// <summary>
/// Takes the text subtitle tracks of a source (Matroska/WebM and MP4/MOV: SubRip, ASS/SSA, mov_text (3GPP Timed Text),
/// WebVTT) into one SubRip file each, without decoding anything: the demuxer's packets of a text track are the cue
/// texts (Matroska S_TEXT/*, ISO/IEC 14496-30 samples), timed by their pts and duration. Every other stream is
/// discarded at the demuxer (AVDISCARD_ALL), so the pass costs one read of the file. Bitmap tracks (PGS, DVB, DVD)
/// are reported as skipped. Times are relative to the container's start, as the ladder's are (LadderPipeline._origin).
/// </summary>
public static class SubtitleExtractor
{
    private const int DiscardAll = 48; // AVDISCARD_ALL

    /// <summary>A cue with no duration in the container ends at the next cue, or after this long.</summary>
    private static readonly TimeSpan DefaultCueDuration = TimeSpan.FromSeconds(3);

    public static unsafe SubtitleExtraction Extract(string sourcePath, string outputDir, CancellationToken cancellationToken)
    {
        using var input = MediaProbe.Open(sourcePath);
        var ctx = input.Ptr;
        var tracks = new Dictionary<int, Track>();
        var skipped = new List<SkippedSubtitle>();
        for (var i = 0; i < (int)ctx->NbStreams; i++)
        {
            var stream = ctx->Streams[i];
            if (stream->CodecPar->CodecType != AVMediaType.Subtitle)
            {
                stream->Discard = DiscardAll;
                continue;
            }

            var codec = Utf8Z.Read(LibAvCodec.avcodec_get_name(stream->CodecPar->CodecId)) ?? "unknown";
            var language = Tag(stream, "language\0"u8);
            var kind = KindOf(codec);
            if (kind is null)
            {
                stream->Discard = DiscardAll;
                skipped.Add(new SkippedSubtitle(i, codec, language, "not a text subtitle format (bitmap or unsupported)"));
                continue;
            }

            tracks[i] = new Track(kind.Value, language, Tag(stream, "title\0"u8), stream->TimeBase);
        }

        var origin = ctx->StartTime is not LibAvUtil.NoPtsValue ? ctx->StartTime / (double)LibAvUtil.TimeBase : 0;
        if (tracks.Count > 0)
        {
            using var packet = AVPacketHandle.Alloc();
            var p = packet.Ptr;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var r = LibAvFormat.av_read_frame(ctx, p);
                if (r == AvError.Eof)
                {
                    break;
                }

                AvError.Check(r, "av_read_frame");
                try
                {
                    if (tracks.TryGetValue(p->StreamIndex, out var track) && p->Pts != LibAvUtil.NoPtsValue && p->Size > 0)
                    {
                        var tb = track.TimeBase.ToDouble();
                        var start = (p->Pts * tb) - origin;
                        double? end = p->Duration > 0 ? start + (p->Duration * tb) : null;
                        var text = TextOf(track.Kind, new ReadOnlySpan<byte>(p->Data, p->Size));
                        if (text.Length > 0)
                        {
                            track.Cues.Add((Math.Max(0, start), end, text));
                        }
                    }
                }
                finally
                {
                    LibAvCodec.av_packet_unref(p);
                }
            }
        }

        var extracted = new List<ExtractedSubtitle>();
        foreach (var (index, track) in tracks.OrderBy(t => t.Key))
        {
            if (track.Cues.Count == 0)
            {
                skipped.Add(new SkippedSubtitle(index, track.Kind.ToString(), track.Language, "has no cues"));
                continue;
            }

            Directory.CreateDirectory(outputDir);
            var path = Path.Combine(outputDir, index.ToString(CultureInfo.InvariantCulture) + ".srt");
            File.WriteAllText(path, ToSubRip(track.Cues), new UTF8Encoding(false));
            extracted.Add(new ExtractedSubtitle(index, track.Language, track.Title, path, track.Cues.Count));
        }

        return new SubtitleExtraction(extracted, skipped);
    }

    internal enum TextKind
    {
        /// <summary>The packet is the cue text, SubRip markup or plain (Matroska S_TEXT/UTF8, S_TEXT/WEBVTT).</summary>
        Plain,

        /// <summary>A Matroska S_TEXT/ASS block: <c>ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text</c>.</summary>
        Ass,

        /// <summary>A 3GPP Timed Text sample (ISO/IEC 14496-30 / 3GPP TS 26.245 §5.17): a 16-bit big-endian length, the UTF-8 text, then style boxes.</summary>
        MovText,

        /// <summary>An ISO/IEC 14496-30 WebVTT sample: boxes (<c>vttc</c> holding <c>payl</c>, <c>vtte</c> for a gap) or, from Matroska, the text itself.</summary>
        WebVtt,
    }

    internal static TextKind? KindOf(string codec) => codec switch
    {
        "subrip" or "srt" or "text" => TextKind.Plain,
        "ass" or "ssa" => TextKind.Ass,
        "mov_text" => TextKind.MovText,
        "webvtt" => TextKind.WebVtt,
        _ => null,
    };

    /// <summary>The cue text of one packet as SubRip text lines (no blank lines: a blank line would end the cue).</summary>
    internal static string TextOf(TextKind kind, ReadOnlySpan<byte> data)
    {
        string text;
        switch (kind)
        {
            case TextKind.MovText:
                if (data.Length < 2)
                {
                    return "";
                }

                var length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(data), data.Length - 2);
                text = Utf8(data.Slice(2, length));
                break;
            case TextKind.Ass:
                text = Utf8(data);
                for (var commas = 0; commas < 8; commas++)
                {
                    var comma = text.IndexOf(',', StringComparison.Ordinal);
                    if (comma < 0)
                    {
                        return "";
                    }

                    text = text[(comma + 1)..];
                }

                // ASS line breaks and hard spaces; override blocks ({\...}) are removed by the SubRip conversion.
                text = text.Replace("\\N", "\n", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal)
                    .Replace("\\h", " ", StringComparison.Ordinal);
                break;
            case TextKind.WebVtt when data.Length >= 8 && (data.Slice(4, 4).SequenceEqual("vttc"u8) || data.Slice(4, 4).SequenceEqual("vtte"u8)):
                text = Utf8(PaylOf(data));
                break;
            default:
                text = Utf8(data);
                break;
        }

        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n')
            .Select(l => l.Trim()).Where(l => l.Length > 0);
        return string.Join('\n', lines);
    }

    /// <summary>The <c>payl</c> box inside the sample's <c>vttc</c> boxes (ISO/IEC 14496-30 §7.2), or nothing.</summary>
    private static ReadOnlySpan<byte> PaylOf(ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            var size = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data), (uint)data.Length);
            if (size < 8)
            {
                return default;
            }

            var type = data.Slice(4, 4);
            if (type.SequenceEqual("vttc"u8))
            {
                data = data.Slice(8, size - 8);
                continue;
            }

            if (type.SequenceEqual("payl"u8))
            {
                return data.Slice(8, size - 8);
            }

            data = data[size..];
        }

        return default;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes).Replace("\0", "", StringComparison.Ordinal);

    private static string ToSubRip(List<(double Start, double? End, string Text)> cues)
    {
        cues.Sort((a, b) => a.Start.CompareTo(b.Start));
        var sb = new StringBuilder();
        for (var i = 0; i < cues.Count; i++)
        {
            var (start, end, text) = cues[i];
            var stop = end ?? (i + 1 < cues.Count ? cues[i + 1].Start : start + DefaultCueDuration.TotalSeconds);
            if (stop <= start)
            {
                stop = start + 0.001;
            }

            sb.Append(CultureInfo.InvariantCulture, $"{i + 1}\n{Timestamp(start)} --> {Timestamp(stop)}\n{text}\n\n");
        }

        return sb.ToString();
    }

    private static string Timestamp(double seconds)
    {
        var ms = (long)Math.Round(seconds * 1000);
        return string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00},{ms % 1000:000}");
    }

    private static unsafe string? Tag(AVStream* stream, ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            // key is a NUL-terminated literal; the entry's strings stay the stream's.
            var entry = LibAvUtil.av_dict_get(stream->Metadata, k, null, 0);
            var value = entry == null ? null : Utf8Z.Read(entry->Value);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }
    }

    private sealed class Track(TextKind kind, string? language, string? title, AVRational timeBase)
    {
        public TextKind Kind { get; } = kind;

        public string? Language { get; } = language;

        public string? Title { get; } = title;

        public AVRational TimeBase { get; } = timeBase;

        public List<(double Start, double? End, string Text)> Cues { get; } = [];
    }
}
