using StreamVerse.ControlPlane.Images;
using StreamVerse.MediaCore.Transcode;

namespace StreamVerse.Origin.Hosting;

/// <summary>The control plane's <see cref="IStillImages"/> over MediaCore's <see cref="Stills"/>, on the thread pool.</summary>
internal sealed class MediaCoreStillImages : IStillImages
{
    public Task<byte[]> ReencodeAsync(string path, ImageBox box, CancellationToken cancellationToken) =>
        Run(() => Stills.ReencodeImage(path, box.MaxWidth, box.MaxHeight, box.MaxSourceWidth, box.MaxSourceHeight), cancellationToken);

    public Task<byte[]> FrameAsync(string path, double atSeconds, ImageBox box, CancellationToken cancellationToken) =>
        Run(() => Stills.ExtractFrame(path, atSeconds, box.MaxWidth, box.MaxHeight), cancellationToken);

    private static Task<byte[]> Run(Func<byte[]> work, CancellationToken cancellationToken) => Task.Run(() =>
    {
        try
        {
            return work();
        }
        catch (StillImageException e)
        {
            throw new ImageRejectedException(e.Message, e);
        }
    }, cancellationToken);
}
