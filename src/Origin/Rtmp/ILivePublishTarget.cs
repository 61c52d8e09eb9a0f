using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Rtmp;

/// <summary>Where the RTMP ingest hands a published stream (implemented by the host over the segmenter).</summary>
public interface ILivePublishTarget
{
    /// <summary>
    /// Starts a live presentation of <paramref name="streamName"/>, or returns null if that name is already live.
    /// The ingest calls <see cref="IMediaSink.OnEnd"/> exactly once on the returned sink when the publish ends
    /// for any reason (unpublish, disconnect, error, shutdown).
    /// </summary>
    IMediaSink? TryBeginPublish(string streamName);
}
