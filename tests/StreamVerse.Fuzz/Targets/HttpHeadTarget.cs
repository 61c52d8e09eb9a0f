using System.Buffers;
using System.Reflection;
using System.Text;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Http.FastLane;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// The fast lane's request-head parser over arbitrary bytes, then the header values it passes on (Range,
/// If-None-Match, Accept-Encoding) through the parsers the lane hands them to. Invariants: no exception at all (what
/// the lane does not understand is Kestrel's); the same result whether the bytes are one segment or two (split where
/// byte 0 says); a parsed head ends at its CRLF CRLF within <see cref="Http1RequestHead.MaxHeadBytes"/> and has a Host
/// Kestrel takes (the lane must not answer what the routed path refuses); its path is
/// origin-form, visible ASCII without '%', '#', dot or empty segments; values are within
/// <see cref="Http1RequestHead.MaxValueBytes"/>; the parse allocates (almost) nothing.
/// </summary>
internal static class HttpHeadTarget
{
    private static readonly long[] ObjectSizes = [0, 1, 4096, long.MaxValue];

    /// <summary>Field-value bytes the lane takes (RFC 9110 §5.5 without obs-text).</summary>
    private static readonly SearchValues<byte> VisibleOrTab = SearchValues.Create([(byte)'\t', .. Enumerable.Range(0x20, 0x7F - 0x20).Select(b => (byte)b)]);

    public static void Run(byte[] input)
    {
        var split = input.Length == 0 ? 0 : input[0] % (input.Length + 1);
        var scratch = new byte[Http1RequestHead.MaxHeadBytes];

        var mark = Check.AllocationMark();
        var status = Http1RequestHead.TryRead(new ReadOnlySequence<byte>(input), scratch, out var head, out var consumed);
        Check.AllocatedAtMost(mark, 0, 0, "Http1RequestHead.TryRead");
        var whole = Snapshot(status, head, consumed);
        var status2 = Http1RequestHead.TryRead(Segments.Of(input.AsMemory(0, split), input.AsMemory(split)), scratch, out var head2, out var consumed2);
        var parts = Snapshot(status2, head2, consumed2);
        Check.That(whole == parts, $"whole: {whole}; split at {split}: {parts}");

        if (status != HeadStatus.Parsed)
        {
            return;
        }

        Check.That(consumed <= input.Length && consumed <= Http1RequestHead.MaxHeadBytes && input.AsSpan(0, consumed).EndsWith("\r\n\r\n"u8),
            $"a head of {consumed} bytes that does not end in CRLF CRLF");
        var path = head.Path;
        Check.That(!path.IsEmpty && path[0] == '/' && !path.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E) && !path.Contains((byte)'%') && !path.Contains((byte)'#')
            && path.IndexOf("/."u8) < 0 && path.IndexOf("//"u8) < 0, $"path '{Encoding.Latin1.GetString(path)}'");
        Check.That(!head.Query.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E), "a query with bytes outside visible ASCII");
        CheckValue(head.Host);
        Check.That(KestrelTakesHost(Latin1(head.Host)), $"Host '{Latin1(head.Host)}' taken by the lane; Kestrel answers 400 Invalid Host header");
        CheckValue(head.Range);
        CheckValue(head.IfRange);
        CheckValue(head.IfNoneMatch);
        CheckValue(head.AcceptEncoding);

        // What Http1FastLane does with the values it took.
        var range = Encoding.Latin1.GetString(head.Range);
        foreach (var size in ObjectSizes)
        {
            HttpRangeTarget.CheckRange(range, size);
        }

        _ = StoredObjectWriter.IfNoneMatchHits(Encoding.Latin1.GetString(head.IfNoneMatch), "\"0123abcd\"");
        _ = PlaylistCompression.Negotiate(Encoding.Latin1.GetString(head.AcceptEncoding));
    }

    /// <summary>
    /// Kestrel's own Host check (internal to Kestrel, so reached by reflection): a head the lane parses must be one the
    /// routed path would have answered too, not refused with a 400.
    /// </summary>
    private static readonly Func<string, bool> KestrelTakesHost = typeof(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions).Assembly
        .GetType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Infrastructure.HttpUtilities", throwOnError: true)!
        .GetMethod("IsHostHeaderValid", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!
        .CreateDelegate<Func<string, bool>>();

    private static void CheckValue(ReadOnlySpan<byte> value) =>
        Check.That(value.Length <= Http1RequestHead.MaxValueBytes && !value.ContainsAnyExcept(VisibleOrTab), $"a header value '{Latin1(value)}'");

    private static string Snapshot(HeadStatus status, Http1RequestHead head, int consumed) => status != HeadStatus.Parsed
        ? status.ToString()
        : string.Join('|', consumed, head.IsHead, Latin1(head.Path), Latin1(head.Query), Latin1(head.Host), Latin1(head.Range), Latin1(head.IfRange),
            Latin1(head.IfNoneMatch), Latin1(head.AcceptEncoding), head.FromEdge, head.Close, head.CrossOrigin, head.OtherConditional);

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
