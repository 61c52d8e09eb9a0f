using System.Buffers;
using System.Text;

namespace StreamVerse.Origin.Rtmp.Amf;

/// <summary>
/// AMF0 decoder (Action Message Format AMF 0 specification). Returns false when the sequence ends inside a
/// value (the reader is then left where it was); throws <see cref="RtmpProtocolException"/> on an unknown or
/// unsupported marker, nesting deeper than <see cref="MaxDepth"/>, a string longer than <see cref="MaxStringLength"/>,
/// or more than <see cref="MaxValues"/> values in one message.
/// No allocation is sized by a length field before the bytes it announces are present, and what a message
/// decodes into is bounded by its value budget (a 1 MB strict array of nulls once became 15 MiB of lists).
/// </summary>
internal static class Amf0Reader
{
    public const int MaxDepth = 32;
    public const int MaxStringLength = 1024 * 1024;

    /// <summary>
    /// Values one message may decode into, nested ones included. connect and onMetaData from OBS and ffmpeg hold
    /// a few dozen.
    /// </summary>
    public const int MaxValues = 1024;

    private const int MaxPreallocatedItems = 256;

    /// <summary>Reads one value with a budget of <see cref="MaxValues"/> of its own.</summary>
    public static bool TryReadValue(ref SequenceReader<byte> reader, out object? value)
    {
        var budget = MaxValues;
        return TryReadValue(ref reader, ref budget, out value);
    }

    /// <summary>
    /// Reads one value; <paramref name="budget"/> is what the message may still decode (start from
    /// <see cref="MaxValues"/>) and is left as it was when false is returned.
    /// </summary>
    public static bool TryReadValue(ref SequenceReader<byte> reader, ref int budget, out object? value)
    {
        var r = reader;
        var left = budget;
        if (!TryReadValue(ref r, 0, ref left, out value))
        {
            return false;
        }

        reader = r;
        budget = left;
        return true;
    }

    /// <summary>Reads values until the sequence ends, all of them within one budget of <see cref="MaxValues"/>; false if it ends inside one.</summary>
    public static bool TryReadAll(ref SequenceReader<byte> reader, List<object?> values)
    {
        var budget = MaxValues;
        return TryReadAll(ref reader, ref budget, values);
    }

    /// <summary>Reads values until the sequence ends, within <paramref name="budget"/>; false if it ends inside one.</summary>
    public static bool TryReadAll(ref SequenceReader<byte> reader, ref int budget, List<object?> values)
    {
        var r = reader;
        var left = budget;
        var start = values.Count;
        while (!r.End)
        {
            if (!TryReadValue(ref r, 0, ref left, out var value))
            {
                values.RemoveRange(start, values.Count - start);
                return false;
            }

            values.Add(value);
        }

        reader = r;
        budget = left;
        return true;
    }

    /// <summary>
    /// Reads a command's name and transaction id (RTMP specification 1.0, §7.2.1), the two values every command
    /// starts with: false if the message does not start with a string and a number, or ends inside them. Nothing
    /// else is decoded, so a command can be refused for its name before its arguments cost anything.
    /// </summary>
    public static bool TryReadCommandHeader(ref SequenceReader<byte> reader, out string name, out double transactionId)
    {
        name = string.Empty;
        transactionId = 0;
        var r = reader;
        if (!r.TryRead(out var marker) || marker != (byte)Amf0Marker.String || !TryReadShortString(ref r, out name)
            || !r.TryRead(out marker) || marker != (byte)Amf0Marker.Number || !r.TryReadBigEndian(out long bits))
        {
            return false;
        }

        transactionId = BitConverter.Int64BitsToDouble(bits);
        reader = r;
        return true;
    }

