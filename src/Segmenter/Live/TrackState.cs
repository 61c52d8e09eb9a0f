using System.Globalization;
using StreamVerse.Segmenter.Fmp4;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Live;

/// <summary>
/// One track's packaging state. Owned by the ingest thread: nothing here is read by viewers, who see
/// only <see cref="TrackView"/> snapshots.
/// </summary>
internal sealed class TrackState
{
    private readonly string _sessionId;
    private readonly int _retain;
    private readonly List<TrackPart> _segmentParts = [];
    private readonly List<TrackSegment> _retained = [];
    private readonly List<SegmentInfo> _all = [];
    private FragmentSample[] _samples = new FragmentSample[64];
    private long[] _sampleDts = new long[64];
    private long[] _sampleArrival = new long[64];
    private byte[] _data = new byte[256 * 1024];
    private int _dataLength;
    private uint _fragmentSequence;
    private TrackSegment[]? _retainedArray;
    private bool _discontinuityNext;
    private bool _segmentDiscontinuity;

    /// <param name="prefix">File prefix and playlist name; <c>video</c>/<c>audio</c> unless a ladder rung names it.</param>
    /// <param name="firstMsn">MSN of the first segment: a ladder rung that starts late takes the source's number for the same instant.</param>
    public TrackState(TrackKind kind, int timescale, byte[] init, string codec, string sessionId, int retainSegments, string? prefix = null, long firstMsn = 0)
    {
        Kind = kind;
        Prefix = prefix ?? (kind == TrackKind.Video ? "video" : "audio");
        NextMsn = firstMsn;
        Timescale = timescale;
        Codec = codec;
        _sessionId = sessionId;
        _retain = retainSegments;
        Init = new StoredObject(init, ETagFor("init"), ContentType);
    }

    public TrackKind Kind { get; }

    public string Prefix { get; }

    public int Timescale { get; }

    public string Codec { get; }

    public StoredObject Init { get; }

    public string ContentType => Kind == TrackKind.Video ? StoredObject.Mp4Video : StoredObject.Mp4Audio;

    public int PendingCount { get; private set; }

    /// <summary>Sum of the pending samples' durations (the last video sample counts 0 until its successor arrives).</summary>
    public long PendingTicks { get; private set; }

    /// <summary>Decode time right after the last sample whose duration is known.</summary>
    public long NextDecodeTime { get; private set; }

    public long PartStartTime { get; private set; }

    public long SegmentStartTime { get; private set; }

    public DateTimeOffset SegmentProgramDateTime { get; set; }

    public long NextMsn { get; private set; }

    /// <summary>Discontinuities so far: the discontinuity sequence number (RFC 8216bis §4.4.3.3) of the segment in progress.</summary>
    public long DiscontinuitySequence { get; private set; }

    public int SegmentPartCount => _segmentParts.Count;

    public IReadOnlyList<SegmentInfo> AllSegments => _all;

    public double MaxSegmentDuration { get; private set; }

    public double MaxPartDuration { get; private set; }

    public long TotalBytes { get; private set; }

    public long TotalTicks { get; private set; }

    public long TotalParts { get; private set; }

    /// <summary>Peak per-segment bitrate, bits per second.</summary>
    public double PeakBitrate { get; private set; }

    public long PendingFirstArrival => PendingCount > 0 ? _sampleArrival[0] : 0;

    /// <summary>Adds a sample to the part being built. <paramref name="duration"/> may be 0 and set later.</summary>
    public void Append(long decodeTime, int duration, int compositionOffset, bool isSync, long dts90k, long arrival, DateTimeOffset wallClock, ReadOnlySpan<byte> data)
    {
        if (PendingCount == 0)
        {
            if (_segmentParts.Count == 0)
            {
                SegmentStartTime = decodeTime;
                SegmentProgramDateTime = wallClock;
                BeginSegment();
            }

            PartStartTime = decodeTime;
            PendingTicks = 0;
        }
        else if (decodeTime > NextDecodeTime)
        {
            // A real gap inside a part: the previous sample absorbs it (trun samples are contiguous).
            _samples[PendingCount - 1].Duration += (int)(decodeTime - NextDecodeTime);
            PendingTicks += decodeTime - NextDecodeTime;
        }

        if (PendingCount == _samples.Length)
        {
            Array.Resize(ref _samples, _samples.Length * 2);
            Array.Resize(ref _sampleDts, _samples.Length);
            Array.Resize(ref _sampleArrival, _samples.Length);
        }

        if (_dataLength + data.Length > _data.Length)
        {
            Array.Resize(ref _data, Math.Max(_data.Length * 2, _dataLength + data.Length));
        }

        data.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += data.Length;
        _samples[PendingCount] = new FragmentSample
        {
            Duration = duration,
            Size = data.Length,
            CompositionOffset = compositionOffset,
            IsSync = isSync,
        };
        _sampleDts[PendingCount] = dts90k;
        _sampleArrival[PendingCount] = arrival;
        PendingCount++;
        PendingTicks += duration;
        NextDecodeTime = decodeTime + duration;
    }

    /// <summary>
    /// The next segment begins after a discontinuity (RFC 8216bis §4.4.4.3: a new timeline, encoder or publisher). Call
    /// between segments: the current one must be closed and nothing pending.
    /// </summary>
    public void MarkDiscontinuity()
    {
        if (_all.Count > 0 || _segmentParts.Count > 0)
        {
            _discontinuityNext = true;
        }
    }

    private void BeginSegment()
    {
        _segmentDiscontinuity = _discontinuityNext;
        _discontinuityNext = false;
        if (_segmentDiscontinuity)
        {
            DiscontinuitySequence++;
        }
    }

