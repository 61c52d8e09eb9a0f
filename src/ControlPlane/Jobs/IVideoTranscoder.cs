namespace StreamVerse.ControlPlane.Jobs;

/// <summary>
/// What the job queue needs from the media path: the control plane knows no codecs, so the Origin implements this
/// over MediaCore (<c>src/Origin/Hosting/MediaCoreVideoTranscoder.cs</c>). Both calls block on libav work off the
/// caller's thread. Input that can never be transcoded is reported as <see cref="MediaRejectedException"/> (the job
/// fails at once with its message); any other exception is taken as transient and retried.
/// </summary>
internal interface IVideoTranscoder
{
    /// <summary>Probes the source and says how the ladder will look, before any encoding.</summary>
    Task<TranscodePlan> PlanAsync(string sourcePath, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a complete presentation (<c>master.m3u8</c>, <c>manifest.mpd</c>, playlists, init segments and
    /// segments, and for <see cref="TranscodePass.Full"/> the poster and storyboard) into <paramref name="outputDir"/>,
    /// which must not exist or be empty. On failure or cancellation nothing is left there.
    /// </summary>
    Task<TranscodeOutput> TranscodeAsync(string sourcePath, string outputDir, TranscodePass pass, IProgress<double> progress, CancellationToken cancellationToken);
}

internal enum TranscodePass
{
    /// <summary>The lowest rung and the audio only, no thumbnails: playable as early as possible.</summary>
    Preview,

    /// <summary>The whole ladder with thumbnails.</summary>
    Full,
}

/// <param name="VideoRenditions">Rungs of the full ladder (0 for an audio-only source).</param>
/// <param name="PreviewShare">The preview pass's share of the expected work of preview + full (0..1), for a
/// progress figure that moves evenly across both passes.</param>
internal sealed record TranscodePlan(int VideoRenditions, double PreviewShare);

/// <param name="HasPoster">Whether <c>poster.jpg</c> was written (not for audio-only sources).</param>
/// <param name="AudioTracks">The presentation's audio renditions in source order (empty without audio).</param>
/// <param name="Subtitles">The source's text subtitle tracks (full pass only), as SubRip files outside the presentation's
/// folder (they become caption tracks, not files of the version).</param>
internal sealed record TranscodeOutput(double DurationSeconds, bool HasPoster, IReadOnlyList<Videos.AudioTrack> AudioTracks, IReadOnlyList<SourceSubtitle>? Subtitles = null);

/// <summary>A text subtitle track of the source: its container language and title tags (either may be null) and a local SubRip file.</summary>
internal sealed record SourceSubtitle(string? Language, string? Title, string Path);

/// <summary>The source can never become a presentation (empty, truncated, not media, unsupported codec, absurd
/// size, ...). The message is for the uploader: readable, no stack, no server paths.</summary>
internal sealed class MediaRejectedException : Exception
{
    public MediaRejectedException()
    {
    }

    public MediaRejectedException(string message)
        : base(message)
    {
    }

    public MediaRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