    private static bool TryReadValue(ref SequenceReader<byte> reader, int depth, ref int budget, out object? value)
    {
        value = null;
        if (!reader.TryRead(out var marker))
        {
            return false;
        }

        if (--budget < 0)
        {
            throw new RtmpProtocolException($"More than {MaxValues} AMF0 values in one message.");
        }

        switch ((Amf0Marker)marker)
        {
            case Amf0Marker.Number:
                if (!reader.TryReadBigEndian(out long bits))
                {
                    return false;
                }

                value = BitConverter.Int64BitsToDouble(bits);
                return true;

            case Amf0Marker.Boolean:
                if (!reader.TryRead(out var b))
                {
                    return false;
                }

                value = b != 0;
                return true;

            case Amf0Marker.String:
            {
                if (!TryReadShortString(ref reader, out var s))
                {
                    return false;
                }

                value = s;
                return true;
            }

            case Amf0Marker.LongString:
            {
                if (!reader.TryReadBigEndian(out int length))
                {
                    return false;
                }

                if (!TryReadUtf8(ref reader, (uint)length, out var s))
                {
                    return false;
                }

                value = s;
                return true;
            }

            case Amf0Marker.Null:
                return true;

            case Amf0Marker.Undefined:
                value = Amf0Undefined.Value;
                return true;

            case Amf0Marker.Object:
            {
                var obj = new Amf0Object();
                if (!TryReadProperties(ref reader, depth + 1, ref budget, obj))
                {
                    return false;
                }

                value = obj;
                return true;
            }

            case Amf0Marker.EcmaArray:
            {
                // §2.10: the count is only a hint (encoders get it wrong); the object-end marker terminates.
                if (!reader.TryReadBigEndian(out int _))
                {
                    return false;
                }

                var obj = new Amf0Object(isEcmaArray: true);
                if (!TryReadProperties(ref reader, depth + 1, ref budget, obj))
                {
                    return false;
                }

                value = obj;
                return true;
            }

            case Amf0Marker.StrictArray:
            {
                if (!reader.TryReadBigEndian(out int rawCount))
                {
                    return false;
                }

                CheckDepth(depth + 1);
                var count = (uint)rawCount;

                // Each item is a value of the budget: a count beyond it is refused whatever follows.
                if (count > budget)
                {
                    throw new RtmpProtocolException($"More than {MaxValues} AMF0 values in one message.");
                }

                // Each item takes at least one byte, so a count beyond what is left cannot be satisfied yet.
                if (count > reader.Remaining)
                {
                    return false;
                }

                var list = new List<object?>((int)Math.Min(count, MaxPreallocatedItems));
                for (uint i = 0; i < count; i++)
                {
                    if (!TryReadValue(ref reader, depth + 1, ref budget, out var item))
                    {
                        return false;
                    }

                    list.Add(item);
                }

                value = list;
                return true;
            }

            case Amf0Marker.Date:
            {
                if (reader.Remaining < 10)
                {
                    return false;
                }

                reader.TryReadBigEndian(out long dateBits);
                reader.TryReadBigEndian(out short tz);
                value = new Amf0Date(BitConverter.Int64BitsToDouble(dateBits), tz);
                return true;
            }

            case Amf0Marker.ObjectEnd:
                throw new RtmpProtocolException("AMF0 object-end marker outside an object.");

            default:
                throw new RtmpProtocolException($"Unsupported AMF0 marker 0x{marker:X2}.");
        }
    }

    private static bool TryReadProperties(ref SequenceReader<byte> reader, int depth, ref int budget, Amf0Object obj)
    {
        CheckDepth(depth);
        while (true)
        {
            if (!TryReadShortString(ref reader, out var name))
            {
                return false;
            }

            if (name.Length == 0)
            {
                // An empty name followed by the object-end marker closes the object (§2.5).
                if (!reader.TryPeek(out var next))
                {
                    return false;
                }

                if (next == (byte)Amf0Marker.ObjectEnd)
                {
                    reader.Advance(1);
                    return true;
                }
            }

            if (!TryReadValue(ref reader, depth, ref budget, out var value))
            {
                return false;
            }

            obj.Properties.Add(new(name, value));
        }
    }

    private static void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new RtmpProtocolException($"AMF0 nesting deeper than {MaxDepth}.");
        }
    }

    private static bool TryReadShortString(ref SequenceReader<byte> reader, out string value)
    {
        value = string.Empty;
        return reader.TryReadBigEndian(out short length) && TryReadUtf8(ref reader, (ushort)length, out value);
    }

    private static bool TryReadUtf8(ref SequenceReader<byte> reader, uint length, out string value)
    {
        value = string.Empty;
        if (length > MaxStringLength)
        {
            throw new RtmpProtocolException($"AMF0 string of {length} bytes exceeds the {MaxStringLength}-byte limit.");
        }

        if (reader.Remaining < length)
        {
            return false;
        }

        var n = (int)length;
        if (n == 0)
        {
            return true;
        }

        var unread = reader.UnreadSpan;
        if (unread.Length >= n)
        {
            value = Encoding.UTF8.GetString(unread[..n]);
        }
        else
        {
            var rented = ArrayPool<byte>.Shared.Rent(n);
            try
            {
                reader.TryCopyTo(rented.AsSpan(0, n));
                value = Encoding.UTF8.GetString(rented, 0, n);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        reader.Advance(n);
        return true;
    }
}
