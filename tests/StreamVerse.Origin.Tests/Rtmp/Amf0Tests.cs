using System.Buffers;
using CsCheck;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;
using static StreamVerse.Origin.Tests.Rtmp.SequenceHelpers;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class Amf0Tests
{
    internal static byte[] Encode(params object?[] values)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var value in values)
        {
            Amf0Writer.WriteValue(output, value);
        }

        return output.WrittenSpan.ToArray();
    }

    private static object?[] SampleValues() =>
    [
        "connect",
        1d,
        new Amf0Object()
            .Add("app", "live")
            .Add("tcUrl", "rtmp://127.0.0.1:1935/live")
            .Add("fpad", false)
            .Add("audioCodecs", 3575d)
            .Add("nested", new Amf0Object().Add("deep", new Amf0Object().Add("x", null)))
            .Add("", "empty name"),
        null,
        Amf0Undefined.Value,
        new Amf0Object(isEcmaArray: true).Add("width", 320d).Add("height", 240d).Add("framerate", 25d),
        new List<object?> { 1d, "two", true, null, new List<object?>() },
        new Amf0Date(1_700_000_000_000d, 0),
        new string('é', 40_000), // 80,000 UTF-8 bytes -> long string
        -0.5,
        double.NaN,
    ];

    [Fact]
    public void Round_trip_of_every_type()
    {
        var values = SampleValues();
        var bytes = Encode(values);
        var decoded = new List<object?>();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(Amf0Reader.TryReadAll(ref reader, decoded));
        Assert.Equal(values.Length, decoded.Count);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.True(AmfEquals(values[i], decoded[i]), $"value {i}");
        }
    }

    [Fact]
    public void Every_split_point_gives_the_same_values()
    {
        // Small values only so that the byte-at-a-time pass stays quick.
        object?[] values = [.. SampleValues().Where(v => v is not string { Length: > 100 })];
        var bytes = Encode(values);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var two = ParseAll<object?, object?>(Segments(bytes[..split], bytes[split..]), Amf0Reader.TryReadValue, v => v, out var remaining);
            Assert.Equal(0, remaining);
            AssertAllEqual(values, two);
            AssertAllEqual(values, ParseIncrementally<object?, object?>([bytes[..split], bytes[split..]], Amf0Reader.TryReadValue, v => v));
        }

        AssertAllEqual(values, ParseIncrementally<object?, object?>(Bytewise(bytes), Amf0Reader.TryReadValue, v => v));
    }

    [Fact]
    public void Nesting_bomb_throws()
    {
        var bytes = new List<byte>();
        for (var i = 0; i < 10_000; i++)
        {
            bytes.AddRange([0x03, 0x00, 0x01, (byte)'a']);
        }

        AssertThrowsProtocol(bytes.ToArray());
        AssertThrowsProtocol([.. Enumerable.Repeat<byte[]>([0x0A, 0, 0, 0, 1], 10_000).SelectMany(b => b)]);
    }

    [Fact]
    public void Huge_counts_and_lengths_do_not_allocate_up_front()
    {
        // Strict array claiming 4 billion items (over the value budget), long string claiming 4 GiB: protocol errors.
        AssertThrowsProtocol([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05]);

        // A count within the budget but beyond the bytes present: need-more-data, nothing consumed.
        byte[] strict = [0x0A, 0x00, 0x00, 0x03, 0xE8, 0x05];
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(strict));
        Assert.False(Amf0Reader.TryReadValue(ref reader, out _));
        Assert.Equal(0, reader.Consumed);

        byte[] longString = [0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0x41];
        AssertThrowsProtocol(longString);
    }

    public static TheoryData<string, byte[]> ValueBombs => new()
    {
        // 1 MB of strict array of nulls once decoded into 15 MiB of lists.
        { "strict array of a million nulls", [0x0A, 0x00, 0x0F, 0x42, 0x40, .. Enumerable.Repeat((byte)0x05, 1_000_000)] },
        { "object of 2,000 null properties", [0x03, .. Enumerable.Repeat<byte[]>([0x00, 0x01, (byte)'a', 0x05], 2000).SelectMany(b => b), 0x00, 0x00, 0x09] },
        { "2,000 top-level numbers", [.. Enumerable.Repeat<byte[]>([0x00, 0, 0, 0, 0, 0, 0, 0, 0], 2000).SelectMany(b => b)] },
        { "2,000 empty objects", [.. Enumerable.Repeat<byte[]>([0x03, 0x00, 0x00, 0x09], 2000).SelectMany(b => b)] },
    };

    [Fact]
    public void A_message_of_exactly_the_value_budget_decodes()
    {
        // One strict array of MaxValues - 1 nulls: the array and its items are MaxValues values.
        var count = Amf0Reader.MaxValues - 1;
        byte[] bytes = [0x0A, 0, 0, (byte)(count >> 8), (byte)count, .. Enumerable.Repeat((byte)0x05, count)];
        var values = new List<object?>();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(Amf0Reader.TryReadAll(ref reader, values));
        Assert.Equal(count, Assert.IsType<List<object?>>(Assert.Single(values)).Count);
        AssertThrowsProtocol([.. bytes[..3], (byte)((count + 1) >> 8), (byte)(count + 1), .. bytes[5..], 0x05]);
    }

    [Theory]
    [MemberData(nameof(ValueBombs))]
    public void Values_per_message_are_bounded(string name, byte[] bytes)
    {
        Assert.NotNull(name);
        var values = new List<object?>();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<RtmpProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            Amf0Reader.TryReadAll(ref reader, values);
        });
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 256 * 1024, $"{allocated:N0} bytes allocated decoding {bytes.Length:N0} bytes");
    }

    [Theory]
    [InlineData(new byte[] { 0x09 })]
    [InlineData(new byte[] { 0x07, 0x00, 0x01 })]
    [InlineData(new byte[] { 0x11 })]
    [InlineData(new byte[] { 0x20 })]
    public void Unsupported_markers_throw(byte[] bytes) => AssertThrowsProtocol(bytes);

    private static void AssertThrowsProtocol(byte[] bytes) => Assert.Throws<RtmpProtocolException>(() =>
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Amf0Reader.TryReadValue(ref reader, out _);
    });

    // No lone surrogates: they do not survive UTF-8 by design.
    private static readonly Gen<string> GenText = Gen.Char["abcXYZ09 _-?/éü€中"].Array[0, 12].Select(a => new string(a));

    private static Gen<object?> GenValue(int depth)
    {
        var leaf = Gen.OneOf(
            Gen.Double.Select(d => (object?)d),
            Gen.Bool.Select(b => (object?)b),
            GenText.Select(s => (object?)s),
            Gen.Bool.Select(_ => (object?)null),
            Gen.Const<object?>(Amf0Undefined.Value),
            Gen.Select(Gen.Double, Gen.Short, (ms, tz) => (object?)new Amf0Date(ms, tz)));
        if (depth == 0)
        {
            return leaf;
        }

        var inner = GenValue(depth - 1);
        var obj = Gen.Select(Gen.Bool, Gen.Select(GenText, inner).Array[0, 4], (ecma, props) =>
        {
            var o = new Amf0Object(ecma);
            foreach (var (k, v) in props)
            {
                o.Add(k, v);
            }

            return (object?)o;
        });
        var list = inner.List[0, 4].Select(l => (object?)l);
        return Gen.OneOf(leaf, obj, list);
    }

    [Fact]
    public void Property_encode_decode_round_trip()
    {
        GenValue(3).Sample(value =>
        {
            var bytes = Encode(value);
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            Assert.True(Amf0Reader.TryReadValue(ref reader, out var decoded));
            Assert.True(reader.End);
            Assert.True(AmfEquals(value, decoded));
        }, iter: 2000);
    }

    [Fact]
    public void Property_random_and_mutated_bytes_only_yield_values_need_more_data_or_protocol_errors()
    {
        var valid = Encode(SampleValues()[..8]);
        var mutated = Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length], (i, b, cut) =>
        {
            var copy = (byte[])valid.Clone();
            copy[i] = b;
            return copy[..cut];
        });
        var inputs = Gen.OneOf(Gen.Byte.Array[0, 512], mutated);
        inputs.Sample(bytes =>
        {
            var values = new List<object?>();
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            try
            {
                Amf0Reader.TryReadAll(ref reader, values);
            }
            catch (RtmpProtocolException)
            {
            }
        }, iter: 5000);
    }

    private static void AssertAllEqual(IReadOnlyList<object?> expected, IReadOnlyList<object?> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(AmfEquals(expected[i], actual[i]), $"value {i}");
        }
    }

    internal static bool AmfEquals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        (Amf0Date x, Amf0Date y) => BitConverter.DoubleToInt64Bits(x.UnixMilliseconds) == BitConverter.DoubleToInt64Bits(y.UnixMilliseconds) && x.TimeZone == y.TimeZone,
        (Amf0Object x, Amf0Object y) => x.IsEcmaArray == y.IsEcmaArray && x.Properties.Count == y.Properties.Count
            && x.Properties.Zip(y.Properties).All(p => p.First.Key == p.Second.Key && AmfEquals(p.First.Value, p.Second.Value)),
        (IReadOnlyList<object?> x, IReadOnlyList<object?> y) => x.Count == y.Count && x.Zip(y).All(p => AmfEquals(p.First, p.Second)),
        _ => Equals(a, b),
    };
}
