using System.Buffers.Binary;

namespace StreamVerse.Segmenter.Fmp4;

/// <summary>
/// Big-endian writer for ISO BMFF boxes over a caller-provided span. Box sizes are patched in
/// <see cref="EndBox"/>, so nested boxes need no size precomputation.
/// </summary>
internal ref struct BoxWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public BoxWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public void U8(int value) => _buffer[_position++] = (byte)value;

    public void U16(int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)value);
        _position += 2;
    }

    public void U24(int value)
    {
        _buffer[_position] = (byte)(value >> 16);
        _buffer[_position + 1] = (byte)(value >> 8);
        _buffer[_position + 2] = (byte)value;
        _position += 3;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void I32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>A four-character code; <paramref name="code"/> must be 4 ASCII characters.</summary>
    public void FourCC(string code)
    {
        for (var i = 0; i < 4; i++)
        {
            _buffer[_position + i] = (byte)code[i];
        }

        _position += 4;
    }

    public void Zeros(int count)
    {
        _buffer.Slice(_position, count).Clear();
        _position += count;
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    public int StartBox(string type)
    {
        var start = _position;
        _position += 4;
        FourCC(type);
        return start;
    }

    public int StartFullBox(string type, int version, int flags)
    {
        var start = StartBox(type);
        U8(version);
        U24(flags);
        return start;
    }

    public readonly void EndBox(int start) =>
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[start..], (uint)(_position - start));
}
