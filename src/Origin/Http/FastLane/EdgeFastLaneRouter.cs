using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using StreamVerse.Origin.Edge;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// The fast lane of an edge: untokenised <c>/live/**</c> and <c>/vod/**</c> answered from the <see cref="EdgeCache"/>
/// with the headers of <see cref="EdgeDelivery.Handler"/> (the origin's Cache-Control, ETag, <c>Age</c>, <c>X-Cache</c>,
/// a live MPD's UTCTiming for the host it was asked by, none for a further edge). A fresh object in memory is answered
/// on the spot, allocating nothing; a miss, an expired copy, an LL-HLS blocking reload or a disk-tier read waits for
/// the handler's own lookup and coalesced origin fetch, so the connection stays in the lane, and so does the origin's
/// failure or non-200 answer (passed on with <c>no-store</c>, as the handler does). Tokenised paths (the token is
/// checked by the routed handler), other query parameters on a playlist and anything else are handed over.
/// </summary>
internal sealed class EdgeFastLaneRouter : IFastLaneRouter
{
    /// <summary>The longest playback path (<see cref="PlaybackPath.MaxLength"/>), plus room for the three LL-HLS directives.</summary>
    private const int MaxKeyBytes = PlaybackPath.MaxLength + 100;

    private static readonly byte[] NoStore = "Cache-Control: no-store\r\n"u8.ToArray();

    private static readonly Dictionary<string, byte[]> XCacheLines = new[]
    {
        EdgeDelivery.Handler.XCache.Hit, EdgeDelivery.Handler.XCache.Miss, EdgeDelivery.Handler.XCache.Coalesced,
        EdgeDelivery.Handler.XCache.Revalidated, EdgeDelivery.Handler.XCache.Stale,
    }.ToDictionary(v => v, v => Encoding.ASCII.GetBytes("X-Cache: " + v + "\r\n"), StringComparer.Ordinal);

    private static readonly byte[] HitLine = XCacheLines[EdgeDelivery.Handler.XCache.Hit];

    private readonly EdgeCache _cache;
    private readonly EdgeDelivery.Handler _handler;
    private readonly TimeProvider _time;
    private readonly bool _compress;
    private readonly AsciiStringPool _keys = new(16 * 1024, MaxKeyBytes);
    private readonly AsciiStringPool _hosts = new(256, Http1RequestHead.MaxValueBytes);

    public EdgeFastLaneRouter(EdgeCache cache, EdgeDelivery.Handler handler, TimeProvider time, bool compressPlaylists)
    {
        _cache = cache;
        _handler = handler;
        _time = time;
        _compress = compressPlaylists;
    }

    public bool TryRoute(scoped in FastLaneRequest request, CancellationToken cancellationToken, out ValueTask<FastLaneAnswer> answer)
    {
        answer = default;
        var path = request.Path;
        if (!Takes(path))
        {
            return false;
        }

        Span<byte> keyBytes = stackalloc byte[MaxKeyBytes];
        if (!TryKey(path, request.Query, keyBytes, out var keyLength, out var blocking))
        {
            return false;
        }

        var key = _keys.Get(keyBytes[..keyLength]);
        var fromEdge = request.FromEdge;
        var isHead = request.IsHead;
        if (!blocking)
        {
            var lookup = _cache.GetAsync(key, cancellationToken);
            if (lookup.IsCompletedSuccessfully)
            {
                var cached = lookup.Result;
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                if (cached is not null && cached.IsFresh(now))
                {
                    EdgeMetrics.Request(EdgeMetrics.Result.Hit);
                    var withClock = WithClock(cached, fromEdge);
                    Span<char> host = withClock ? stackalloc char[Http1RequestHead.MaxValueBytes] : default;
                    if (withClock)
                    {
                        host = host[..Encoding.ASCII.GetChars(request.Host, host)];
                    }

                    answer = new ValueTask<FastLaneAnswer>(Serve(cached, HitLine, withClock, host, isHead, now));
                    return true;
                }

                answer = FetchAsync(key, cached, _hosts.Get(request.Host), fromEdge, isHead, ForwardedFor(request), cancellationToken);
                return true;
            }

            answer = LookUpAsync(lookup, key, _hosts.Get(request.Host), fromEdge, isHead, request.Client, cancellationToken);
            return true;
        }

        answer = ResolveAsync(key, blocking, _hosts.Get(request.Host), fromEdge, isHead, ForwardedFor(request), cancellationToken);
        return true;
    }

