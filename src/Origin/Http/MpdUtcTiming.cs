using System.Collections.Concurrent;
using System.Text;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http;

/// <summary>
/// Adds <c>&lt;UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="SCHEME://HOST/time"/&gt;</c> to a
/// live MPD (ISO/IEC 23009-1 §5.8.4.11; DASH-IF IOP requires one in dynamic MPDs). The URL must be absolute:
/// players resolve it against their page, not the MPD, and only the origin knows the host it was reached by.
/// The composed MPD shares the segmenter's buffer (only the tail differs) and is cached per host until the
/// MPD changes, so serving it allocates nothing per request; past <see cref="MaxHosts"/> hosts the cache starts over.
/// </summary>
internal sealed class MpdUtcTiming
{
    /// <summary>The <c>Via</c> token a StreamVerse edge sends upstream (RFC 9110 §7.6.3).</summary>
    public const string EdgeVia = "1.1 streamverse-edge";

    private const int MaxHosts = 64;
    private static readonly byte[] MpdEnd = "</MPD>\n"u8.ToArray();

    private readonly ConcurrentDictionary<string, Entry> _byHost = new(StringComparer.OrdinalIgnoreCase);

    public StoredObject WithUtcTiming(StoredObject mpd, HttpRequest request) =>
        request.Host.Value is { } host ? WithUtcTiming(mpd, host, request.IsHttps) : mpd;

    /// <param name="host">The request's Host value.</param>
    /// <param name="https">The request came over TLS.</param>
    public StoredObject WithUtcTiming(StoredObject mpd, ReadOnlySpan<char> host, bool https)
    {
        if (host.IsEmpty || !IsPlainHost(host) || mpd.Chunks.Length != 1 || !mpd.Chunks[0].Span.EndsWith(MpdEnd))
        {
            return mpd;
        }

        var byHost = _byHost.GetAlternateLookup<ReadOnlySpan<char>>();
        if (byHost.TryGetValue(host, out var entry) && ReferenceEquals(entry.Source, mpd) && entry.Https == https)
        {
            return entry.Composed;
        }

        if (entry is null && _byHost.Count >= MaxHosts)
        {
            // Host is whatever the client sent: made-up values must not fill the cache for good and leave every host
            // after them without a clock. Forget them all (as AsciiStringPool does); real hosts are composed once again.
            _byHost.Clear();
        }

        var name = entry?.Host ?? host.ToString();
        var tail = entry is not null && entry.Https == https ? entry.Tail : Tail(https ? "https" : "http", name);
        var body = mpd.Chunks[0];
        var composed = new StoredObject(
            [body[..^MpdEnd.Length], tail],
            mpd.ETag[..^1] + "-u" + ((uint)StringComparer.OrdinalIgnoreCase.GetHashCode(name)).ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\"",
            mpd.ContentType);
        _byHost[name] = new Entry(mpd, composed, tail, https, name);
        return composed;
    }

    /// <summary>A request from a StreamVerse edge, which adds UTCTiming for its own viewers' host.</summary>
    public static bool IsFromEdge(HttpRequest request)
    {
        foreach (var via in request.Headers.Via)
        {
            if (via is not null && via.Contains("streamverse-edge", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Tail(string scheme, string host) =>
        Encoding.ASCII.GetBytes($"  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" value=\"{scheme}://{host}/time\"/>\n</MPD>\n");

    /// <summary>Host header values that can go into XML and a URL unescaped: name or address, optional port.</summary>
    private static bool IsPlainHost(ReadOnlySpan<char> host)
    {
        if (host.Length > 255)
        {
            return false;
        }

        foreach (var c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Entry(StoredObject Source, StoredObject Composed, byte[] Tail, bool Https, string Host);
}
