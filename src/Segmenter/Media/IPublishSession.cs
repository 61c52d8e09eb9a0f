namespace StreamVerse.Segmenter.Media;

/// <summary>
/// What an ingest connection may know of its publish beyond <see cref="IMediaSink"/> (implemented by sinks that hold a
/// session for a reconnect window).
/// </summary>
public interface IPublishSession
{
    /// <summary>Cancelled when a new publish with the same key took this one over: close the connection.</summary>
    CancellationToken Superseded { get; }

    /// <summary>The publisher said it is done (RTMP FCUnpublish/deleteStream): the coming end is the broadcast's end, with no reconnect window.</summary>
    void MarkUnpublished();
}
