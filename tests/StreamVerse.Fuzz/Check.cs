using System.Diagnostics.CodeAnalysis;

namespace StreamVerse.Fuzz;

/// <summary>
/// A target found the code under test breaking one of its invariants. Anything but the parser's documented protocol
/// exception escaping a target is a finding; this one says which invariant, where a bare assertion would not.
/// </summary>
internal sealed class InvariantViolationException(string message) : Exception(message);

internal static class Check
{
    /// <summary>Allocation every target may make whatever its input (first-use caches, the harness's own lists).</summary>
    private const long BaseAllocationBytes = 256 * 1024;

    public static void That([DoesNotReturnIf(false)] bool condition, string invariant)
    {
        if (!condition)
        {
            throw new InvariantViolationException(invariant);
        }
    }

    /// <summary>The managed bytes this thread has allocated so far; pass it to <see cref="AllocatedAtMost"/>.</summary>
    public static long AllocationMark() => GC.GetAllocatedBytesForCurrentThread();

    /// <summary>
    /// What a parser allocated since <paramref name="mark"/> is bounded by the input: at most
    /// <paramref name="bytesPerInputByte"/> per input byte on top of a fixed allowance. A length field that makes the
    /// parser allocate what it announces rather than what arrived breaks this.
    /// </summary>
    public static void AllocatedAtMost(long mark, int inputLength, int bytesPerInputByte, string what)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread() - mark;
        var budget = BaseAllocationBytes + ((long)bytesPerInputByte * inputLength);
        That(allocated <= budget, $"{what} allocated {allocated} bytes for {inputLength} input bytes (budget {budget})");
    }
}
