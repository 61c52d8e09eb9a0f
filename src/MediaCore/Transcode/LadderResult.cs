namespace StreamVerse.MediaCore.Transcode;

/// <summary>One encoded video rendition.</summary>
public sealed record RungResult(
    string Name,
    int Width,
    int Height,
    int TargetBitrate,
    long PeakBitrate,
    long AverageBitrate,
    string Codec,
    string Playlist,
    int Segments,
    int Frames);

public sealed record AudioResult(string Codec, int SampleRate, int Channels, long PeakBitrate, long AverageBitrate, string Playlist, int Segments);

/// <summary>What <see cref="Transcoder.TranscodeAsync"/> produced; paths are inside <see cref="OutputDirectory"/>.</summary>
public sealed record LadderResult
{
    public required string OutputDirectory { get; init; }

    /// <summary>The HLS multivariant playlist file name (relative to <see cref="OutputDirectory"/>).</summary>
    public required string MasterPlaylist { get; init; }

    /// <summary>The static DASH MPD file name.</summary>
    public required string DashManifest { get; init; }

    public required IReadOnlyList<RungResult> Rungs { get; init; }

    public AudioResult? Audio { get; init; }

    public required TimeSpan Duration { get; init; }

    public double FrameRate { get; init; }

    public int Rotation { get; init; }

    public string? Poster { get; init; }

    public string? Storyboard { get; init; }

    public string? StoryboardTrack { get; init; }

    public long FramesDecoded { get; init; }

    /// <summary>Output frames per rung (constant rate).</summary>
    public long FramesOut { get; init; }

    /// <summary>Input frames repeated (gaps in a VFR source) and dropped (faster than the output rate).</summary>
    public long FramesDuplicated { get; init; }

    public long FramesDropped { get; init; }
}
