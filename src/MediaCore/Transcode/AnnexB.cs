using System.Buffers.Binary;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// H.264 byte-stream (ITU-T H.264 Annex B, what libx264 emits) to the MP4 form the segmenter takes:
/// 4-byte length-prefixed NAL units and an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1).
/// </summary>
internal static class AnnexB
{
    private const int NalSps = 7;
    private const int NalPps = 8;
    private const int NalAud = 9;

    /// <summary>Enumerates NAL units between 3- or 4-byte start codes.</summary>
    public static List<Range> Split(ReadOnlySpan<byte> stream)
    {
        var nals = new List<Range>();
        var start = -1;
        var i = 0;
        while (i + 3 <= stream.Length)
        {
            if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1)
            {
                if (start >= 0)
                {
                    var end = i;
                    if (end > start && stream[end - 1] == 0)
                    {
                        end--; // the leading zero of a 4-byte start code
                    }

                    nals.Add(start..end);
                }

                i += 3;
                start = i;
            }
            else
            {
                i++;
            }
        }

        if (start < 0)
        {
            throw new InvalidDataException("Not an H.264 Annex B byte stream (no start code).");
        }

        if (start < stream.Length)
        {
            nals.Add(start..stream.Length);
        }

        return nals;
    }

    /// <summary>avcC from the SPS and PPS in libx264's global header.</summary>
    public static byte[] ToDecoderConfigurationRecord(ReadOnlySpan<byte> extradata)
    {
        var sps = new List<byte[]>();
        var pps = new List<byte[]>();
        foreach (var r in Split(extradata))
        {
            var nal = extradata[r];
            if (nal.Length == 0)
            {
                continue;
            }

            switch (nal[0] & 0x1F)
            {
                case NalSps:
                    sps.Add(nal.ToArray());
                    break;
                case NalPps:
                    pps.Add(nal.ToArray());
                    break;
            }
        }

        if (sps.Count == 0 || pps.Count == 0 || sps[0].Length < 4)
        {
            throw new InvalidDataException("H.264 global header without SPS and PPS.");
        }

        var record = new List<byte>
        {
            1, // configurationVersion
            sps[0][1], // AVCProfileIndication
            sps[0][2], // profile_compatibility
            sps[0][3], // AVCLevelIndication
            0xFF, // reserved + lengthSizeMinusOne = 3
            (byte)(0xE0 | sps.Count),
        };
        foreach (var s in sps)
        {
            record.Add((byte)(s.Length >> 8));
            record.Add((byte)s.Length);
            record.AddRange(s);
        }

        record.Add((byte)pps.Count);
        foreach (var p in pps)
        {
            record.Add((byte)(p.Length >> 8));
            record.Add((byte)p.Length);
            record.AddRange(p);
        }

        // §5.3.3.1.2: High profiles carry chroma format and bit depths (we always encode 8-bit 4:2:0).
        if (sps[0][1] is 100 or 110 or 122 or 144)
        {
            record.Add(0xFC | 1); // chroma_format_idc = 1
            record.Add(0xF8 | 0); // bit_depth_luma_minus8
            record.Add(0xF8 | 0); // bit_depth_chroma_minus8
            record.Add(0); // numOfSequenceParameterSetExt
        }

        return [.. record];
    }

    /// <summary>
    /// One access unit to length-prefixed NALs into <paramref name="buffer"/> (grown as needed); returns the length.
    /// Parameter sets and access unit delimiters are dropped: for 'avc1' they live in the sample entry.
    /// </summary>
    public static int ToLengthPrefixed(ReadOnlySpan<byte> accessUnit, ref byte[] buffer)
    {
        var needed = accessUnit.Length + 64;
        if (buffer.Length < needed)
        {
            buffer = new byte[Math.Max(needed, buffer.Length * 2)];
        }

        var length = 0;
        foreach (var r in Split(accessUnit))
        {
            var nal = accessUnit[r];
            if (nal.Length == 0 || (nal[0] & 0x1F) is NalSps or NalPps or NalAud)
            {
                continue;
            }

            if (length + 4 + nal.Length > buffer.Length)
            {
                Array.Resize(ref buffer, (length + 4 + nal.Length) * 2);
            }

            BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), nal.Length);
            nal.CopyTo(buffer.AsSpan(length + 4));
            length += 4 + nal.Length;
        }

        return length;
    }
}
