using CsCheck;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>
/// A publisher's codec configuration is untrusted bytes: whatever it sends, the parsers either describe a picture the
/// rest of the path can take or throw <see cref="InvalidDataException"/>, which the ingest logs as a bad configuration.
/// </summary>
public sealed class CodecConfigPropertyTests
{
    [Fact]
    public void A_record_that_ends_inside_the_sps_length_is_invalid_data()
    {
        var valid = TestStreams.Configs().AvcC;
        for (var cut = 0; cut < 12; cut++)
        {
            Assert.Throws<InvalidDataException>(() => AvcConfig.Parse(valid.AsSpan(0, cut)));
        }
    }

    [Fact]
    public void A_made_up_sps_gives_its_size()
    {
        var config = AvcConfig.Parse(Record(Sps(widthMbs: 20, heightMbs: 15)));
        Assert.Equal((320, 240), (config.Width, config.Height));
        config = AvcConfig.Parse(Record(Sps(widthMbs: 1, heightMbs: 1)));
        Assert.Equal((16, 16), (config.Width, config.Height));
        config = AvcConfig.Parse(Record(Sps(widthMbs: 120, heightMbs: 68, crop: (0, 0, 0, 4))));
        Assert.Equal((1920, 1080), (config.Width, config.Height));
    }

    [Theory]
    [InlineData(1, 1, 100, 0, 0, 0)] // 16 - 2 * 100 = -184 wide
    [InlineData(1, 1, 0, 0, 0, 100)]
    [InlineData(1, 1, 1, 0, 0, 0)] // 14 wide: below the smallest picture taken
    [InlineData(20, 15, 200, 0, 0, 0)] // cropped to nothing
    [InlineData(513, 15, 0, 0, 0, 0)] // 8208 wide
    [InlineData(20, 600, 0, 0, 0, 0)] // 9600 high
    [InlineData(20, 15, 2147483647, 2147483647, 0, 0)] // crop sums that overflow 32 bits
    public void A_size_no_picture_has_after_cropping_is_invalid_data(int widthMbs, int heightMbs, int left, int right, int top, int bottom)
    {
        var record = Record(Sps(widthMbs, heightMbs, ((uint)left, (uint)right, (uint)top, (uint)bottom)));
        Assert.Throws<InvalidDataException>(() => AvcConfig.Parse(record));
    }

    [Fact]
    public void Property_random_and_mutated_avc_records_give_a_sane_size_or_invalid_data()
    {
        byte[][] fixtures = [TestStreams.Configs().AvcC, Record(Sps(20, 15, (1, 1, 1, 1))), Record(Sps(80, 45))];
        Gen.OneOf(Gen.Byte.Array[0, 64], Mutated(fixtures)).Sample(record =>
        {
            try
            {
                var config = AvcConfig.Parse(record);
                return config.Width is >= AvcConfig.MinSize and <= AvcConfig.MaxSize && config.Height is >= AvcConfig.MinSize and <= AvcConfig.MaxSize;
            }
            catch (InvalidDataException)
            {
                return true;
            }
        }, iter: 20_000);
    }

    [Fact]
    public void Property_random_and_mutated_audio_specific_configs_give_a_config_or_invalid_data()
    {
        byte[][] fixtures = [TestStreams.Configs().Asc, [0x11, 0x90], [0x12, 0x08], [0xF8, 0x1F, 0xFF, 0xFF, 0x80]];
        Gen.OneOf(Gen.Byte.Array[0, 16], Mutated(fixtures)).Sample(asc =>
        {
            try
            {
                var config = AacConfig.Parse(asc);
                return config.SampleRate > 0 && config.Channels is >= 1 and <= 8;
            }
            catch (InvalidDataException)
            {
                return true;
            }
        }, iter: 20_000);
    }

    [Fact]
    public void Property_the_bit_reader_only_ever_runs_out_of_data()
    {
        var ops = Gen.Select(Gen.Int[0, 4], Gen.Int[0, 32]).Array[1, 64];
        Gen.Select(Gen.Byte.Array[0, 32], ops).Sample((data, program) =>
        {
            var r = new BitReader(BitReader.Unescape(data));
            try
            {
                foreach (var (op, n) in program)
                {
                    _ = op switch
                    {
                        0 => r.ReadBits(n),
                        1 => r.ReadUe(),
                        2 => (uint)r.ReadSe(),
                        3 => r.ReadBit(),
                        _ => Skip(ref r, n),
                    };
                }
            }
            catch (InvalidDataException)
            {
            }
        }, iter: 20_000);

        static uint Skip(ref BitReader r, int n)
        {
            r.Skip(n);
            return 0;
        }
    }

