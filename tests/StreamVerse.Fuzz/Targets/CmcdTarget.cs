using StreamVerse.Origin.Audience;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// CMCD (CTA-5004) as players and anyone else send it: byte 0 picks the source (bit 0: a query, else a header value; bit
/// 1: the rest again as a second header), the rest is the query or header value. Invariants: no exception; nothing
/// allocated at all; every number the spec allows only as non-negative is -1 (absent) or at least 0; the object type
/// is one of its names; the same input reads the same twice; a query's decoded value reads as that value in a header.
/// </summary>
internal static class CmcdTarget
{
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var mode = input[0];
        var rest = input.AsSpan(1);
        var mark = Check.AllocationMark();
        var first = Read(mode, rest);
        var again = Read(mode, rest);
        _ = Cmcd.PercentOnlyInCmcd(rest);
        _ = Cmcd.OnlyCmcd(rest);
        Check.That(GC.GetAllocatedBytesForCurrentThread() - mark == 0, "reading CMCD allocated");

        Check.That(first.Equals(again), "the same input read differently twice");
        foreach (var value in new[] { first.Bitrate, first.BufferLength, first.Duration, first.Deadline, first.MeasuredThroughput, first.RequestedThroughput, first.TopBitrate, first.PlaybackRateMilli, first.Version })
        {
            Check.That(value >= -1, $"a number below -1: {value}");
        }

        Check.That(Enum.IsDefined(first.ObjectType), $"object type {(int)first.ObjectType}");
        Check.That(first.StreamingFormat is 0 or (byte)'d' or (byte)'h' or (byte)'s' or (byte)'o', $"sf {first.StreamingFormat}");
        Check.That(first.StreamType is 0 or (byte)'v' or (byte)'l', $"st {first.StreamType}");

        if ((mode & 1) != 0 && Cmcd.TryFindQueryValue(rest, out var encoded))
        {
            Span<byte> decoded = stackalloc byte[Cmcd.MaxBytes];
            var header = new CmcdValues();
            Cmcd.ReadHeader(decoded[..Cmcd.PercentDecode(encoded, decoded)], ref header);
            var query = new CmcdValues();
            Cmcd.ReadQuery(rest, ref query);
            Check.That(header.Equals(query), "a query read differently from its decoded value as a header");
        }
    }

    private static CmcdValues Read(byte mode, ReadOnlySpan<byte> rest)
    {
        var values = new CmcdValues();
        if ((mode & 1) != 0)
        {
            Cmcd.ReadQuery(rest, ref values);
        }
        else
        {
            Cmcd.ReadHeader(rest, ref values);
        }

        if ((mode & 2) != 0)
        {
            Cmcd.ReadHeader(rest, ref values);
        }

        return values;
    }
}
