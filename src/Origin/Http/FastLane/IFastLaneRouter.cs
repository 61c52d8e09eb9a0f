using System.Collections.Concurrent;
using System.Net;
using System.Text;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// Decides which requests the <see cref="Http1FastLane"/> answers itself. Called on Kestrel's I/O path for every
/// request of a fast-lane connection: answers from memory, never blocks, allocates nothing for a hit.
/// </summary>
internal interface IFastLaneRouter
{
    /// <summary>
    /// False: the routed path must answer this request (and, from it on, the connection). True: <paramref name="answer"/>
    /// is the object to send, or becomes it (an LL-HLS blocking reload waits for its part); an answer without a body and
    /// without a problem still hands the request over, unconsumed.
    /// </summary>
    bool TryRoute(scoped in FastLaneRequest request, CancellationToken cancellationToken, out ValueTask<FastLaneAnswer> answer);
}

/// <summary>What a router may look at: the parsed head's path, query, Host and Via, whether it is a HEAD, and the client's address.</summary>
internal readonly ref struct FastLaneRequest(ReadOnlySpan<byte> path, ReadOnlySpan<byte> query, ReadOnlySpan<byte> host, bool fromEdge, IPAddress? client, bool isHead = false)
{
    public ReadOnlySpan<byte> Path { get; } = path;

    public ReadOnlySpan<byte> Query { get; } = query;

    public ReadOnlySpan<byte> Host { get; } = host;

    public bool FromEdge { get; } = fromEdge;

    public IPAddress? Client { get; } = client;

    public bool IsHead { get; } = isHead;
}

/// <summary>
/// What the fast lane sends: a stored object with its caching rule, a recording's file on disk (<paramref name="File"/>),
/// or a problem. A cache's answer adds its <c>Age</c> (RFC 9111 §5.1; negative: none) and lines of its own
/// (<paramref name="Extra"/>, e.g. <c>X-Cache</c>).
/// </summary>
internal readonly record struct FastLaneAnswer(StoredObject? Body, byte[] CacheControl, DeliveryMetrics.Kind Kind, bool Compress, FastLaneProblem? Problem = null,
    long Age = -1, byte[]? Extra = null, RecordingFile? File = null)
{
    public static FastLaneAnswer HandOver => default;

    public bool IsHandOver => Body is null && Problem is null && File is null;
}

/// <summary>
/// A non-200 answer the lane gives itself, for what it cannot hand back or need not: the end of a wait, a stream that does
/// not exist, an edge's fetch that failed. An RFC 9457 problem made from <see cref="Title"/>, <see cref="Type"/> and
/// <see cref="Detail"/>, or with <see cref="RawBody"/> that body as it is (an origin's own answer an edge passes on).
/// </summary>
/// <param name="CacheControl">A whole <c>Cache-Control</c> header line, or empty for none.</param>
internal sealed record FastLaneProblem(int Status, string Title, string Type, string Detail, byte[] CacheControl)
{
    public byte[]? RawBody { get; init; }

    /// <summary>The content type of <see cref="RawBody"/> (none if null).</summary>
    public string? RawContentType { get; init; }
}

/// <summary>
/// Strings for path segments read as bytes (stream names, file names), made once and then found by their characters,
/// so routing a request allocates nothing. Bounded: past <paramref name="capacity"/> new strings it starts over.
/// </summary>
internal sealed class AsciiStringPool(int capacity, int maxLength = AsciiStringPool.MaxLength)
{
    internal const int MaxLength = 128;

    /// <summary>The longest string this pool takes.</summary>
    public int Longest => maxLength;

    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private int _added;

    /// <param name="ascii">At most <see cref="Longest"/> bytes of ASCII (the caller has checked the alphabet).</param>
    public string Get(ReadOnlySpan<byte> ascii)
    {
        Span<char> chars = stackalloc char[maxLength];
        var length = Encoding.ASCII.GetChars(ascii, chars);
        var key = chars[..length];
        var lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(key, out var found))
        {
            return found;
        }

        var made = new string(key);
        if (Interlocked.Increment(ref _added) > capacity)
        {
            // Segment names of long-running streams never repeat; forget them all rather than track ages.
            _strings.Clear();
            Volatile.Write(ref _added, 0);
        }

        return _strings.GetOrAdd(made, made);
    }
}
