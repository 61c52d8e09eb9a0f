using System.Buffers;

namespace StreamVerse.Fuzz;

/// <summary>Multi-segment sequences, as a PipeReader hands a parser bytes that arrived in several reads.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Of(params ReadOnlyMemory<byte>[] parts)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var part in parts)
        {
            var segment = new Segment(part, last is null ? 0 : last.RunningIndex + last.Memory.Length);
            if (first is null)
            {
                first = segment;
            }
            else
            {
                last!.SetNext(segment);
            }

            last = segment;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary><paramref name="data"/> cut into pieces of <paramref name="size"/> bytes (the last may be shorter).</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Pieces(ReadOnlyMemory<byte> data, int size)
    {
        for (var offset = 0; offset < data.Length; offset += size)
        {
            yield return data.Slice(offset, Math.Min(size, data.Length - offset));
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
