using System.Globalization;

namespace StreamVerse.Segmenter.Media;

/// <summary>
/// An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) and what the manifests need from its
/// first SPS (ITU-T H.264 §7.3.2.1.1): coded size after cropping, RFC 6381 codec string, VUI frame rate.
/// </summary>
internal sealed class AvcConfig
{
    /// <summary>Smallest picture side taken (one macroblock).</summary>
    public const int MinSize = 16;

    /// <summary>Largest picture side taken (8K UHD), as for uploads (MediaCore's MediaProbe.MaxWidth).</summary>
    public const int MaxSize = 8192;

    private AvcConfig(byte[] record, int width, int height, double? frameRate)
    {
        Record = record;
        Width = width;
        Height = height;
        FrameRate = frameRate;
        Codec = string.Create(CultureInfo.InvariantCulture, $"avc1.{record[1]:X2}{record[2]:X2}{record[3]:X2}");
    }

    /// <summary>The record exactly as received; it becomes the avcC box payload.</summary>
    public byte[] Record { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>From VUI timing (time_scale / (2 * num_units_in_tick)); null when the SPS has none.</summary>
    public double? FrameRate { get; }

    /// <summary><c>avc1.PPCCLL</c> (RFC 6381 §3.3).</summary>
    public string Codec { get; }

    public static AvcConfig Parse(ReadOnlySpan<byte> record)
    {
        // Version, profile, compatibility, level, length size, SPS count, then the first SPS's 16-bit length.
        if (record.Length < 8 || record[0] != 1)
        {
            throw new InvalidDataException("Not an AVCDecoderConfigurationRecord.");
        }

        var spsCount = record[5] & 0x1F;
        if (spsCount < 1)
        {
            throw new InvalidDataException("AVCDecoderConfigurationRecord without SPS.");
        }

        var spsLength = (record[6] << 8) | record[7];
        if (record.Length < 8 + spsLength || spsLength < 4)
        {
            throw new InvalidDataException("Truncated SPS.");
        }

        var sps = ParseSps(record.Slice(8, spsLength));
        return new AvcConfig(record.ToArray(), sps.Width, sps.Height, sps.FrameRate);
    }

    private static (int Width, int Height, double? FrameRate) ParseSps(ReadOnlySpan<byte> nal)
    {
        var rbsp = BitReader.Unescape(nal[1..]);
        var r = new BitReader(rbsp);
        var profileIdc = r.ReadBits(8);
        r.Skip(16); // constraint flags, level_idc
        r.ReadUe(); // seq_parameter_set_id
        uint chromaFormatIdc = 1;
        var separateColourPlane = false;
        if (profileIdc is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            chromaFormatIdc = r.ReadUe();
            if (chromaFormatIdc > 3)
            {
                throw new InvalidDataException("SPS with a chroma_format_idc above 3.");
            }
            if (chromaFormatIdc == 3)
            {
                separateColourPlane = r.ReadFlag();
            }

            r.ReadUe(); // bit_depth_luma_minus8
            r.ReadUe(); // bit_depth_chroma_minus8
            r.Skip(1); // qpprime_y_zero_transform_bypass_flag
            if (r.ReadFlag())
            {
                var lists = chromaFormatIdc == 3 ? 12 : 8;
                for (var i = 0; i < lists; i++)
                {
                    if (r.ReadFlag())
                    {
                        SkipScalingList(ref r, i < 6 ? 16 : 64);
                    }
                }
            }
        }

        r.ReadUe(); // log2_max_frame_num_minus4
        var pocType = r.ReadUe();
        if (pocType == 0)
        {
            r.ReadUe();
        }
        else if (pocType == 1)
        {
            r.Skip(1);
            r.ReadSe();
            r.ReadSe();
            var cycle = r.ReadUe();
            for (var i = 0; i < cycle; i++)
            {
                r.ReadSe();
            }
        }

        r.ReadUe(); // max_num_ref_frames
        r.Skip(1); // gaps_in_frame_num_value_allowed_flag
        var widthMbs = r.ReadUe() + 1;
        var heightMapUnits = r.ReadUe() + 1;
        var frameMbsOnly = r.ReadFlag();
        if (!frameMbsOnly)
        {
            r.Skip(1); // mb_adaptive_frame_field_flag
        }

        r.Skip(1); // direct_8x8_inference_flag
        uint cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
        if (r.ReadFlag())
        {
            cropLeft = r.ReadUe();
            cropRight = r.ReadUe();
            cropTop = r.ReadUe();
            cropBottom = r.ReadUe();
        }

        // §7.4.2.1.1: crop units depend on ChromaArrayType (SubWidthC/SubHeightC, Table 6-1).
        var chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
        var frameFactor = frameMbsOnly ? 1u : 2u;
        uint cropUnitX = 1, cropUnitY = frameFactor;
        if (chromaArrayType != 0)
        {
            cropUnitX = chromaArrayType == 3 ? 1u : 2u;
            cropUnitY = (chromaArrayType == 1 ? 2u : 1u) * frameFactor;
        }

        // In 64 bits: every term is a ue(v) of up to 32 bits, so a crafted SPS could wrap 32-bit arithmetic into a
        // plausible size. A crop that leaves less than a macroblock, or a picture beyond 8K, is no stream we take
        // (the live ladder plans rungs from this size).
        var width = ((long)widthMbs * 16) - ((long)cropUnitX * ((long)cropLeft + cropRight));
        var height = ((long)frameFactor * heightMapUnits * 16) - ((long)cropUnitY * ((long)cropTop + cropBottom));
        if (width is < MinSize or > MaxSize || height is < MinSize or > MaxSize)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"SPS picture of {width}x{height} after cropping; {MinSize}x{MinSize} to {MaxSize}x{MaxSize} is taken."));
        }

        double? frameRate = null;
        try
        {
            if (r.ReadFlag())
            {
                frameRate = ReadVuiFrameRate(ref r);
            }
        }
        catch (InvalidDataException)
        {
            // A truncated VUI costs only the frame rate; the caller measures it instead.
        }

        return ((int)width, (int)height, frameRate);
    }

    private static double? ReadVuiFrameRate(ref BitReader r)
    {
        if (r.ReadFlag() && r.ReadBits(8) == 255)
        {
            r.Skip(32); // sar_width, sar_height
        }

        if (r.ReadFlag())
        {
            r.Skip(1); // overscan_appropriate_flag
        }

        if (r.ReadFlag())
        {
            r.Skip(4); // video_format, video_full_range_flag
            if (r.ReadFlag())
            {
                r.Skip(24);
            }
        }

        if (r.ReadFlag())
        {
            r.ReadUe();
            r.ReadUe();
        }

        if (!r.ReadFlag())
        {
            return null;
        }

        var unitsInTick = r.ReadBits(32);
        var timeScale = r.ReadBits(32);
        return unitsInTick == 0 || timeScale == 0 ? null : timeScale / (2.0 * unitsInTick);
    }

    private static void SkipScalingList(ref BitReader r, int size)
    {
        int last = 8, next = 8;
        for (var j = 0; j < size; j++)
        {
            if (next != 0)
            {
                next = (last + r.ReadSe() + 256) % 256;
            }

            last = next == 0 ? last : next;
        }
    }
}