    /// <summary>
    /// The <c>X-Forwarded-For</c> of a fetch the lane makes: the connection's address. The lane reads no such header (it
    /// answers untokenised paths only, where the origin does not look at the address but for its rate limits).
    /// </summary>
    private static string? ForwardedFor(scoped in FastLaneRequest request) => UpstreamClient.ForwardedFor(null, request.Client);

    private async ValueTask<FastLaneAnswer> LookUpAsync(ValueTask<CacheEntry?> lookup, string key, string host, bool fromEdge, bool isHead,
        System.Net.IPAddress? client, CancellationToken ct)
    {
        // A disk-tier read.
        var cached = await lookup.ConfigureAwait(false);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (cached is not null && cached.IsFresh(now))
        {
            EdgeMetrics.Request(EdgeMetrics.Result.Hit);
            return Serve(cached, HitLine, WithClock(cached, fromEdge), host, isHead, now);
        }

        return await FetchAsync(key, cached, host, fromEdge, isHead, UpstreamClient.ForwardedFor(null, client), ct).ConfigureAwait(false);
    }

    private async ValueTask<FastLaneAnswer> FetchAsync(string key, CacheEntry? cached, string host, bool fromEdge, bool isHead, string? forwardedFor, CancellationToken ct) =>
        Answer(await _handler.FetchAsync(key, blocking: false, cached, forwardedFor, ct).ConfigureAwait(false), host, fromEdge, isHead);

    private async ValueTask<FastLaneAnswer> ResolveAsync(string key, bool blocking, string host, bool fromEdge, bool isHead, string? forwardedFor, CancellationToken ct) =>
        Answer(await _handler.ResolveAsync(key, blocking, forwardedFor, ct).ConfigureAwait(false), host, fromEdge, isHead);

    private FastLaneAnswer Answer(EdgeDelivery.Handler.Resolution resolution, string host, bool fromEdge, bool isHead)
    {
        if (resolution.Entry is { } entry)
        {
            return Serve(entry, XCacheLines[resolution.XCache], WithClock(entry, fromEdge), host, isHead, _time.GetUtcNow().ToUnixTimeMilliseconds());
        }

        // The origin failed or answered something else than 200: what the routed handler sends, never stored.
        var result = resolution.Upstream!;
        var title = ReasonPhrases.GetReasonPhrase(result.Status);
        var problem = result.Problem is not null
            ? new FastLaneProblem(result.Status, title, ProblemType(result.Status), result.Problem, NoStore)
            : new FastLaneProblem(result.Status, title, string.Empty, string.Empty, NoStore) { RawBody = result.ErrorBody ?? [], RawContentType = result.ContentType };
        return new FastLaneAnswer(null, NoStore, DeliveryMetrics.Kind.Segment, Compress: false, problem);
    }

    /// <summary>As the routed handler: a live MPD gets this edge's /time for its own viewers, nothing for a further edge.</summary>
    private static bool WithClock(CacheEntry entry, bool fromEdge) => !fromEdge && EdgeDelivery.Handler.IsDynamicMpd(entry);

    /// <param name="withClock">Compose the MPD's UTCTiming for <paramref name="host"/> (<see cref="WithClock"/>).</param>
    private FastLaneAnswer Serve(CacheEntry entry, byte[] xCache, bool withClock, ReadOnlySpan<char> host, bool isHead, long nowMs)
    {
        var obj = entry.Object;
        var playlist = EdgeDelivery.Handler.IsPlaylist(entry.ContentType);
        if (withClock)
        {
            obj = _handler.UtcTiming.WithUtcTiming(obj, host, https: false);
        }

        if (!isHead)
        {
            EdgeMetrics.Sent(obj.Length);
        }

        return new FastLaneAnswer(obj, entry.CacheControlLine, playlist ? DeliveryMetrics.Kind.Playlist : DeliveryMetrics.Kind.Segment,
            playlist && _compress, Age: EdgeDelivery.Handler.AgeSeconds(entry, nowMs), Extra: xCache);
    }

