namespace StreamVerse.Segmenter.Media;

/// <summary>
/// MSB-first bit reader over an RBSP (emulation-prevention bytes already removed), with the
/// Exp-Golomb codes of ITU-T H.264 §9.1. Reading past the end throws <see cref="InvalidDataException"/>.
/// </summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _bit;

    public BitReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _bit = 0;
    }

    public uint ReadBits(int count)
    {
        uint value = 0;
        for (var i = 0; i < count; i++)
        {
            value = (value << 1) | ReadBit();
        }

        return value;
    }

    public uint ReadBit()
    {
        var index = _bit >> 3;
        if (index >= _data.Length)
        {
            throw new InvalidDataException("Bitstream ended early.");
        }

        var bit = (uint)(_data[index] >> (7 - (_bit & 7))) & 1;
        _bit++;
        return bit;
    }

    public bool ReadFlag() => ReadBit() == 1;

    public void Skip(int count)
    {
        for (var i = 0; i < count; i++)
        {
            ReadBit();
        }
    }

    /// <summary>ue(v).</summary>
    public uint ReadUe()
    {
        var leadingZeros = 0;
        while (ReadBit() == 0)
        {
            if (++leadingZeros > 31)
            {
                throw new InvalidDataException("Exp-Golomb code too long.");
            }
        }

        return leadingZeros == 0 ? 0 : (uint)((1UL << leadingZeros) - 1 + ReadBits(leadingZeros));
    }

    /// <summary>se(v).</summary>
    public int ReadSe()
    {
        var k = ReadUe();
        return (k & 1) == 1 ? (int)((k + 1) / 2) : -(int)(k / 2);
    }

    /// <summary>Removes emulation-prevention bytes (00 00 03 -> 00 00), H.264 §7.4.1.</summary>
    public static byte[] Unescape(ReadOnlySpan<byte> nal)
    {
        var result = new byte[nal.Length];
        var length = 0;
        var zeros = 0;
        foreach (var b in nal)
        {
            if (zeros >= 2 && b == 3)
            {
                zeros = 0;
                continue;
            }

            zeros = b == 0 ? zeros + 1 : 0;
            result[length++] = b;
        }

        return result.AsSpan(0, length).ToArray();
    }
}
