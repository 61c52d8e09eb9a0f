namespace StreamVerse.ControlPlane.Storage;

/// <summary>
/// Where uploaded and produced files (avatars, VOD presentations) are kept: the local filesystem under
/// <c>--data</c> by default, or an S3 bucket. Keys are relative, '/'-separated and chosen by the daemon, never
/// by a client (characters <c>[A-Za-z0-9._-]</c>, no segment starting with '.').
/// </summary>
internal interface IBlobStorage
{
    /// <summary>Stores a small object from memory; replaces an existing one atomically.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken);

    /// <summary>Stores a local file (streamed, never loaded whole); replaces an existing one atomically.</summary>
    Task PutFileAsync(string key, string localPath, string contentType, CancellationToken cancellationToken);

    /// <summary>The stored object and its content type, or null.</summary>
    Task<(Stream Content, string ContentType)?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Length, type and validator of an object, or null when it does not exist.</summary>
    Task<BlobInfo?> StatAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Reads <paramref name="length"/> bytes from <paramref name="offset"/> (null length: to the end) as a
    /// stream the caller disposes, or null when the object does not exist. Never buffers the whole object.
    /// </summary>
    Task<BlobRead?> OpenReadAsync(string key, long offset, long? length, CancellationToken cancellationToken);

    /// <summary>The object's path on this machine when the backend is a local filesystem (so it can be sent with
    /// sendfile), otherwise null. Does not check that the object exists.</summary>
    string? LocalPathOf(string key);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes every object whose key starts with <paramref name="prefix"/> + '/'.</summary>
    Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>What <see cref="IBlobStorage.StatAsync"/> reports. <paramref name="ETag"/> is a quoted strong validator.</summary>
internal sealed record BlobInfo(long Length, string ContentType, string ETag, DateTimeOffset LastModified);

/// <summary>An open read of part or all of an object; <see cref="Info"/> describes the whole object.</summary>
internal sealed class BlobRead(Stream content, BlobInfo info) : IAsyncDisposable, IDisposable
{
    public Stream Content { get; } = content;

    public BlobInfo Info { get; } = info;

    public ValueTask DisposeAsync() => Content.DisposeAsync();

    public void Dispose() => Content.Dispose();
}

/// <summary>Content types of the files a VOD presentation holds, by extension.</summary>
internal static class MediaContentTypes
{
    public static string Of(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".m3u8" => "application/vnd.apple.mpegurl",
        ".mpd" => "application/dash+xml",
        ".mp4" or ".m4s" => "video/mp4",
        ".m4a" => "audio/mp4",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".png" => "image/png",
        ".webp" => "image/webp",
        ".vtt" => "text/vtt",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