    /// <summary>One of <paramref name="fixtures"/> with up to three bytes changed and possibly cut short.</summary>
    private static Gen<byte[]> Mutated(byte[][] fixtures) =>
        Gen.Int[0, fixtures.Length - 1].SelectMany(f => Gen.Select(Gen.Select(Gen.Int[0, fixtures[f].Length - 1], Gen.Byte).Array[1, 3], Gen.Int[0, fixtures[f].Length], (edits, cut) =>
        {
            var copy = (byte[])fixtures[f].Clone();
            foreach (var (at, value) in edits)
            {
                copy[at] = value;
            }

            return copy[..cut];
        }));

    /// <summary>An AVCDecoderConfigurationRecord with one SPS and one PPS (ISO/IEC 14496-15 §5.3.3.1).</summary>
    internal static byte[] Record(byte[] sps)
    {
        byte[] pps = [0x68, 0xCE, 0x38, 0x80];
        return [1, sps[1], sps[2], sps[3], 0xFF, 0xE1, (byte)(sps.Length >> 8), (byte)sps.Length, .. sps, 1, 0, (byte)pps.Length, .. pps];
    }

    /// <summary>A Baseline-profile SPS NAL unit (ITU-T H.264 §7.3.2.1.1) of the given size in macroblocks and frame cropping.</summary>
    internal static byte[] Sps(int widthMbs, int heightMbs, (uint Left, uint Right, uint Top, uint Bottom)? crop = null)
    {
        var w = new BitWriter();
        w.Bits(66, 8); // profile_idc: Baseline (no chroma_format_idc: 4:2:0)
        w.Bits(0xC0, 8); // constraint flags
        w.Bits(30, 8); // level_idc
        w.Ue(0); // seq_parameter_set_id
        w.Ue(0); // log2_max_frame_num_minus4
        w.Ue(2); // pic_order_cnt_type
        w.Ue(1); // max_num_ref_frames
        w.Bits(0, 1); // gaps_in_frame_num_value_allowed_flag
        w.Ue((uint)widthMbs - 1);
        w.Ue((uint)heightMbs - 1);
        w.Bits(1, 1); // frame_mbs_only_flag
        w.Bits(1, 1); // direct_8x8_inference_flag
        w.Bits(crop is null ? 0u : 1u, 1);
        if (crop is { } c)
        {
            w.Ue(c.Left);
            w.Ue(c.Right);
            w.Ue(c.Top);
            w.Ue(c.Bottom);
        }

        w.Bits(0, 1); // vui_parameters_present_flag
        w.Bits(1, 1); // rbsp_stop_one_bit
        return [0x67, .. Escape(w.ToArray())];
    }

    /// <summary>Emulation prevention (H.264 §7.4.1): 00 00 followed by 00-03 gets a 03 between.</summary>
    private static byte[] Escape(byte[] rbsp)
    {
        var output = new List<byte>();
        var zeros = 0;
        foreach (var b in rbsp)
        {
            if (zeros >= 2 && b <= 3)
            {
                output.Add(3);
                zeros = 0;
            }

            output.Add(b);
            zeros = b == 0 ? zeros + 1 : 0;
        }

        return [.. output];
    }

    private sealed class BitWriter
    {
        private readonly List<byte> _bytes = [];
        private int _bit;

        public void Bits(ulong value, int count)
        {
            for (var i = count - 1; i >= 0; i--)
            {
                if (_bit == 0)
                {
                    _bytes.Add(0);
                }

                _bytes[^1] |= (byte)(((value >> i) & 1) << (7 - _bit));
                _bit = (_bit + 1) & 7;
            }
        }

        /// <summary>ue(v): codeNum + 1 in binary, after as many zeros as it has bits less one.</summary>
        public void Ue(uint value)
        {
            var code = (ulong)value + 1;
            var bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(code);
            Bits(0, bits - 1);
            Bits(code, bits);
        }

        public byte[] ToArray() => [.. _bytes];
    }
}
