using System.Buffers;

namespace StreamVerse.Origin.Tests.Rtmp;

/// <summary>Builds multi-segment sequences and feeds parsers the way a PipeReader would.</summary>
internal static class SequenceHelpers
{
    public delegate bool TryRead<T>(ref SequenceReader<byte> reader, out T value);

    public static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        if (parts.Length == 1)
        {
            return new ReadOnlySequence<byte>(parts[0]);
        }

        Segment? first = null;
        Segment? last = null;
        foreach (var part in parts)
        {
            var segment = new Segment(part);
            if (first is null)
            {
                first = segment;
            }
            else
            {
                last!.Append(segment);
            }

            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>Parses a whole sequence in one pass; the copy function must snapshot the value (spans die after TryRead).</summary>
    public static List<TOut> ParseAll<T, TOut>(ReadOnlySequence<byte> sequence, TryRead<T> tryRead, Func<T, TOut> copy, out long remaining)
    {
        var list = new List<TOut>();
        var reader = new SequenceReader<byte>(sequence);
        while (tryRead(ref reader, out var value))
        {
            list.Add(copy(value));
        }

        remaining = reader.Remaining;
        return list;
    }

    /// <summary>
    /// Feeds <paramref name="pieces"/> one after the other as a pipe delivers them: unconsumed bytes stay,
    /// new bytes are appended as a new segment.
    /// </summary>
    public static List<TOut> ParseIncrementally<T, TOut>(IEnumerable<byte[]> pieces, TryRead<T> tryRead, Func<T, TOut> copy)
    {
        var list = new List<TOut>();
        byte[] pending = [];
        foreach (var piece in pieces)
        {
            var sequence = pending.Length == 0 ? Segments(piece) : Segments(pending, piece);
            var reader = new SequenceReader<byte>(sequence);
            while (tryRead(ref reader, out var value))
            {
                list.Add(copy(value));
            }

            pending = sequence.Slice(reader.Position).ToArray();
        }

        return list;
    }

    public static IEnumerable<byte[]> Bytewise(byte[] data) => data.Select(b => new[] { b });

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
