namespace StreamVerse.ControlPlane.Images;

/// <summary>
/// What the control plane needs to make pictures: the Origin implements it over MediaCore (our libav bindings), so the
/// control plane knows no codecs. Every picture comes out as a JPEG encoded from decoded pixels, fitted in a box.
/// Both calls block on libav work off the caller's thread.
/// </summary>
internal interface IStillImages
{
    /// <summary>Decodes an uploaded PNG, JPEG or WebP file and re-encodes it within <paramref name="box"/>.</summary>
    /// <exception cref="ImageRejectedException">Not such an image, undecodable, or over the pixel caps.</exception>
    Task<byte[]> ReencodeAsync(string path, ImageBox box, CancellationToken cancellationToken);

    /// <summary>The frame of a video file shown at <paramref name="atSeconds"/>, within <paramref name="box"/>.</summary>
    /// <exception cref="ImageRejectedException">No decodable picture.</exception>
    Task<byte[]> FrameAsync(string path, double atSeconds, ImageBox box, CancellationToken cancellationToken);
}

/// <summary>The largest output picture (scaled down keeping its shape, never up) and the largest input one accepted.</summary>
internal sealed record ImageBox(int MaxWidth, int MaxHeight, int MaxSourceWidth, int MaxSourceHeight);

/// <summary>The picture cannot be taken; the message is for the uploader.</summary>
internal sealed class ImageRejectedException : Exception
{
    public ImageRejectedException()
    {
    }

    public ImageRejectedException(string message)
        : base(message)
    {
    }

    public ImageRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
