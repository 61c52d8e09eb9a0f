using System.Globalization;
using Microsoft.Net.Http.Headers;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http;

/// <summary>
/// Writes an immutable in-memory object (segment, part, init, playlist) to the response. The stored
/// buffers go straight into Kestrel's output pipe: the one copy the style guide allows.
/// Handles HEAD, If-None-Match (RFC 9110 §13.1.2), and a single byte range (RFC 9110 §14); compresses
/// playlists when asked to (<see cref="PlaylistCompression"/>) and paces the body to a bandwidth cap.
/// </summary>
internal static class StoredObjectWriter
{
    /// <summary>Largest single write into Kestrel's pipe.</summary>
    internal const int MaxWrite = 256 * 1024;

    public static Task WriteAsync(HttpContext context, StoredObject obj, string cacheControl, DeliveryMetrics.Kind kind) =>
        WriteAsync(context, obj, cacheControl, kind, pacer: null, compress: false);

    /// <param name="pacer">The connection's bandwidth cap, or null.</param>
    /// <param name="compress">A playlist or MPD: may be sent br/gzip-encoded (never true for media).</param>
    public static async Task WriteAsync(HttpContext context, StoredObject obj, string cacheControl, DeliveryMetrics.Kind kind, BandwidthPacer? pacer, bool compress)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        headers.CacheControl = TokenPaths.CacheControl(context, cacheControl, TimeProvider.System);
        if (compress)
        {
            headers.Vary = "Accept-Encoding";
            obj = PlaylistCompression.Select(request, obj, out var encoding);
            if (encoding is not null)
            {
                headers.ContentEncoding = encoding;
            }
        }

        headers.ETag = obj.ETag;
        headers.AcceptRanges = "bytes";
        response.ContentType = obj.ContentType;

        if (IfNoneMatchHits(request, obj.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        long start = 0, length = obj.Length;
        if (request.Headers.Range.Count > 0 && IfRangeAllows(request, obj.ETag))
        {
            switch (TryParseRange(request.Headers.Range.ToString(), obj.Length, out start, out length))
            {
                case RangeResult.Satisfiable:
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{start + length - 1}/{obj.Length}");
                    break;
                case RangeResult.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{obj.Length}");
                    response.ContentLength = 0;
                    return;
                default:
                    start = 0;
                    length = obj.Length;
                    break;
            }
        }

        response.ContentLength = length;
        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }

        var aborted = context.RequestAborted;
        var writer = response.BodyWriter;
        foreach (var whole in obj.Slices(start, length))
        {
            var slice = whole;
            // Large buffers (a whole segment cached by an edge) go in slices: the pipe then holds one slice per
            // connection while the socket drains it, instead of a copy of the whole object.
            var sliceSize = pacer?.ChunkSize ?? MaxWrite;
            while (!slice.IsEmpty)
            {
                var piece = slice[..Math.Min(slice.Length, sliceSize)];
                if (pacer is not null)
                {
                    await pacer.PaceAsync(piece.Length, aborted).ConfigureAwait(false);
                }

                var result = await writer.WriteAsync(piece, aborted).ConfigureAwait(false);
                if (result.IsCanceled || result.IsCompleted)
                {
                    return;
                }

                slice = slice[piece.Length..];
            }
        }

        DeliveryMetrics.Served(kind, length);
    }

    internal static bool IfNoneMatchHits(HttpRequest request, string etag)
    {
        foreach (var value in request.Headers.IfNoneMatch)
        {
            if (value is not null && IfNoneMatchHits(value, etag))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Does one <c>If-None-Match</c> field value (a list of entity tags, or <c>*</c>) match <paramref name="etag"/>?</summary>
    internal static bool IfNoneMatchHits(ReadOnlySpan<char> value, string etag)
    {
        foreach (var range in value.Split(','))
        {
            var candidate = value[range].Trim();
            // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
            var tag = candidate.StartsWith("W/", StringComparison.Ordinal) ? candidate[2..] : candidate;
            if (tag is "*" || tag.SequenceEqual(etag))
            {
                return true;
            }
        }

        return false;
    }

    internal static bool IfRangeAllows(HttpRequest request, string etag)
    {
        var ifRange = request.Headers[HeaderNames.IfRange];
        return ifRange.Count == 0 || string.Equals(ifRange.ToString(), etag, StringComparison.Ordinal);
    }

    internal enum RangeResult
    {
        Ignore,
        Satisfiable,
        Unsatisfiable,
    }

    /// <summary>One range of the form <c>bytes=a-b</c>, <c>bytes=a-</c> or <c>bytes=-n</c>; several ranges are served whole (allowed by RFC 9110 §14.2).</summary>
    internal static RangeResult TryParseRange(ReadOnlySpan<char> header, long size, out long start, out long length)
    {
        start = 0;
        length = size;
        const string Prefix = "bytes=";
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || header.Contains(','))
        {
            return RangeResult.Ignore;
        }

        var spec = header[Prefix.Length..].Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return RangeResult.Ignore;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
            {
                return RangeResult.Ignore;
            }

            if (suffix == 0 || size == 0)
            {
                return RangeResult.Unsatisfiable;
            }

            length = Math.Min(suffix, size);
            start = size - length;
            return RangeResult.Satisfiable;
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
        {
            return RangeResult.Ignore;
        }

        var to = size - 1;
        if (!last.IsEmpty)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out to) || to < from)
            {
                return RangeResult.Ignore;
            }
        }

        if (from >= size)
        {
            return RangeResult.Unsatisfiable;
        }

        to = Math.Min(to, size - 1);
        start = from;
        length = to - from + 1;
        return RangeResult.Satisfiable;
    }
}
