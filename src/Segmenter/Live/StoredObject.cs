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

    /// <summary>The buffers covering bytes [start, start + length) of the object, in order, without copying them.</summary>
    public SliceEnumerator Slices(long start, long length) => new(Chunks, start, length);

    /// <summary>A quoted strong entity tag, unique for these bytes.</summary>
    public string ETag { get; }

    public string ContentType { get; }
}

/// <summary>Walks the chunks of a <see cref="StoredObject"/> over a byte range (a struct: no allocation, may live across an await).</summary>
public struct SliceEnumerator
{
    private readonly ReadOnlyMemory<byte>[] _chunks;
    private int _index;
    private long _skip;
    private long _remaining;

    internal SliceEnumerator(ReadOnlyMemory<byte>[] chunks, long start, long length)
    {
        _chunks = chunks;
        _index = -1;
        _skip = start;
        _remaining = length;
        Current = default;
    }

    public ReadOnlyMemory<byte> Current { get; private set; }

    public readonly SliceEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        while (_remaining > 0 && ++_index < _chunks.Length)
        {
            var chunk = _chunks[_index];
            if (_skip >= chunk.Length)
            {
                _skip -= chunk.Length;
                continue;
            }

            var take = (int)Math.Min(chunk.Length - _skip, _remaining);
            Current = chunk.Slice((int)_skip, take);
            _skip = 0;
            _remaining -= take;
            return true;
        }

        return false;
    }
}

public enum PlaylistStatus
{
    Ok,
    NotFound,
    BadRequest,
    Unavailable,
}

public readonly record struct PlaylistResult(PlaylistStatus Status, StoredObject? Body);
