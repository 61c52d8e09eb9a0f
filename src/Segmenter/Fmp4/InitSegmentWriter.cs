using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Fmp4;

/// <summary>
/// CMAF track header (ISO/IEC 23000-19 §7.3.1): ftyp + moov with one trak and mvex/trex,
/// empty sample tables (all samples live in fragments).
/// </summary>
internal static class InitSegmentWriter
{
    private static readonly int[] UnityMatrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

    public static byte[] WriteVideo(AvcConfig config)
    {
        var buffer = new byte[1024 + config.Record.Length];
        var w = new BoxWriter(buffer);
        WriteHeader(ref w, 90000, config.Width, config.Height, video: true, config.Record, null);
        return buffer.AsSpan(0, w.Position).ToArray();
    }

    /// <param name="config">The AudioSpecificConfig.</param>
    /// <param name="primingSamples">
    /// Encoder delay to hide with an edit list (VOD: AAC's 1024 priming samples, so audio starts in sync with video
    /// instead of ~21 ms late); 0 writes no edit list (live).
    /// </param>
    /// <param name="language">ISO 639-2/T code of the mdhd box (ISO/IEC 14496-12 §8.4.2.3): three letters a-z.</param>
    public static byte[] WriteAudio(AacConfig config, int primingSamples = 0, string language = "und")
    {
        var buffer = new byte[1024 + config.Record.Length];
        var w = new BoxWriter(buffer);
        WriteHeader(ref w, config.SampleRate, 0, 0, video: false, null, config, primingSamples, PackLanguage(language));
        return buffer.AsSpan(0, w.Position).ToArray();
    }

    /// <summary>mdhd's language: three 5-bit letters, each its code minus 0x60 (ISO/IEC 14496-12 §8.4.2.3).</summary>
    internal static ushort PackLanguage(string language)
    {
        if (language.Length != 3 || !language.All(c => c is >= 'a' and <= 'z'))
        {
            throw new ArgumentException($"'{language}' is not an ISO 639-2/T code (three letters a-z).", nameof(language));
        }

        return (ushort)(((language[0] - 0x60) << 10) | ((language[1] - 0x60) << 5) | (language[2] - 0x60));
    }

    private static void WriteHeader(ref BoxWriter w, int timescale, int width, int height, bool video, byte[]? avcC, AacConfig? aac, int mediaTime = 0,
        ushort language = 0x55C4)
    {
        var ftyp = w.StartBox("ftyp");
        w.FourCC("iso6");
        w.U32(0);
        w.FourCC("iso6");
        w.FourCC("cmfc");
        w.FourCC("dash");
        w.FourCC("mp41");
        w.EndBox(ftyp);

        var moov = w.StartBox("moov");

        var mvhd = w.StartFullBox("mvhd", 0, 0);
        w.U32(0); // creation_time
        w.U32(0); // modification_time
        w.U32(1000); // timescale
        w.U32(0); // duration: unknown (fragmented)
        w.U32(0x00010000); // rate 1.0
        w.U16(0x0100); // volume 1.0
        w.Zeros(10);
        WriteMatrix(ref w);
        w.Zeros(24); // pre_defined
        w.U32(2); // next_track_ID
        w.EndBox(mvhd);

        var trak = w.StartBox("trak");
        var tkhd = w.StartFullBox("tkhd", 0, 0x000003); // enabled, in movie
        w.U32(0);
        w.U32(0);
        w.U32(1); // track_ID
        w.U32(0);
        w.U32(0); // duration
        w.Zeros(8);
        w.U16(0); // layer
        w.U16(0); // alternate_group
        w.U16(video ? 0 : 0x0100); // volume
        w.U16(0);
        WriteMatrix(ref w);
        w.U32((uint)width << 16);
        w.U32((uint)height << 16);
        w.EndBox(tkhd);

        if (mediaTime > 0)
        {
            // ISO/IEC 14496-12 §8.6.6: one edit starting at media_time; segment_duration 0 = the whole
            // (fragmented, not yet known) duration.
            var edts = w.StartBox("edts");
            var elst = w.StartFullBox("elst", 0, 0);
            w.U32(1); // entry_count
            w.U32(0); // segment_duration
            w.I32(mediaTime);
            w.U16(1); // media_rate_integer
            w.U16(0); // media_rate_fraction
            w.EndBox(elst);
            w.EndBox(edts);
        }

        var mdia = w.StartBox("mdia");
        var mdhd = w.StartFullBox("mdhd", 0, 0);
        w.U32(0);
        w.U32(0);
        w.U32((uint)timescale);
        w.U32(0);
        w.U16(language); // "und" (0x55C4) unless the caller named the track's language
        w.U16(0);
        w.EndBox(mdhd);

        var hdlr = w.StartFullBox("hdlr", 0, 0);
        w.U32(0);
        w.FourCC(video ? "vide" : "soun");
        w.Zeros(12);
        w.Bytes(video ? "VideoHandler\0"u8 : "SoundHandler\0"u8);
        w.EndBox(hdlr);

        var minf = w.StartBox("minf");
        if (video)
        {
            var vmhd = w.StartFullBox("vmhd", 0, 1);
            w.Zeros(8); // graphicsmode, opcolor
            w.EndBox(vmhd);
        }
        else
        {
            var smhd = w.StartFullBox("smhd", 0, 0);
            w.Zeros(4); // balance, reserved
            w.EndBox(smhd);
        }

        var dinf = w.StartBox("dinf");
        var dref = w.StartFullBox("dref", 0, 0);
        w.U32(1);
        var url = w.StartFullBox("url ", 0, 1); // media data in the same file
        w.EndBox(url);
        w.EndBox(dref);
        w.EndBox(dinf);

        var stbl = w.StartBox("stbl");
        var stsd = w.StartFullBox("stsd", 0, 0);
        w.U32(1);
        if (video)
        {
            WriteAvc1(ref w, width, height, avcC!);
        }
        else
        {
            WriteMp4a(ref w, aac!);
        }

        w.EndBox(stsd);
        foreach (var empty in (ReadOnlySpan<string>)["stts", "stsc", "stco"])
        {
            var box = w.StartFullBox(empty, 0, 0);
            w.U32(0);
            w.EndBox(box);
        }

        var stsz = w.StartFullBox("stsz", 0, 0);
        w.U32(0); // sample_size
        w.U32(0); // sample_count
        w.EndBox(stsz);
        w.EndBox(stbl);
        w.EndBox(minf);
        w.EndBox(mdia);
        w.EndBox(trak);

        var mvex = w.StartBox("mvex");
        var trex = w.StartFullBox("trex", 0, 0);
        w.U32(1); // track_ID
        w.U32(1); // default_sample_description_index
        w.U32(0);
        w.U32(0);
        w.U32(0);
        w.EndBox(trex);
        w.EndBox(mvex);

        w.EndBox(moov);
    }

