namespace StreamVerse.Origin.Vod;

/// <summary>
/// The two questions VOD delivery asks the control plane: which stored presentation a video plays now, and the
/// bytes of its files. Keys are storage keys (<c>vod/{id}/{version}/{file}</c>); the origin builds them only from a
/// prefix this catalog returned and file names it validated.
/// </summary>
internal interface IVodCatalog
{
    /// <summary>The storage prefix of the video's current presentation (<c>vod/{id}/{version}</c>), or null when the
    /// video does not exist or has nothing playable yet. Answered from memory almost always (called per request).</summary>
    Task<string?> ResolveAsync(string videoId, CancellationToken cancellationToken);

    /// <summary>Length, type and strong validator of a stored file, or null.</summary>
    Task<VodFileInfo?> StatAsync(string key, CancellationToken cancellationToken);

    /// <summary>A read of <paramref name="length"/> bytes from <paramref name="offset"/> (never the whole object buffered), or null.</summary>
    Task<(Stream Content, VodFileInfo Info)?> OpenReadAsync(string key, long offset, long length, CancellationToken cancellationToken);

    /// <summary>The file's path on this machine when storage is local (served with sendfile), else null.</summary>
    string? LocalPathOf(string key);
}

/// <summary>What <see cref="IVodCatalog.StatAsync"/> reports; <paramref name="ETag"/> is quoted.</summary>
internal sealed record VodFileInfo(long Length, string ContentType, string ETag, DateTimeOffset LastModified);
