using Microsoft.Extensions.Logging;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.MediaCore.Live;

/// <summary>What a live ladder transcodes: the rung template (only rungs smaller than the source are used) and the libx264 preset;
/// the transcoder's queue holds at most <paramref name="QueueFrames"/> frames and <paramref name="QueueBytes"/> bytes.</summary>
internal sealed record LiveLadderSettings(IReadOnlyList<LadderRung> Rungs, string Preset, int QueueFrames = 120, int QueueBytes = 32 * 1024 * 1024);

/// <summary>
/// The publish sink of a stream configured as a live ladder. Everything goes to the ladder's source stream as it
/// would without a ladder (audio and the source video, passed through); the video is also queued for the
/// transcoder thread (<see cref="LiveLadderWorker"/>), which decodes it once and feeds one encoder per rung.
/// <para>
/// Ingest never waits for the transcoder: the queue is bounded, and when it is full the rest of the current GOP
/// and every following frame up to the next keyframe are dropped for the rungs (counted, logged); the decoder
/// then restarts on a keyframe, and the passthrough rendition never misses a frame.
/// </para>
/// </summary>
internal sealed partial class LiveLadderSink : IMediaSink
{
    private readonly LiveLadder _ladder;
    private readonly LiveStreamRegistry _registry;
    private readonly LiveLadderSettings _settings;
    private readonly ILogger _logger;
    private readonly Action? _onDroppedGop;
    private bool _planned;
    private LiveLadderWorker? _worker;

    public LiveLadderSink(LiveLadder ladder, LiveStreamRegistry registry, LiveLadderSettings settings, ILogger logger, Action? onDroppedGop = null)
    {
        _ladder = ladder;
        _registry = registry;
        _settings = settings;
        _logger = logger;
        _onDroppedGop = onDroppedGop;
    }

    /// <summary>The worker once the rungs are planned (null for a source no rung is smaller than).</summary>
    internal LiveLadderWorker? Worker => _worker;

    public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
    {
        _ladder.Source.OnVideoConfig(avcDecoderConfigurationRecord);
        if (_planned)
        {
            return; // a mid-stream change is ignored, as the source stream ignores it
        }

        _planned = true;
        var name = _ladder.Source.Name;
        AvcConfig avc;
        try
        {
            avc = AvcConfig.Parse(avcDecoderConfigurationRecord);
        }
        catch (InvalidDataException)
        {
            return; // the source stream logs the bad configuration
        }

        // Never upscale, and the source itself is the passthrough rendition: only rungs below it are transcoded.
        var shortSide = Math.Min(avc.Width, avc.Height);
        var rungs = LadderPlanner.Plan(avc.Width, avc.Height, _settings.Rungs)
            .Where(r => Math.Min(r.Width, r.Height) < shortSide)
            .ToList();
        if (rungs.Count == 0)
        {
            Log.NoRungs(_logger, name, avc.Width, avc.Height);
            return;
        }

        var sinks = rungs.Select(r => _ladder.AddRung("video" + Math.Min(r.Width, r.Height).ToString(System.Globalization.CultureInfo.InvariantCulture), _registry)).ToList();
        _worker = new LiveLadderWorker(name, avcDecoderConfigurationRecord.ToArray(), avc.FrameRate ?? 0, rungs, sinks, _settings, _logger, _onDroppedGop);
        Log.Planned(_logger, name, avc.Width, avc.Height, string.Join(", ", rungs.Select(r => $"{r.Width}x{r.Height}@{r.Bitrate / 1000}k")), _settings.Preset);
        _worker.Start();
    }

    public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig) => _ladder.Source.OnAudioConfig(audioSpecificConfig);

    public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        _ladder.Source.OnSample(track, dts, pts, isKeyframe, data);
        if (track == TrackKind.Video)
        {
            _worker?.Enqueue(dts, pts, isKeyframe, data);
        }
    }

    public void OnEnd()
    {
        _ladder.Source.OnEnd();
        _worker?.Complete();
    }

    private static partial class Log
    {
        [LoggerMessage(4200, LogLevel.Information, "Live ladder for {Name}: source {Width}x{Height}, rungs {Rungs}, preset {Preset}")]
        public static partial void Planned(ILogger logger, string name, int width, int height, string rungs, string preset);

        [LoggerMessage(4201, LogLevel.Information, "Live ladder for {Name}: no rung is smaller than the source {Width}x{Height}; passthrough only")]
        public static partial void NoRungs(ILogger logger, string name, int width, int height);
    }
}
