using FASTER.core;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// One cached origin response (200 only): body and the headers players need. Times are Unix milliseconds
/// of the edge's TimeProvider. In the memory tier the same instance (and its <see cref="Object"/>, and so
/// its compressed playlist variants) serves every hit; the disk tier deserializes a fresh one.
/// </summary>
internal sealed class CacheEntry
{
    private StoredObject? _object;
    private byte[]? _cacheControlLine;

    public required byte[] Body { get; init; }
    public required string ContentType { get; init; }
    public required string ETag { get; init; }
    public required string CacheControl { get; init; }
    public required long FetchedAtMs { get; init; }
    public required long FreshUntilMs { get; init; }
    public required long StaleUntilMs { get; init; }

    public StoredObject Object => _object ??= new StoredObject(Body, ETag, ContentType);

    /// <summary>The whole <c>Cache-Control</c> response line, for the fast lane (made once per instance).</summary>
    public byte[] CacheControlLine => _cacheControlLine ??= System.Text.Encoding.ASCII.GetBytes("Cache-Control: " + CacheControl + "\r\n");

    /// <summary>Log address of the record this instance was last stored at or read from (not serialized; -1: unknown).</summary>
    internal long Address { get; set; } = -1;

    public bool IsFresh(long nowMs) => nowMs < FreshUntilMs;

    public bool MayServeStale(long nowMs) => nowMs < StaleUntilMs;
}

internal sealed class CacheEntrySerializer : BinaryObjectSerializer<CacheEntry>
{
    public override void Serialize(ref CacheEntry obj)
    {
        writer.Write(obj.ContentType);
        writer.Write(obj.ETag);
        writer.Write(obj.CacheControl);
        writer.Write(obj.FetchedAtMs);
        writer.Write(obj.FreshUntilMs);
        writer.Write(obj.StaleUntilMs);
        writer.Write(obj.Body.Length);
        writer.Write(obj.Body);
    }

    public override void Deserialize(out CacheEntry obj)
    {
        var contentType = reader.ReadString();
        var etag = reader.ReadString();
        var cacheControl = reader.ReadString();
        var fetched = reader.ReadInt64();
        var fresh = reader.ReadInt64();
        var stale = reader.ReadInt64();
        var length = reader.ReadInt32();
        obj = new CacheEntry
        {
            ContentType = contentType,
            ETag = etag,
            CacheControl = cacheControl,
            FetchedAtMs = fetched,
            FreshUntilMs = fresh,
            StaleUntilMs = stale,
            Body = reader.ReadBytes(length),
        };
    }
}

internal sealed class StringKeySerializer : BinaryObjectSerializer<string>
{
    public override void Serialize(ref string obj) => writer.Write(obj);

    public override void Deserialize(out string obj) => obj = reader.ReadString();
}
