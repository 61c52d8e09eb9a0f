using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Live;

/// <summary>A published LL-HLS part (one CMAF chunk). Immutable.</summary>
internal sealed class TrackPart
{
    public TrackPart(long msn, int index, bool independent, long ticks, double duration, byte[] bytes, StoredObject body)
    {
        Msn = msn;
        Index = index;
        Independent = independent;
        Ticks = ticks;
        Duration = duration;
        Bytes = bytes;
        Body = body;
    }

    public long Msn { get; }

    public int Index { get; }

    /// <summary>Starts with a sync sample (EXT-X-PART INDEPENDENT=YES).</summary>
    public bool Independent { get; }

    /// <summary>Duration in track timescale units.</summary>
    public long Ticks { get; }

    public double Duration { get; }

    public byte[] Bytes { get; }

    public StoredObject Body { get; }
}

/// <summary>What a playlist or MPD needs to know about a completed segment; kept for the whole session.</summary>
/// <param name="Discontinuity">The segment starts a new timeline (EXT-X-DISCONTINUITY before it; a new DASH Period).</param>
/// <param name="DiscontinuitySequence">Discontinuities up to and including this segment's own (0 for the first timeline).</param>
internal readonly record struct SegmentInfo(long Msn, long StartTime, long Ticks, double Duration, DateTimeOffset ProgramDateTime, long Length,
    bool Discontinuity = false, long DiscontinuitySequence = 0);

/// <summary>A completed segment held in memory: its parts' buffers, served without copying.</summary>
internal sealed class TrackSegment
{
    public TrackSegment(SegmentInfo info, TrackPart[] parts, StoredObject body)
    {
        Info = info;
        Parts = parts;
        Body = body;
    }

    public SegmentInfo Info { get; }

    public long Msn => Info.Msn;

    public TrackPart[] Parts { get; }

    public StoredObject Body { get; }
}

/// <summary>The immutable published state of one track, swapped atomically on every change.</summary>
internal sealed class TrackView
{
    public required TrackKind Kind { get; init; }

    /// <summary><c>video</c> or <c>audio</c>: file prefix and playlist name.</summary>
    public required string Prefix { get; init; }

    public required StoredObject Init { get; init; }

    /// <summary>Completed segments still in memory, ascending and contiguous.</summary>
    public required TrackSegment[] Segments { get; init; }

    /// <summary>Parts of the segment in progress (<see cref="NextMsn"/>).</summary>
    public required TrackPart[] PendingParts { get; init; }

    public required long NextMsn { get; init; }

    /// <summary>The segment in progress starts after a discontinuity (its parts are listed after EXT-X-DISCONTINUITY).</summary>
    public bool PendingDiscontinuity { get; init; }

    /// <summary>The discontinuity sequence number of the segment in progress.</summary>
    public long PendingDiscontinuitySequence { get; init; }

    /// <summary>The live playlist, and its delta update (null when nothing can be skipped).</summary>
    public StoredObject? Playlist { get; set; }

    public StoredObject? DeltaPlaylist { get; set; }

    /// <summary>MSN and index of the newest part (for rendition reports and blocking reloads); (-1, -1) before any.</summary>
    public (long Msn, int Part) LastPart
    {
        get
        {
            if (PendingParts.Length > 0)
            {
                return (NextMsn, PendingParts.Length - 1);
            }

            return Segments.Length > 0 ? (Segments[^1].Msn, Segments[^1].Parts.Length - 1) : (-1, -1);
        }
    }

    public bool HasPart(long msn, int part)
    {
        if (msn < NextMsn)
        {
            return true; // a completed segment holds all of its parts
        }

        return msn == NextMsn && part < PendingParts.Length;
    }

    public TrackSegment? FindSegment(long msn)
    {
        if (Segments.Length == 0)
        {
            return null;
        }

        var index = msn - Segments[0].Msn;
        return index >= 0 && index < Segments.Length ? Segments[index] : null;
    }

    public TrackPart? FindPart(long msn, int part)
    {
        if (part < 0)
        {
            return null;
        }

        if (msn == NextMsn)
        {
            return part < PendingParts.Length ? PendingParts[part] : null;
        }

        var segment = FindSegment(msn);
        return segment is not null && part < segment.Parts.Length ? segment.Parts[part] : null;
    }
}
