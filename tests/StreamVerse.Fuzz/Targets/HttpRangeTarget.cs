using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamVerse.Origin.Http;
using static StreamVerse.Origin.Http.StoredObjectWriter;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// The Range parser the routed path (live, VOD) and the fast lane share. Byte 0 picks the object's size (small, or
/// the next 8 bytes as a 63-bit size); the rest is the header value (Latin-1, as Kestrel hands a header over).
/// Invariants: no exception; a satisfiable range lies inside the object and is not empty; otherwise the whole object
/// is named; a satisfiable range, written back as <c>bytes=first-last</c>, parses to itself.
/// </summary>
internal static class HttpRangeTarget
{
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        long size = input[0];
        var header = input.AsSpan(1);
        if ((input[0] & 0x80) != 0 && header.Length >= 8)
        {
            size = BinaryPrimitives.ReadInt64BigEndian(header) & long.MaxValue;
            header = header[8..];
        }

        CheckRange(Encoding.Latin1.GetString(header), size);
    }

    internal static void CheckRange(string header, long size)
    {
        var result = TryParseRange(header, size, out var start, out var length);
        if (result != RangeResult.Satisfiable)
        {
            Check.That(start == 0 && length == size, $"{result} for '{header}' (size {size}) but start {start}, length {length}");
            return;
        }

        Check.That(size > 0 && start >= 0 && length >= 1 && start <= size - length, $"'{header}' on {size} bytes gave start {start}, length {length}");
        var again = string.Create(CultureInfo.InvariantCulture, $"bytes={start}-{start + length - 1}");
        var result2 = TryParseRange(again, size, out var start2, out var length2);
        Check.That(result2 == RangeResult.Satisfiable && start2 == start && length2 == length, $"'{again}' does not parse to itself on {size} bytes");
    }
}
