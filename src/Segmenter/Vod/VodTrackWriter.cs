using StreamVerse.Segmenter.Fmp4;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Vod;

/// <summary>
/// Packages one CMAF track of a VOD presentation into files: <c>{prefix}_init.mp4</c> and one
/// <c>{prefix}_{n}.m4s</c> (moof + mdat) per segment, with the segmenter's <see cref="InitSegmentWriter"/> and
/// <see cref="FragmentWriter"/>. Video segments start at keyframes once the target duration is reached; audio
/// segments are cut on the same nominal grid (multiples of the target), so renditions line up.
/// Not thread-safe: one producer, samples in decode order.
/// </summary>
internal sealed class VodTrackWriter
{
    private readonly string _directory;
    private readonly long _targetTicks;
    private readonly List<FragmentSample> _samples = [];
    private readonly List<SegmentInfo> _segments = [];
    private readonly MemoryStream _data = new();
    private (long Dts, long Pts, bool Key, byte[] Data)? _pending;
    private long _shift = long.MinValue;
    private long _segmentStart = -1;
    private long _lastDuration;
    private long _totalBytes;
    private long _peakBitrate;

    public VodTrackWriter(string directory, string prefix, TrackKind kind, int timescale, TimeSpan targetDuration)
    {
        _directory = directory;
        Prefix = prefix;
        Kind = kind;
        Timescale = timescale;
        TargetDuration = targetDuration;
        _targetTicks = (long)Math.Round(targetDuration.TotalSeconds * timescale);
    }

    public string Prefix { get; }

    public TrackKind Kind { get; }

    public int Timescale { get; }

    public TimeSpan TargetDuration { get; }

    public string? Codec { get; private set; }

    public IReadOnlyList<SegmentInfo> Segments => _segments;

    /// <summary>Largest segment bitrate (bits per second), measured from the written segment sizes.</summary>
    public long PeakBitrate => _peakBitrate;

    /// <summary>All segment bytes over the whole duration, in bits per second.</summary>
    public long AverageBitrate
    {
        get
        {
            var seconds = _segments.Sum(s => s.Duration);
            return seconds > 0 ? (long)Math.Round(_totalBytes * 8 / seconds) : 0;
        }
    }

    public double Duration => _segments.Sum(s => s.Duration);

    public string InitFileName => Prefix + "_init.mp4";

    public static string SegmentFileName(string prefix, long msn) => $"{prefix}_{msn}.m4s";

    public void SetVideoConfig(AvcConfig config)
    {
        Codec = config.Codec;
        File.WriteAllBytes(Path.Combine(_directory, InitFileName), InitSegmentWriter.WriteVideo(config));
    }

    /// <param name="config">The AudioSpecificConfig.</param>
    /// <param name="primingSamples">Encoder delay (AAC: 1024), hidden by an edit list.</param>
    /// <param name="language">ISO 639-2/T code written into the track header (mdhd).</param>
    public void SetAudioConfig(AacConfig config, int primingSamples = 0, string language = "und")
    {
        Codec = config.Codec;
        File.WriteAllBytes(Path.Combine(_directory, InitFileName), InitSegmentWriter.WriteAudio(config, primingSamples, language));
    }

    /// <summary>
    /// One access unit in track timescale units. Decode durations come from the next sample's DTS, so each
    /// sample is held until the next one arrives. DTS may start negative (B-frames): decode times are shifted to
    /// start at 0 and the composition offsets (signed, trun v1) keep each sample's presentation time at its PTS.
    /// </summary>
    public void AddSample(long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        if (_shift == long.MinValue)
        {
            _shift = dts < 0 ? -dts : 0;
        }

        if (_pending is { } p)
        {
            if (dts <= p.Dts)
            {
                throw new InvalidDataException($"{Prefix}: DTS must increase ({dts} after {p.Dts}).");
            }

            Append(p, dts - p.Dts);
        }

        _pending = (dts, pts, isKeyframe, data.ToArray());
    }

    /// <summary>Writes the last segment; <paramref name="lastSampleDuration"/> for the final sample (ticks).</summary>
    public void Finish(long lastSampleDuration)
    {
        if (_pending is { } p)
        {
            Append(p, lastSampleDuration > 0 ? lastSampleDuration : Math.Max(1, _lastDuration));
            _pending = null;
        }

        Flush();
    }

    private void Append((long Dts, long Pts, bool Key, byte[] Data) s, long duration)
    {
        var decodeTime = s.Dts + _shift;
        var cut = Kind == TrackKind.Video
            ? s.Key && decodeTime - _segmentStart >= _targetTicks - (duration / 2)
            : decodeTime + (duration / 2) >= NextAudioBoundary();
        if (_samples.Count > 0 && cut)
        {
            Flush();
        }

        if (_samples.Count == 0)
        {
            if (Kind == TrackKind.Video && !s.Key)
            {
                throw new InvalidDataException($"{Prefix}: a video segment must start with a keyframe.");
            }

            _segmentStart = decodeTime;
        }

        _samples.Add(new FragmentSample
        {
            Duration = checked((int)duration),
            Size = s.Data.Length,
            CompositionOffset = checked((int)(s.Pts - decodeTime)),
            IsSync = s.Key,
        });
        _data.Write(s.Data);
        _lastDuration = duration;
    }

    /// <summary>Audio segment n ends at (n + 1) x target on the shifted decode timeline, like the video GOPs.</summary>
    private long NextAudioBoundary() => (_segments.Count + 1) * _targetTicks;

    private void Flush()
    {
        if (_samples.Count == 0)
        {
            return;
        }

        var samples = _samples.ToArray();
        var data = _data.GetBuffer().AsSpan(0, (int)_data.Length);
        var video = Kind == TrackKind.Video;
        var bytes = new byte[FragmentWriter.GetSize(samples.Length, data.Length, video)];
        var msn = _segments.Count + 1L;
        FragmentWriter.Write(bytes, (uint)msn, (ulong)_segmentStart, samples, data, video);
        File.WriteAllBytes(Path.Combine(_directory, SegmentFileName(Prefix, msn)), bytes);

        long ticks = 0;
        foreach (var s in samples)
        {
            ticks += s.Duration;
        }

        var seconds = (double)ticks / Timescale;
        _segments.Add(new SegmentInfo(msn, _segmentStart, ticks, seconds, DateTimeOffset.UnixEpoch, bytes.Length));
        _totalBytes += bytes.Length;
        _peakBitrate = Math.Max(_peakBitrate, (long)Math.Round(bytes.Length * 8 / seconds));
        _samples.Clear();
        _data.SetLength(0);
    }
}
