namespace StreamVerse.Segmenter.Fmp4;

/// <summary>One sample of a fragment: where its bytes are in the fragment's data and how it is timed.</summary>
internal struct FragmentSample
{
    /// <summary>Decode duration in track timescale units.</summary>
    public int Duration;

    public int Size;

    /// <summary>PTS - DTS in track timescale units; signed (trun version 1).</summary>
    public int CompositionOffset;

    public bool IsSync;
}

/// <summary>
/// Writes one CMAF chunk: moof(mfhd, traf(tfhd, tfdt, trun)) + mdat for a single track
/// (ISO/IEC 14496-12 §8.8, ISO/IEC 23000-19 §7.3.2). The caller allocates exactly
/// <see cref="GetSize"/> bytes; nothing else is allocated.
/// </summary>
internal static class FragmentWriter
{
    // ISO/IEC 14496-12 §8.8.3.1 sample flags: depends_on (bits 24-25), is_non_sync (bit 16).
    public const uint SyncSampleFlags = 0x02000000;
    public const uint NonSyncSampleFlags = 0x01010000;

    private const int TfhdDefaultBaseIsMoof = 0x020000;
    private const int TrunDataOffset = 0x000001;
    private const int TrunDuration = 0x000100;
    private const int TrunSize = 0x000200;
    private const int TrunFlags = 0x000400;
    private const int TrunCompositionOffset = 0x000800;

    public static int GetMoofSize(int sampleCount, bool video) =>
        8 + 16 + 8 + 16 + 20 + 20 + (sampleCount * (video ? 16 : 8));

    public static int GetSize(int sampleCount, int dataLength, bool video) =>
        GetMoofSize(sampleCount, video) + 8 + dataLength;

    /// <summary>Writes the fragment; returns the bytes written (= <see cref="GetSize"/>).</summary>
    /// <param name="destination">At least <see cref="GetSize"/> bytes.</param>
    /// <param name="sequenceNumber">mfhd sequence number, increasing per fragment of the track.</param>
    /// <param name="baseMediaDecodeTime">tfdt of the first sample, in track timescale units.</param>
    /// <param name="samples">Sample table, in decode order.</param>
    /// <param name="data">The samples' bytes back to back; becomes the mdat payload.</param>
    /// <param name="video">Video writes per-sample flags and signed composition offsets.</param>
    public static int Write(
        Span<byte> destination,
        uint sequenceNumber,
        ulong baseMediaDecodeTime,
        ReadOnlySpan<FragmentSample> samples,
        ReadOnlySpan<byte> data,
        bool video)
    {
        var moofSize = GetMoofSize(samples.Length, video);
        var w = new BoxWriter(destination);

        var moof = w.StartBox("moof");
        var mfhd = w.StartFullBox("mfhd", 0, 0);
        w.U32(sequenceNumber);
        w.EndBox(mfhd);

        var traf = w.StartBox("traf");
        var tfhd = w.StartFullBox("tfhd", 0, TfhdDefaultBaseIsMoof);
        w.U32(1); // track_ID: one track per file
        w.EndBox(tfhd);

        var tfdt = w.StartFullBox("tfdt", 1, 0);
        w.U64(baseMediaDecodeTime);
        w.EndBox(tfdt);

        var trunFlags = TrunDataOffset | TrunDuration | TrunSize;
        if (video)
        {
            trunFlags |= TrunFlags | TrunCompositionOffset;
        }

        // Version 1 makes composition offsets signed, so B-frames need no DTS shift.
        var trun = w.StartFullBox("trun", video ? 1 : 0, trunFlags);
        w.U32((uint)samples.Length);
        w.I32(moofSize + 8); // data_offset: first mdat payload byte, relative to the moof (default-base-is-moof)
        foreach (ref readonly var sample in samples)
        {
            w.U32((uint)sample.Duration);
            w.U32((uint)sample.Size);
            if (video)
            {
                w.U32(sample.IsSync ? SyncSampleFlags : NonSyncSampleFlags);
                w.I32(sample.CompositionOffset);
            }
        }

        w.EndBox(trun);
        w.EndBox(traf);
        w.EndBox(moof);

        w.U32((uint)(8 + data.Length));
        w.FourCC("mdat");
        w.Bytes(data);
        return w.Position;
    }
}
