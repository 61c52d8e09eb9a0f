using System.Buffers;
using System.Text;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// AMF0 over arbitrary bytes, read as a command or data message body is. Invariants: only
/// <see cref="RtmpProtocolException"/>; the same values (or the same error) whether the body is one segment or split
/// where byte 0 says; "ends inside a value" leaves the reader, the list and the budget as they were; the budget spent is
/// the number of values decoded; nesting, string lengths and allocation stay within the reader's limits; and the values
/// written by <see cref="Amf0Writer"/> read back equal, and write again to the same bytes.
/// </summary>
internal static class Amf0Target
{
    public static void Run(byte[] input)
    {
        var split = input.Length == 0 ? 0 : input[0] % (input.Length + 1);
        var whole = Decode(new ReadOnlySequence<byte>(input), input.Length);
        var parts = Decode(Segments.Of(input.AsMemory(0, split), input.AsMemory(split)), input.Length);
        Check.That(whole.Error == parts.Error, $"whole: error '{whole.Error}'; split at {split}: '{parts.Error}'");
        Check.That(whole.Complete == parts.Complete, $"whole: complete {whole.Complete}; split at {split}: {parts.Complete}");
        Check.That(Same(whole.Values, parts.Values), $"values differ when split at {split}");

        CommandHeader(input);

        if (whole.Complete && whole.Values.All(Reencodable))
        {
            RoundTrip(whole.Values);
        }
    }

    private static Decoded Decode(ReadOnlySequence<byte> body, int length)
    {
        var mark = Check.AllocationMark();
        var values = new List<object?>();
        var reader = new SequenceReader<byte>(body);
        var budget = Amf0Reader.MaxValues;
        try
        {
            var complete = Amf0Reader.TryReadAll(ref reader, ref budget, values);
            if (complete)
            {
                Check.That(reader.End, "TryReadAll returned true before the end");
                var count = values.Sum(CountValues);
                Check.That(Amf0Reader.MaxValues - budget == count, $"budget spent {Amf0Reader.MaxValues - budget} for {count} values");
                Check.That(values.All(v => Depth(v) <= Amf0Reader.MaxDepth), "nesting deeper than MaxDepth");
            }
            else
            {
                Check.That(reader.Consumed == 0 && values.Count == 0 && budget == Amf0Reader.MaxValues,
                    "a message that ends inside a value moved the reader, kept values or spent budget");
            }

            Check.AllocatedAtMost(mark, length, 64, "Amf0Reader.TryReadAll");
            return new Decoded(complete, values, null);
        }
        catch (RtmpProtocolException e)
        {
            Check.AllocatedAtMost(mark, length, 64, "Amf0Reader.TryReadAll");
            return new Decoded(false, [], e.Message);
        }
    }

    private static void CommandHeader(byte[] input)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
        if (Amf0Reader.TryReadCommandHeader(ref reader, out var name, out _))
        {
            // A string marker, its 16-bit length and bytes, then a number marker and 8 bytes.
            var nameBytes = (input[1] << 8) | input[2];
            Check.That(reader.Consumed == 3 + nameBytes + 9, $"the command header consumed {reader.Consumed} bytes for a {nameBytes}-byte name");
            Check.That(name.Length <= ushort.MaxValue, "a command name longer than a short string");
        }
        else
        {
            Check.That(reader.Consumed == 0, "TryReadCommandHeader returned false and moved the reader");
        }
    }

    private static void RoundTrip(List<object?> values)
    {
        var first = new ArrayBufferWriter<byte>();
        foreach (var value in values)
        {
            Amf0Writer.WriteValue(first, value);
        }

        var again = Decode(new ReadOnlySequence<byte>(first.WrittenMemory), first.WrittenCount);
        Check.That(again.Complete && again.Error is null, $"written values do not read back: {again.Error}");
        Check.That(Same(values, again.Values), "written values read back different");

        var second = new ArrayBufferWriter<byte>();
        foreach (var value in again.Values)
        {
            Amf0Writer.WriteValue(second, value);
        }

        Check.That(first.WrittenSpan.SequenceEqual(second.WrittenSpan), "writing what was read back gives other bytes");
    }

    /// <summary>
    /// Invalid UTF-8 decodes to U+FFFD, three bytes when written again: a string near a limit can come back longer
    /// than the limit (a property name over 65535 bytes cannot be written at all). Such values are not round-tripped;
    /// the server never writes a peer's names back.
    /// </summary>
    private static bool Reencodable(object? value) => value switch
    {
        string s => Encoding.UTF8.GetByteCount(s) <= Amf0Reader.MaxStringLength,
        Amf0Object o => o.Properties.All(p => Encoding.UTF8.GetByteCount(p.Key) <= ushort.MaxValue && Reencodable(p.Value)),
        List<object?> list => list.All(Reencodable),
        _ => true,
    };

    private static int CountValues(object? value) => 1 + value switch
    {
        Amf0Object o => o.Properties.Sum(p => CountValues(p.Value)),
        List<object?> list => list.Sum(CountValues),
        _ => 0,
    };

    /// <summary>Containers on the way down to the deepest value (0 for a scalar).</summary>
    private static int Depth(object? value) => value switch
    {
        Amf0Object o => 1 + o.Properties.Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
        List<object?> list => 1 + list.Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    private static bool Same(List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(p => Same(p.First, p.Second));

    private static bool Same(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        (bool x, bool y) => x == y,
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (Amf0Undefined, Amf0Undefined) => true,
        (Amf0Date x, Amf0Date y) => BitConverter.DoubleToInt64Bits(x.UnixMilliseconds) == BitConverter.DoubleToInt64Bits(y.UnixMilliseconds) && x.TimeZone == y.TimeZone,
        (Amf0Object x, Amf0Object y) => x.IsEcmaArray == y.IsEcmaArray && x.Properties.Count == y.Properties.Count
            && x.Properties.Zip(y.Properties).All(p => p.First.Key == p.Second.Key && Same(p.First.Value, p.Second.Value)),
        (List<object?> x, List<object?> y) => Same(x, y),
        _ => false,
    };

    private sealed record Decoded(bool Complete, List<object?> Values, string? Error);
}
