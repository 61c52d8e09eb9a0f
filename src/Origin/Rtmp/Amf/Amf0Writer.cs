using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace StreamVerse.Origin.Rtmp.Amf;

/// <summary>AMF0 encoder for the value model described on <see cref="Amf0Undefined"/>.</summary>
internal static class Amf0Writer
{
    public static void WriteNumber(IBufferWriter<byte> output, double value)
    {
        var span = output.GetSpan(9);
        span[0] = (byte)Amf0Marker.Number;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        output.Advance(9);
    }

    public static void WriteBoolean(IBufferWriter<byte> output, bool value)
    {
        var span = output.GetSpan(2);
        span[0] = (byte)Amf0Marker.Boolean;
        span[1] = value ? (byte)1 : (byte)0;
        output.Advance(2);
    }

    /// <summary>Writes a string, or a long string (§2.14) when its UTF-8 form exceeds 65535 bytes.</summary>
    public static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            var span = output.GetSpan(5);
            span[0] = (byte)Amf0Marker.LongString;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            output.Advance(5);
        }
        else
        {
            var span = output.GetSpan(3);
            span[0] = (byte)Amf0Marker.String;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            output.Advance(3);
        }

        WriteUtf8(output, value, length);
    }

    public static void WriteNull(IBufferWriter<byte> output) => WriteMarker(output, Amf0Marker.Null);

    public static void WriteUndefined(IBufferWriter<byte> output) => WriteMarker(output, Amf0Marker.Undefined);

    public static void WriteObject(IBufferWriter<byte> output, Amf0Object value)
    {
        if (value.IsEcmaArray)
        {
            var span = output.GetSpan(5);
            span[0] = (byte)Amf0Marker.EcmaArray;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value.Properties.Count);
            output.Advance(5);
        }
        else
        {
            WriteMarker(output, Amf0Marker.Object);
        }

        foreach (var property in value.Properties)
        {
            WritePropertyName(output, property.Key);
            WriteValue(output, property.Value);
        }

        // Empty name + object-end marker (§2.5).
        var end = output.GetSpan(3);
        end[0] = 0;
        end[1] = 0;
        end[2] = (byte)Amf0Marker.ObjectEnd;
        output.Advance(3);
    }

    public static void WriteStrictArray(IBufferWriter<byte> output, IReadOnlyList<object?> items)
    {
        var span = output.GetSpan(5);
        span[0] = (byte)Amf0Marker.StrictArray;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)items.Count);
        output.Advance(5);
        foreach (var item in items)
        {
            WriteValue(output, item);
        }
    }

    public static void WriteDate(IBufferWriter<byte> output, Amf0Date value)
    {
        var span = output.GetSpan(11);
        span[0] = (byte)Amf0Marker.Date;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value.UnixMilliseconds);
        BinaryPrimitives.WriteInt16BigEndian(span[9..], value.TimeZone);
        output.Advance(11);
    }

    public static void WriteValue(IBufferWriter<byte> output, object? value)
    {
        switch (value)
        {
            case null:
                WriteNull(output);
                break;
            case double d:
                WriteNumber(output, d);
                break;
            case int i:
                WriteNumber(output, i);
                break;
            case long l:
                WriteNumber(output, l);
                break;
            case bool b:
                WriteBoolean(output, b);
                break;
            case string s:
                WriteString(output, s);
                break;
            case Amf0Undefined:
                WriteUndefined(output);
                break;
            case Amf0Object o:
                WriteObject(output, o);
                break;
            case Amf0Date date:
                WriteDate(output, date);
                break;
            case IReadOnlyList<object?> list:
                WriteStrictArray(output, list);
                break;
            default:
                throw new ArgumentException($"No AMF0 encoding for {value.GetType().Name}.", nameof(value));
        }
    }

    private static void WritePropertyName(IBufferWriter<byte> output, string name)
    {
        var length = Encoding.UTF8.GetByteCount(name);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException("AMF0 property names are limited to 65535 UTF-8 bytes.", nameof(name));
        }

        var span = output.GetSpan(2);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
        output.Advance(2);
        WriteUtf8(output, name, length);
    }

    private static void WriteUtf8(IBufferWriter<byte> output, string value, int length)
    {
        if (length == 0)
        {
            return;
        }

        var span = output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        output.Advance(length);
    }

    private static void WriteMarker(IBufferWriter<byte> output, Amf0Marker marker)
    {
        output.GetSpan(1)[0] = (byte)marker;
        output.Advance(1);
    }
}