    public void SetLastDuration(int duration)
    {
        ref var last = ref _samples[PendingCount - 1];
        PendingTicks += duration - last.Duration;
        NextDecodeTime += duration - last.Duration;
        last.Duration = duration;
    }

    /// <summary>The timeline position (as given to <see cref="Append"/>) of pending sample <paramref name="index"/>.</summary>
    public long PendingPosition(int index) => _sampleDts[index];

    /// <summary>Index of the first pending sample with input DTS at or after <paramref name="dts90k"/>, or -1.</summary>
    public int FindFirstAtOrAfter(long dts90k)
    {
        for (var i = 0; i < PendingCount; i++)
        {
            if (_sampleDts[i] >= dts90k)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Packages the first <paramref name="count"/> pending samples as the next part of the current segment.</summary>
    public TrackPart ClosePart(int count)
    {
        var samples = _samples.AsSpan(0, count);
        var dataLength = 0;
        long ticks = 0;
        foreach (ref readonly var s in samples)
        {
            dataLength += s.Size;
            ticks += s.Duration;
        }

        var bytes = new byte[FragmentWriter.GetSize(count, dataLength, Kind == TrackKind.Video)];
        FragmentWriter.Write(bytes, ++_fragmentSequence, (ulong)PartStartTime, samples, _data.AsSpan(0, dataLength), Kind == TrackKind.Video);

        var index = _segmentParts.Count;
        var name = string.Create(CultureInfo.InvariantCulture, $"{NextMsn}.{index}");
        var duration = (double)ticks / Timescale;
        // RFC 8216bis §4.4.4.9: INDEPENDENT=YES when the part *contains* an independent frame (a keyframe may fall
        // inside a part when the encoder's GOP is shorter than the segment).
        var independent = false;
        foreach (ref readonly var sample in samples)
        {
            independent |= sample.IsSync;
        }

        var part = new TrackPart(NextMsn, index, independent, ticks, duration, bytes, new StoredObject(bytes, ETagFor(name), ContentType));
        _segmentParts.Add(part);
        TotalParts++;
        if (_all.Count == 0)
        {
            MaxPartDuration = Math.Max(MaxPartDuration, duration);
        }

        // Keep the remainder (audio samples already past a video boundary) for the next part.
        var remaining = PendingCount - count;
        if (remaining > 0)
        {
            _samples.AsSpan(count, remaining).CopyTo(_samples);
            _sampleDts.AsSpan(count, remaining).CopyTo(_sampleDts);
            _sampleArrival.AsSpan(count, remaining).CopyTo(_sampleArrival);
            _data.AsSpan(dataLength, _dataLength - dataLength).CopyTo(_data);
        }

        _dataLength -= dataLength;
        PendingCount = remaining;
        PartStartTime += ticks;
        PendingTicks -= ticks;
        return part;
    }

    /// <summary>Closes the current segment from its parts; null when it has none.</summary>
    public TrackSegment? CloseSegment()
    {
        if (_segmentParts.Count == 0)
        {
            return null;
        }

        var parts = _segmentParts.ToArray();
        _segmentParts.Clear();
        var chunks = new ReadOnlyMemory<byte>[parts.Length];
        long ticks = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            chunks[i] = parts[i].Bytes;
            ticks += parts[i].Ticks;
        }

        var body = new StoredObject(chunks, ETagFor(NextMsn.ToString(CultureInfo.InvariantCulture)), ContentType);
        var duration = (double)ticks / Timescale;
        var info = new SegmentInfo(NextMsn, SegmentStartTime, ticks, duration, SegmentProgramDateTime, body.Length, _segmentDiscontinuity, DiscontinuitySequence);
        var segment = new TrackSegment(info, parts, body);
        _all.Add(info);
        _retained.Add(segment);
        if (_retained.Count > _retain)
        {
            _retained.RemoveAt(0);
        }

        _retainedArray = null;
        NextMsn++;
        if (PendingCount > 0)
        {
            // Samples already past the boundary (audio cut at a video instant) open the next segment.
            SegmentStartTime = PartStartTime;
            SegmentProgramDateTime = info.ProgramDateTime.AddSeconds(duration);
            BeginSegment();
        }

        MaxSegmentDuration = Math.Max(MaxSegmentDuration, duration);
        TotalBytes += body.Length;
        TotalTicks += ticks;
        if (duration > 0)
        {
            PeakBitrate = Math.Max(PeakBitrate, body.Length * 8 / duration);
        }

        return segment;
    }

    public TrackView CreateView() => new()
    {
        Kind = Kind,
        Prefix = Prefix,
        Init = Init,
        Segments = _retainedArray ??= [.. _retained],
        PendingParts = [.. _segmentParts],
        NextMsn = NextMsn,
        PendingDiscontinuity = _segmentDiscontinuity && (_segmentParts.Count > 0 || PendingCount > 0),
        PendingDiscontinuitySequence = DiscontinuitySequence,
    };

    /// <summary>Bitrate (bits per second) of the segment with this MSN, if known.</summary>
    public double? SegmentBitrate(long msn)
    {
        var index = msn - (_all.Count > 0 ? _all[0].Msn : 0);
        if (index < 0 || index >= _all.Count || _all[(int)index].Duration <= 0)
        {
            return null;
        }

        var info = _all[(int)index];
        return info.Length * 8 / info.Duration;
    }

    private string ETagFor(string name) => string.Create(CultureInfo.InvariantCulture, $"\"{_sessionId}-{Prefix}-{name}\"");
}
