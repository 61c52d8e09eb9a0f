using System.Buffers.Binary;
using System.Text;
using StreamVerse.Origin.Edge;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// An upstream response's Cache-Control and Age, as the edge reads them. Bytes 0-3 are the Age in seconds (HttpClient
/// parses Age as a non-negative 32-bit count); the rest is the Cache-Control value (Latin-1). Invariants: no
/// exception; a storable policy is fresh for some positive time and never has a negative stale allowance, a policy
/// that is not storable is <see cref="CachePolicy.DoNotStore"/>; what the edge forwards is printable ASCII of at most
/// <see cref="CachePolicy.MaxForwardedLength"/> characters (or the origin's own value), and when the edge rewrote it,
/// it reads back to the same policy.
/// </summary>
internal static class CachePolicyTarget
{
    public static void Run(byte[] input)
    {
        if (input.Length < 4)
        {
            return;
        }

        var age = TimeSpan.FromSeconds(BinaryPrimitives.ReadInt32BigEndian(input) & int.MaxValue);
        var cacheControl = Encoding.Latin1.GetString(input.AsSpan(4));

        var mark = Check.AllocationMark();
        var policy = CachePolicy.From(cacheControl, age);
        Check.AllocatedAtMost(mark, input.Length, 64, "CachePolicy.From");
        Check.That(policy.Storable ? policy.FreshFor > TimeSpan.Zero && policy.StaleIfError >= TimeSpan.Zero : policy == CachePolicy.DoNotStore,
            $"'{cacheControl}' (age {age}) gave {policy}");

        var forwarded = policy.Forwarded(cacheControl, age);
        Check.That(forwarded.Length <= CachePolicy.MaxForwardedLength && !forwarded.AsSpan().ContainsAnyExceptInRange(' ', '~'),
            $"forwarded Cache-Control '{forwarded}'");
        if (!ReferenceEquals(forwarded, cacheControl))
        {
            var again = CachePolicy.From(forwarded, age);
            Check.That(again == policy, $"the rewritten '{forwarded}' reads as {again}, not {policy}");
        }
    }
}
