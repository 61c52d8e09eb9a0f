using System.Buffers;
using System.Buffers.Binary;

namespace StreamVerse.Origin.Rtmp.Chunks;

/// <summary>
/// Writes messages as chunks (RTMP specification 1.0, §5.3), choosing the smallest header type the previous
/// message on the same chunk stream allows, and repeating the extended timestamp on type 3 chunks (§5.3.1.3).
/// </summary>
internal sealed class RtmpChunkWriter
{
    private const uint TimestampEscape = 0xFFFFFF;
    private readonly Dictionary<int, Previous> _previous = [];
    private int _chunkSize = RtmpChunkReader.DefaultChunkSize;

    /// <summary>The chunk size this side announced with Set Chunk Size.</summary>
    public int ChunkSize
    {
        get => _chunkSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _chunkSize = value;
        }
    }

    /// <summary>When false every message starts with a type 0 header.</summary>
    public bool CompressHeaders { get; init; } = true;

    public void Write(IBufferWriter<byte> output, int chunkStreamId, byte typeId, uint streamId, uint timestamp, ReadOnlySpan<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkStreamId, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkStreamId, 65599);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, 0xFFFFFF);

        var hasPrevious = _previous.TryGetValue(chunkStreamId, out var prev);
        var delta = unchecked(timestamp - prev.Timestamp);
        int fmt;
        if (!CompressHeaders || !hasPrevious || prev.StreamId != streamId || timestamp < prev.Timestamp)
        {
            fmt = 0;
        }
        else if (prev.Length != payload.Length || prev.TypeId != typeId)
        {
            fmt = 1;
        }
        else if (prev.Field != delta)
        {
            fmt = 2;
        }
        else
        {
            fmt = 3;
        }

        var field = fmt == 0 ? timestamp : delta;
        var extended = field >= TimestampEscape;

        var span = output.GetSpan(18);
        var n = WriteBasicHeader(span, fmt, chunkStreamId);
        if (fmt <= 2)
        {
            WriteUInt24(span[n..], extended ? TimestampEscape : field);
            n += 3;
        }

        if (fmt <= 1)
        {
            WriteUInt24(span[n..], (uint)payload.Length);
            span[n + 3] = typeId;
            n += 4;
        }

        if (fmt == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[n..], streamId);
            n += 4;
        }

        if (extended)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span[n..], field);
            n += 4;
        }

        output.Advance(n);
        _previous[chunkStreamId] = new Previous(timestamp, field, payload.Length, typeId, streamId);

        var offset = 0;
        while (true)
        {
            var size = Math.Min(_chunkSize, payload.Length - offset);
            output.Write(payload.Slice(offset, size));
            offset += size;
            if (offset >= payload.Length)
            {
                break;
            }

            span = output.GetSpan(8);
            n = WriteBasicHeader(span, 3, chunkStreamId);
            if (extended)
            {
                BinaryPrimitives.WriteUInt32BigEndian(span[n..], field);
                n += 4;
            }

            output.Advance(n);
        }
    }

    private static int WriteBasicHeader(Span<byte> span, int fmt, int csid)
    {
        if (csid < 64)
        {
            span[0] = (byte)((fmt << 6) | csid);
            return 1;
        }

        if (csid < 320)
        {
            span[0] = (byte)(fmt << 6);
            span[1] = (byte)(csid - 64);
            return 2;
        }

        span[0] = (byte)((fmt << 6) | 1);
        span[1] = (byte)((csid - 64) & 0xFF);
        span[2] = (byte)((csid - 64) >> 8);
        return 3;
    }

    private static void WriteUInt24(Span<byte> span, uint value)
    {
        span[0] = (byte)(value >> 16);
        span[1] = (byte)(value >> 8);
        span[2] = (byte)value;
    }

    private readonly record struct Previous(uint Timestamp, uint Field, int Length, byte TypeId, uint StreamId);
}