    private static void WriteMatrix(ref BoxWriter w)
    {
        foreach (var value in UnityMatrix)
        {
            w.I32(value);
        }
    }

    // ISO/IEC 14496-15 §5.4.2.1 (AVCSampleEntry = VisualSampleEntry + avcC).
    private static void WriteAvc1(ref BoxWriter w, int width, int height, byte[] avcC)
    {
        var avc1 = w.StartBox("avc1");
        w.Zeros(6);
        w.U16(1); // data_reference_index
        w.Zeros(16); // pre_defined, reserved, pre_defined[3]
        w.U16(width);
        w.U16(height);
        w.U32(0x00480000); // 72 dpi
        w.U32(0x00480000);
        w.U32(0);
        w.U16(1); // frame_count
        w.Zeros(32); // compressorname
        w.U16(0x0018); // depth
        w.U16(0xFFFF); // pre_defined = -1
        var avcCBox = w.StartBox("avcC");
        w.Bytes(avcC);
        w.EndBox(avcCBox);
        w.EndBox(avc1);
    }

    // ISO/IEC 14496-14 §5.6 (MP4AudioSampleEntry + esds with ES_Descriptor, ISO/IEC 14496-1 §7.2.6.5).
    private static void WriteMp4a(ref BoxWriter w, AacConfig aac)
    {
        var mp4a = w.StartBox("mp4a");
        w.Zeros(6);
        w.U16(1); // data_reference_index
        w.Zeros(8);
        w.U16(aac.Channels);
        w.U16(16); // samplesize
        w.U16(0);
        w.U16(0);
        w.U32(aac.SampleRate <= 0xFFFF ? (uint)aac.SampleRate << 16 : 0);

        var esds = w.StartFullBox("esds", 0, 0);
        var asc = aac.Record;
        var decoderSpecificLength = asc.Length;
        var decoderConfigLength = 13 + 2 + decoderSpecificLength;
        var esLength = 3 + 2 + decoderConfigLength + 3;
        w.U8(0x03); // ES_DescrTag
        w.U8(esLength);
        w.U16(1); // ES_ID
        w.U8(0); // flags
        w.U8(0x04); // DecoderConfigDescrTag
        w.U8(decoderConfigLength);
        w.U8(0x40); // objectTypeIndication: MPEG-4 Audio
        w.U8(0x15); // streamType audio (5) << 2 | reserved 1
        w.U24(0); // bufferSizeDB
        w.U32(0); // maxBitrate
        w.U32(0); // avgBitrate
        w.U8(0x05); // DecSpecificInfoTag
        w.U8(decoderSpecificLength);
        w.Bytes(asc);
        w.U8(0x06); // SLConfigDescrTag
        w.U8(1);
        w.U8(2); // predefined: MP4
        w.EndBox(esds);
        w.EndBox(mp4a);
    }
}
