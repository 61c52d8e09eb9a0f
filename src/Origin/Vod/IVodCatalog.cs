namespace StreamVerse.Origin.Vod;

/// <summary>
/// The two questions VOD delivery asks the control plane: which stored presentation a video plays now, and the
/// bytes of its files. Keys are storage keys (<c>vod/{id}/{version}/{file}</c>); the origin builds them only from a
/// prefix this catalog returned and file names it validated.
/// </summary>
internal interface IVodCatalog
{
    /// <summary>The video's current presentation (its storage prefix <c>vod/{id}/{version}</c> and caption tracks), or null
    /// when the video does not exist or has nothing playable yet. Answered from memory almost always (called per request).</summary>
    Task<VodPresentation?> ResolveAsync(string videoId, CancellationToken cancellationToken);

    /// <summary>Length, type and strong validator of a stored file, or null.</summary>
    Task<VodFileInfo?> StatAsync(string key, CancellationToken cancellationToken);

    /// <summary>A read of <paramref name="length"/> bytes from <paramref name="offset"/> (never the whole object buffered), or null.</summary>
    Task<(Stream Content, VodFileInfo Info)?> OpenReadAsync(string key, long offset, long length, CancellationToken cancellationToken);

    /// <summary>The file's path on this machine when storage is local (served with sendfile), else null.</summary>
    string? LocalPathOf(string key);
}

/// <summary>What <see cref="IVodCatalog.StatAsync"/> reports; <paramref name="ETag"/> is quoted.</summary>
internal sealed record VodFileInfo(long Length, string ContentType, string ETag, DateTimeOffset LastModified);

/// <summary>What a video plays now: the stored presentation's prefix, its duration (null when not known) and the caption
/// tracks the entry manifests add to it. <paramref name="CaptionsTag"/> changes whenever the tracks do.</summary>
internal sealed record VodPresentation(string Prefix, double? DurationSeconds, IReadOnlyList<VodCaption> Captions, string CaptionsTag);

/// <summary>A caption track: the WebVTT file <c>captions/{File}</c> beside the video's versions (the name changes with
/// every upload), its BCP 47 language and its label.</summary>
internal sealed record VodCaption(string Language, string Label, string File)
{
    /// <summary>The HLS subtitle media playlist of the track: the file's name with <c>.m3u8</c> for <c>.vtt</c>.</summary>
    public string Playlist => System.IO.Path.ChangeExtension(File, ".m3u8");
}
