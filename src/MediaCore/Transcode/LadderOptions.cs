namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// One rung of the ladder template: the picture's short side (the "height" of a landscape video) and its
/// target bitrate. The rate cap (maxrate/bufsize, VBV) defaults to 1.1x / 1.5x the bitrate.
/// </summary>
public sealed record LadderRung(int Height, int Bitrate)
{
    public int MaxRate { get; init; } = (int)(Bitrate * 1.1);

    public int BufferSize { get; init; } = (int)(Bitrate * 1.5);
}

/// <summary>How <see cref="Transcoder"/> builds a VOD ladder.</summary>
public sealed class LadderOptions
{
    /// <summary>
    /// Apple-like template (HLS authoring spec: 1080p 4.5-7.8 Mbit/s, 720p 3 Mbit/s, 360p 730 kbit/s, 234p 145 kbit/s);
    /// only rungs no taller than the source are used.
    /// </summary>
    public static IReadOnlyList<LadderRung> DefaultRungs { get; } =
    [
        new(1080, 5_000_000),
        new(720, 3_000_000),
        new(480, 1_400_000),
        new(360, 730_000),
        new(240, 300_000),
    ];

    /// <summary>
    /// Rungs above 1080p for sources that have them (<c>Jobs:Ladder:AboveHd</c>, off by default: a 2160p rung costs about
    /// four times a 1080p one to encode). Bitrates after the common H.264 ladders (Apple's HLS authoring spec, YouTube's).
    /// </summary>
    public static IReadOnlyList<LadderRung> AboveHdRungs { get; } =
    [
        new(2160, 16_000_000),
        new(1440, 9_000_000),
    ];

    /// <summary><paramref name="template"/> with the <see cref="AboveHdRungs"/> it does not already have (by height), tallest first.</summary>
    public static IReadOnlyList<LadderRung> WithAboveHd(IReadOnlyList<LadderRung> template) =>
        [.. AboveHdRungs.Where(a => template.All(r => r.Height != a.Height)).Concat(template).OrderByDescending(r => r.Height)];

    public IReadOnlyList<LadderRung> Rungs { get; init; } = DefaultRungs;

    /// <summary>Segment duration; the GOP is exactly this many seconds of frames, so every segment starts with an IDR.</summary>
    public TimeSpan SegmentDuration { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>libx264 preset.</summary>
    public string Preset { get; init; } = "veryfast";

    /// <summary>Cap of the output rate. The output is constant-rate at the source's nominal rate (its fastest part's,
    /// for a variable-rate source: pictures are repeated through the slower parts, none is dropped), or at this cap
    /// for a faster source (pictures dropped).</summary>
    public int MaxFrameRate { get; init; } = 60;

    public int AudioBitrate { get; init; } = 128_000;

    /// <summary>
    /// How many of the source's audio streams are kept, each encoded once (stereo AAC at <see cref="AudioBitrate"/>)
    /// into an alternative rendition; the stream the container marks default (else the first) is always among them.
    /// </summary>
    public int MaxAudioTracks { get; init; } = 8;

    public const int MaxAudioTracksLimit = 32;

    /// <summary>Write poster.jpg and the storyboard sprite + WebVTT track.</summary>
    public bool Thumbnails { get; init; } = true;

    /// <summary>Poster position as a fraction of the duration.</summary>
    public double PosterPosition { get; init; } = 0.1;

    public int PosterMaxWidth { get; init; } = 1280;

    public int StoryboardTileWidth { get; init; } = 160;

    public int StoryboardColumns { get; init; } = 10;

    public int StoryboardMaxTiles { get; init; } = 100;

    public TimeSpan StoryboardMinInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Nice value (0-19) of the threads libavcodec and libx264 start (the decoder's frame threads, x264's pool and
    /// lookahead: most of a transcode's CPU), so that a transcode takes what the event loops leave; the pipeline's own
    /// two threads stay at the caller's priority (<see cref="Interop.ThreadNice"/> says why). 0 = the caller's priority
    /// for all (the ffmpeg CLI's default).
    /// </summary>
    public int Nice { get; init; }

    internal void Validate()
    {
        if (Rungs.Count == 0 || Rungs.Any(r => r.Height < 2 || r.Bitrate <= 0 || r.MaxRate < r.Bitrate || r.BufferSize <= 0))
        {
            throw new ArgumentException("Rungs: at least one, each with Height >= 2, Bitrate > 0, MaxRate >= Bitrate, BufferSize > 0.");
        }

        if (SegmentDuration < TimeSpan.FromSeconds(1) || SegmentDuration > TimeSpan.FromSeconds(20))
        {
            throw new ArgumentException("SegmentDuration must be between 1 and 20 seconds.");
        }

        if (Nice is < 0 or > Interop.ThreadNice.Max)
        {
            throw new ArgumentException("Nice must be between 0 and 19.");
        }

        if (MaxAudioTracks is < 1 or > MaxAudioTracksLimit)
        {
            throw new ArgumentException("MaxAudioTracks must be between 1 and 32.");
        }

        if (MaxFrameRate is < 1 or > 240)
        {
            throw new ArgumentException("MaxFrameRate must be between 1 and 240.");
        }
    }
}

/// <summary>A rung as planned for one source: even output size, never larger than the source.</summary>
public sealed record PlannedRung(string Name, int Width, int Height, int Bitrate, int MaxRate, int BufferSize);

/// <summary>Derives the rungs for a source from the template.</summary>
public static class LadderPlanner
{
    /// <param name="displayWidth">Source width after rotation.</param>
    /// <param name="displayHeight">Source height after rotation.</param>
    public static IReadOnlyList<PlannedRung> Plan(int displayWidth, int displayHeight, IReadOnlyList<LadderRung> template)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentOutOfRangeException.ThrowIfLessThan(displayWidth, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(displayHeight, 2);

        // The template's "height" is the short side, so portrait sources get portrait rungs of the same class.
        var portrait = displayHeight > displayWidth;
        var shortSide = Math.Min(displayWidth, displayHeight);
        var longSide = Math.Max(displayWidth, displayHeight);
        var rungs = new List<PlannedRung>();
        foreach (var r in template.OrderByDescending(r => r.Height))
        {
            if (r.Height > shortSide)
            {
                continue; // never upscale
            }

            var s = Even(r.Height);
            var l = Even((int)Math.Round((double)longSide * r.Height / shortSide));
            var (w, h) = portrait ? (s, l) : (l, s);
            if (rungs.Any(x => x.Width == w && x.Height == h))
            {
                continue;
            }

            rungs.Add(new PlannedRung($"{r.Height}p", w, h, r.Bitrate, r.MaxRate, r.BufferSize));
        }

        if (rungs.Count == 0)
        {
            // Smaller than the smallest rung: one rung at the source size (made even), bitrate scaled by area.
            var smallest = template.MinBy(r => r.Height)!;
            var (w, h) = (Even(displayWidth), Even(displayHeight));
            var area = (double)w * h / (smallest.Height * smallest.Height * 16.0 / 9.0);
            var bitrate = (int)Math.Max(64_000, smallest.Bitrate * Math.Min(1.0, area));
            rungs.Add(new PlannedRung($"{Math.Min(w, h)}p", w, h, bitrate, (int)(bitrate * 1.1), (int)(bitrate * 1.5)));
        }

        return rungs;
    }

    internal static int Even(int value) => Math.Max(2, value & ~1);
}
