using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Jobs;

/// <summary>Config section <c>StreamVerse:ControlPlane:Jobs</c>: the transcode queue and its ladder.</summary>
internal sealed class JobOptions
{
    public const string Section = "StreamVerse:ControlPlane:Jobs";

    /// <summary>Jobs this process runs at once (each one decodes once and encodes every rung).</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Runs of a job before it fails for good (a crash or a transient error counts; bad input fails at once).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Wait before the first retry; doubles with each further attempt (capped at <see cref="MaxRetryDelay"/>).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(1);

    /// <summary>How long a running job stays claimed without a heartbeat (renewed every third of it).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the queue is read when nothing in this process wakes the worker (jobs of other processes, retries).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Scratch space for transcodes; default <c>DATA/work</c>.</summary>
    public string? WorkPath { get; set; }

    /// <summary>
    /// How long a replaced presentation (the fast-start preview, the previous version) stays stored beyond the
    /// video's duration, for the players still on it; then the worker deletes it. Zero deletes it at once.
    /// </summary>
    public TimeSpan RetiredRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often a running job writes its progress to the video record (and checks its lease).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Publish the lowest rung first so viewers can start before the full ladder is done; only on a video's
    /// first publication (a replacement keeps the previous full presentation until its own ladder is ready).</summary>
    public bool FastStart { get; set; } = true;

    public LadderSettings Ladder { get; set; } = new();

    /// <summary>Config section <c>StreamVerse:ControlPlane:Jobs:Ladder</c>, mapped onto MediaCore's LadderOptions by the Origin.</summary>
    internal sealed class LadderSettings
    {
        /// <summary>Template rungs (short side in pixels, bits per second); empty: MediaCore's default ladder
        /// (1080/720/480/360/240). Only rungs no taller than the source are encoded.</summary>
        public List<RungSettings> Rungs { get; set; } = [];

        /// <summary>Adds 1440p (9 Mb/s) and 2160p (16 Mb/s) rungs to the ladder (the default or <see cref="Rungs"/>), used for
        /// sources that tall; off by default (small hosts: a 2160p rung costs about four times a 1080p one).</summary>
        public bool AboveHd { get; set; }

        public string Preset { get; set; } = "veryfast";

        public TimeSpan SegmentDuration { get; set; } = TimeSpan.FromSeconds(4);

        public int AudioBitrate { get; set; } = 128_000;

        /// <summary>How many of the source's audio streams (languages) are kept as alternative renditions (1-32); the
        /// source's default stream is always one of them.</summary>
        public int MaxAudioTracks { get; set; } = 8;

        /// <summary>Cap of the output frame rate (1-240). A source is encoded at constant rate at its nominal rate (that of
        /// its fastest part, for a variable-rate source), or at this cap when it is faster.</summary>
        public int MaxFrameRate { get; set; } = 60;

        /// <summary>
        /// Nice value (0-19) of the threads libavcodec and libx264 start for a job (most of its CPU): an upload being
        /// transcoded takes the CPU the viewers' event loops leave (PeerTube runs VOD transcodes at 15). 0 = the
        /// daemon's priority.
        /// </summary>
        public int Nice { get; set; } = 15;
    }

    internal sealed class RungSettings
    {
        public int Height { get; set; }

        public int Bitrate { get; set; }
    }

    public string ResolveWorkPath(string dataPath) => Path.GetFullPath(string.IsNullOrEmpty(WorkPath) ? Path.Combine(dataPath, "work") : WorkPath);

    internal static readonly string[] Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"];
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class JobOptionsValidator : IValidateOptions<JobOptions>
{
    public ValidateOptionsResult Validate(string? name, JobOptions o)
    {
        const string S = JobOptions.Section + ":";
        var errors = new List<string>();
        if (o.RetiredRetention < TimeSpan.Zero || o.RetiredRetention > TimeSpan.FromDays(30))
        {
            errors.Add(S + "RetiredRetention must be between 00:00:00 and 30.00:00:00");
        }

        if (o.ProgressInterval < TimeSpan.FromMilliseconds(10) || o.ProgressInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add(S + "ProgressInterval must be between 00:00:00.01 and 00:01:00");
        }

        if (o.Concurrency is < 1 or > 64)
        {
            errors.Add(S + "Concurrency must be between 1 and 64");
        }

        if (o.MaxAttempts is < 1 or > 100)
        {
            errors.Add(S + "MaxAttempts must be between 1 and 100");
        }

        if (o.RetryBaseDelay < TimeSpan.Zero || o.RetryBaseDelay > JobOptions.MaxRetryDelay)
        {
            errors.Add(S + "RetryBaseDelay must be between 00:00:00 and 01:00:00");
        }

        if (o.LeaseDuration < TimeSpan.FromSeconds(3) || o.LeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add(S + "LeaseDuration must be between 00:00:03 and 01:00:00");
        }

        if (o.PollInterval < TimeSpan.FromMilliseconds(50) || o.PollInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add(S + "PollInterval must be between 00:00:00.05 and 00:10:00");
        }

        if (!JobOptions.Presets.Contains(o.Ladder.Preset, StringComparer.Ordinal))
        {
            errors.Add(S + "Ladder:Preset must be one of " + string.Join(", ", JobOptions.Presets));
        }

        // MediaCore's own bounds (LadderOptions.Validate), checked here so that the daemon refuses to start.
        if (o.Ladder.SegmentDuration < TimeSpan.FromSeconds(1) || o.Ladder.SegmentDuration > TimeSpan.FromSeconds(20))
        {
            errors.Add(S + "Ladder:SegmentDuration must be between 00:00:01 and 00:00:20");
        }

        if (o.Ladder.Nice is < 0 or > 19)
        {
            errors.Add(S + "Ladder:Nice must be between 0 and 19");
        }

        if (o.Ladder.MaxFrameRate is < 1 or > 240)
        {
            errors.Add(S + "Ladder:MaxFrameRate must be between 1 and 240");
        }

        if (o.Ladder.MaxAudioTracks is < 1 or > 32)
        {
            errors.Add(S + "Ladder:MaxAudioTracks must be between 1 and 32");
        }

        if (o.Ladder.AudioBitrate is < 16_000 or > 512_000)
        {
            errors.Add(S + "Ladder:AudioBitrate must be between 16000 and 512000");
        }

        for (var i = 0; i < o.Ladder.Rungs.Count; i++)
        {
            var r = o.Ladder.Rungs[i];
            if (r.Height is < 16 or > 8192 || r.Bitrate is < 16_000 or > 100_000_000)
            {
                errors.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{S}Ladder:Rungs:{i} needs Height between 16 and 8192 and Bitrate between 16000 and 100000000"));
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
