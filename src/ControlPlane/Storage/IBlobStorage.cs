namespace StreamVerse.ControlPlane.Storage;

/// <summary>
/// Where uploaded files (avatars now, media later) are kept. Keys are relative, '/'-separated and chosen by
/// the control plane, never by a client. The local implementation writes under the data directory; an S3
/// implementation can replace it without touching the features.
/// </summary>
internal interface IBlobStorage
{
    Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken);

    /// <summary>The stored object and its content type, or null.</summary>
    Task<(Stream Content, string ContentType)?> GetAsync(string key, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