    /// <summary>The type URIs ASP.NET's problem details give the statuses an edge answers for a failed fetch (RFC 9110 §15).</summary>
    private static string ProblemType(int status) => status switch
    {
        StatusCodes.Status502BadGateway => "https://tools.ietf.org/html/rfc9110#section-15.6.3",
        StatusCodes.Status503ServiceUnavailable => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        StatusCodes.Status504GatewayTimeout => "https://tools.ietf.org/html/rfc9110#section-15.6.5",
        _ => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    };

    /// <summary>
    /// What the lane answers: a canonical playback path (<see cref="PlaybackPath"/>, the parser of the routed handler's cache
    /// key and token check) without a token. Any other spelling and every tokenised path go to the routed pipeline, which
    /// refuses the one and checks the other's token.
    /// </summary>
    internal static bool Takes(ReadOnlySpan<byte> path)
    {
        var parsed = PlaybackPath.Parse(path);
        return parsed.IsPlayback && !parsed.IsTokenised;
    }

    /// <summary>
    /// The handler's cache key: the path, and for a playlist the LL-HLS directives in a fixed order. False (hand over)
    /// for a playlist query the lane does not read exactly as the handler does: another parameter, a repeated or empty one,
    /// a value outside the handler's alphabet. <c>CMCD=</c> pairs are skipped, as the handler drops them; any query on
    /// another object is ignored, as by the handler.
    /// </summary>
    internal static bool TryKey(ReadOnlySpan<byte> path, ReadOnlySpan<byte> query, Span<byte> key, out int length, out bool blocking)
    {
        blocking = false;
        path.CopyTo(key);
        length = path.Length;
        if (query.IsEmpty || !path.EndsWith(".m3u8"u8))
        {
            return true;
        }

        ReadOnlySpan<byte> msn = default, part = default, skip = default;
        foreach (var range in query.Split((byte)'&'))
        {
            var pair = query[range];
            if (pair.StartsWith("CMCD="u8))
            {
                // CTA-5004 data is per viewer: the routed key (EdgeDelivery.CacheKey) drops it too, so it never splits an entry.
                continue;
            }

            var eq = pair.IndexOf((byte)'=');
            if (eq <= 0)
            {
                return false;
            }

            var value = pair[(eq + 1)..];
            if (value.IsEmpty || value.Length > 20 || value.ContainsAnyExcept(KeyValueAlphabet))
            {
                return false;
            }

            switch (pair[..eq])
            {
                case var k when k.SequenceEqual("_HLS_msn"u8) && msn.IsEmpty:
                    msn = value;
                    break;
                case var k when k.SequenceEqual("_HLS_part"u8) && part.IsEmpty:
                    part = value;
                    break;
                case var k when k.SequenceEqual(HlsSkipDirective.NameUtf8) && skip.IsEmpty:
                    skip = value;
                    break;
                default:
                    return false;
            }
        }

        var sep = (byte)'?';
        Append(key, ref length, ref sep, "_HLS_msn"u8, msn);
        Append(key, ref length, ref sep, "_HLS_part"u8, part);
        // As the routed edge's key (EdgeDelivery.CacheKey): YES and v2 are one delta update, other values the full playlist.
        Append(key, ref length, ref sep, HlsSkipDirective.NameUtf8, HlsSkipDirective.IsRequested(skip) ? "YES"u8 : default);
        blocking = !msn.IsEmpty || !part.IsEmpty;
        return true;
    }

    private static readonly System.Buffers.SearchValues<byte> KeyValueAlphabet =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static void Append(Span<byte> key, ref int length, ref byte sep, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        key[length++] = sep;
        name.CopyTo(key[length..]);
        length += name.Length;
        key[length++] = (byte)'=';
        value.CopyTo(key[length..]);
        length += value.Length;
        sep = (byte)'&';
    }
}
