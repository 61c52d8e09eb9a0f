namespace StreamVerse.Segmenter.Live;

/// <summary>Everything a viewer can see of a stream, published as one immutable snapshot per change.</summary>
internal sealed class StreamView
{
    public static readonly StreamView Empty = new();

    public bool Started { get; init; }

    public bool Ended { get; init; }

    public TrackView? Video { get; init; }

    public TrackView? Audio { get; init; }

    public StoredObject? Master { get; init; }

    public StoredObject? Mpd { get; init; }

    public int TargetDuration { get; init; }

    /// <summary>Seconds of media published when this view was (<see cref="LiveStream.MediaSeconds"/>).</summary>
    public double MediaSeconds { get; init; }

    /// <summary>EXT-X-TARGETDURATION is fixed for the rest of the session (after the first segment).</summary>
    public bool TargetDurationFrozen { get; init; }

    public TrackView? Track(Media.TrackKind kind) => kind == Media.TrackKind.Video ? Video : Audio;
}
