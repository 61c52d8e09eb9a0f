using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http;

/// <summary>
/// br/gzip for playlists and MPDs only (segments are already-compressed media: compressing them costs CPU
/// and saves nothing). Each encoded form is made once per stored playlist object and kept beside it for as
/// long as the object lives, so a thousand viewers of one playlist version cost one compression.
/// </summary>
internal static class PlaylistCompression
{
    /// <summary>Below this, headers dominate and compression only costs CPU.</summary>
    internal const int MinimumLength = 256;

    private static readonly ConditionalWeakTable<StoredObject, Variants> Encoded = new();

    internal enum Encoding
    {
        Identity,
        Gzip,
        Brotli,
    }

    /// <summary>The representation to send for this request: the object itself or an encoded copy.</summary>
    public static StoredObject Select(HttpRequest request, StoredObject obj, out string? contentEncoding) =>
        obj.Length < MinimumLength
            ? NoEncoding(obj, out contentEncoding)
            : Select(request.Headers.AcceptEncoding.ToString(), obj, out contentEncoding);

    /// <summary>As above, from the request's <c>Accept-Encoding</c> value.</summary>
    public static StoredObject Select(ReadOnlySpan<char> acceptEncoding, StoredObject obj, out string? contentEncoding)
    {
        contentEncoding = null;
        if (obj.Length < MinimumLength)
        {
            return obj;
        }

        var choice = Negotiate(acceptEncoding);
        if (choice == Encoding.Identity)
        {
            return obj;
        }

        var variants = Encoded.GetValue(obj, static _ => new Variants());
        if (choice == Encoding.Brotli)
        {
            contentEncoding = "br";
            return variants.Brotli ??= Compress(obj, Encoding.Brotli);
        }

        contentEncoding = "gzip";
        return variants.Gzip ??= Compress(obj, Encoding.Gzip);
    }

    private static StoredObject NoEncoding(StoredObject obj, out string? contentEncoding)
    {
        contentEncoding = null;
        return obj;
    }

    /// <summary>br over gzip when both are accepted; an explicit <c>q=0</c> refuses a coding (RFC 9110 §12.5.3).</summary>
    internal static Encoding Negotiate(ReadOnlySpan<char> acceptEncoding)
    {
        bool br = false, gzip = false;
        foreach (var range in acceptEncoding.Split(','))
        {
            var item = acceptEncoding[range].Trim();
            if (item.IsEmpty)
            {
                continue;
            }

            var semi = item.IndexOf(';');
            var name = (semi < 0 ? item : item[..semi]).Trim();
            var refused = semi >= 0 && IsZeroQ(item[(semi + 1)..]);
            if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                br = !refused;
            }
            else if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = !refused;
            }
        }

        return br ? Encoding.Brotli : gzip ? Encoding.Gzip : Encoding.Identity;
    }

    private static bool IsZeroQ(ReadOnlySpan<char> parameters)
    {
        var q = parameters.Trim();
        if (!q.StartsWith("q=", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = q[2..].Trim();
        return value is "0" or "0." or "0.0" or "0.00" or "0.000";
    }

    private static StoredObject Compress(StoredObject obj, Encoding encoding)
    {
        var source = ArrayPool<byte>.Shared.Rent((int)obj.Length);
        try
        {
            var offset = 0;
            foreach (var chunk in obj.Chunks)
            {
                chunk.Span.CopyTo(source.AsSpan(offset));
                offset += chunk.Length;
            }

            byte[] encoded;
            if (encoding == Encoding.Brotli)
            {
                var destination = new byte[BrotliEncoder.GetMaxCompressedLength(offset)];
                // Quality 5: most of br's gain on text at a fraction of quality 11's CPU; window 22 is the default.
                if (!BrotliEncoder.TryCompress(source.AsSpan(0, offset), destination, out var written, quality: 5, window: 22))
                {
                    throw new InvalidOperationException("brotli output exceeded its maximum length");
                }

                encoded = destination.AsSpan(0, written).ToArray();
            }
            else
            {
                using var buffer = new MemoryStream(offset / 2 + 64);
                using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(source, 0, offset);
                }

                encoded = buffer.ToArray();
            }

            // A different representation needs a different strong validator (RFC 9110 §8.8.3).
            var etag = obj.ETag[..^1] + (encoding == Encoding.Brotli ? "-br\"" : "-gz\"");
            return new StoredObject(encoded, etag, obj.ContentType);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(source);
        }
    }

    private sealed class Variants
    {
        public StoredObject? Brotli;
        public StoredObject? Gzip;
    }
}
