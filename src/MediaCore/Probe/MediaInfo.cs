namespace StreamVerse.MediaCore.Probe;

public enum MediaStreamKind
{
    Other = 0,
    Video = 1,
    Audio = 2,
}

/// <summary>One stream of the container, as the demuxer and its codec parameters describe it.</summary>
public sealed record MediaStreamInfo
{
    public required int Index { get; init; }

    public required MediaStreamKind Kind { get; init; }

    /// <summary>libavcodec's short codec name: h264, hevc, aac, opus, ...</summary>
    public required string Codec { get; init; }

    public long BitRate { get; init; }

    public TimeSpan? Duration { get; init; }

    /// <summary>The stream's <c>language</c> tag as the container wrote it (see <see cref="LanguageTag.From"/>); null without one.</summary>
    public string? Language { get; init; }

    /// <summary>The stream's <c>title</c> tag ("Director's commentary"); null without one.</summary>
    public string? Title { get; init; }

    /// <summary>AV_DISPOSITION_DEFAULT: the container marks it as the track to play when the viewer chose none.</summary>
    public bool IsDefault { get; init; }

    // Video
    public int Width { get; init; }

    public int Height { get; init; }

    public string? PixelFormat { get; init; }

    /// <summary>avg_frame_rate (falls back to r_frame_rate); 0 when unknown.</summary>
    public double FrameRate { get; init; }

    public int FrameRateNum { get; init; }

    public int FrameRateDen { get; init; }

    /// <summary>
    /// The nominal rate (av_guess_frame_rate: r_frame_rate in effect), the rate of the fastest part of a
    /// variable-rate source; 0 when unknown. The average undercounts such a source (a 60/15/30 fps file averages
    /// 35 fps; a 30 fps phone clip with dropped frames 26-27 fps).
    /// </summary>
    public double NominalFrameRate => NominalFrameRateDen > 0 ? (double)NominalFrameRateNum / NominalFrameRateDen : 0;

    public int NominalFrameRateNum { get; init; }

    public int NominalFrameRateDen { get; init; }

    /// <summary>A still picture attached to the file (cover art), not a video track.</summary>
    public bool IsAttachedPicture { get; init; }

    /// <summary>Clockwise degrees to turn the coded picture for display (0, 90, 180, 270), from the display matrix.</summary>
    public int Rotation { get; init; }

    public int DisplayWidth => Rotation is 90 or 270 ? Height : Width;

    public int DisplayHeight => Rotation is 90 or 270 ? Width : Height;

    // Audio
    public int SampleRate { get; init; }

    public int Channels { get; init; }

    /// <summary>av_channel_layout_describe: "stereo", "5.1", "mono", ...</summary>
    public string? ChannelLayout { get; init; }

    public string? SampleFormat { get; init; }
}

/// <summary>What <see cref="MediaProbe"/> found in a file.</summary>
public sealed record MediaInfo
{
    /// <summary>Demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm".</summary>
    public required string Container { get; init; }

    public string? ContainerLongName { get; init; }

    public TimeSpan? Duration { get; init; }

    public long BitRate { get; init; }

    public required IReadOnlyList<MediaStreamInfo> Streams { get; init; }

    /// <summary>The stream av_find_best_stream picks (cover art does not count as video); null when there is none.</summary>
    public MediaStreamInfo? Video { get; init; }

    public MediaStreamInfo? Audio { get; init; }
}

public enum MediaProbeError
{
    Empty,
    Unreadable,
    Truncated,
    NotMedia,
    UnsupportedCodec,
    AbsurdDimensions,

    /// <summary>Timestamps that jump far ahead with nothing in between: filling the gap would cost hours of encoding.</summary>
    BrokenTimestamps,
}

/// <summary>An input we refuse, with a message a person uploading the file can act on.</summary>
public sealed class MediaProbeException : Exception
{
    public MediaProbeException()
    {
    }

    public MediaProbeException(string message)
        : base(message)
    {
    }

    public MediaProbeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MediaProbeException(MediaProbeError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    public MediaProbeError Error { get; }
}
