namespace StreamVerse.Segmenter.Live;

/// <summary>
/// An immutable object the origin serves as is: a playlist, an MPD, an init segment, a part or a whole
/// segment (then <see cref="Chunks"/> are the segment's part buffers, shared, never copied).
/// </summary>
public sealed class StoredObject
{
    internal const string Mp4Video = "video/mp4";
    internal const string Mp4Audio = "audio/mp4";
    internal const string HlsPlaylist = "application/vnd.apple.mpegurl";
    internal const string DashManifest = "application/dash+xml";

    internal StoredObject(ReadOnlyMemory<byte>[] chunks, string etag, string contentType)
    {
        Chunks = chunks;
        ETag = etag;
        ContentType = contentType;
        long length = 0;
        foreach (var chunk in chunks)
        {
            length += chunk.Length;
        }

        Length = length;
    }

    internal StoredObject(byte[] bytes, string etag, string contentType)
        : this([bytes], etag, contentType)
    {
    }

    /// <summary>The object is the concatenation of these buffers, in order.</summary>
    public ReadOnlyMemory<byte>[] Chunks { get; }

    public long Length { get; }

    /// <summary>A quoted strong entity tag, unique for these bytes.</summary>
    public string ETag { get; }

    public string ContentType { get; }
}

public enum PlaylistStatus
{
    Ok,
    NotFound,
    BadRequest,
    Unavailable,
}

public readonly record struct PlaylistResult(PlaylistStatus Status, StoredObject? Body);
