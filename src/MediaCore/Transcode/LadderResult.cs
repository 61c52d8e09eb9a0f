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

/// <summary>One encoded audio rendition.</summary>
/// <param name="Language">RFC 5646 tag as the manifests state it ("en", "fr", "und").</param>
/// <param name="Name">The source's title tag, else the language's name.</param>
/// <param name="IsDefault">The source's default audio stream (else the first kept one).</param>
/// <param name="SourceIndex">The stream's index in the source file.</param>
public sealed record AudioResult(string Codec, int SampleRate, int Channels, long PeakBitrate, long AverageBitrate, string Playlist, int Segments)
{
    public string Language { get; init; } = "und";

    public string Name { get; init; } = "audio";

    public bool IsDefault { get; init; } = true;

    public int SourceIndex { get; init; }
}

/// <summary>What <see cref="Transcoder.TranscodeAsync"/> produced; paths are inside <see cref="OutputDirectory"/>.</summary>
public sealed record LadderResult
{
    public required string OutputDirectory { get; init; }

    /// <summary>The HLS multivariant playlist file name (relative to <see cref="OutputDirectory"/>).</summary>
    public required string MasterPlaylist { get; init; }

    /// <summary>The static DASH MPD file name.</summary>
    public required string DashManifest { get; init; }

    public required IReadOnlyList<RungResult> Rungs { get; init; }

    /// <summary>The default audio rendition (null without audio); <see cref="AudioTracks"/> has every one.</summary>
    public AudioResult? Audio { get; init; }

    /// <summary>Every audio rendition in the source's stream order (exactly one is <see cref="AudioResult.IsDefault"/>).</summary>
    public IReadOnlyList<AudioResult> AudioTracks { get; init; } = [];

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
