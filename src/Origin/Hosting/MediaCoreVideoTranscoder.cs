using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Videos;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Probe;
using StreamVerse.MediaCore.Subtitles;
using StreamVerse.MediaCore.Transcode;

namespace StreamVerse.Origin.Hosting;

/// <summary>
/// The control plane's <see cref="IVideoTranscoder"/> over MediaCore: maps <c>StreamVerse:ControlPlane:Jobs:Ladder</c>
/// onto <see cref="LadderOptions"/> and MediaCore's refusals onto <see cref="MediaRejectedException"/> with a message
/// for the uploader (the server's file name replaced by "the file").
/// </summary>
internal sealed partial class MediaCoreVideoTranscoder(Transcoder transcoder, IOptions<JobOptions> options, ILogger<MediaCoreVideoTranscoder> logger) : IVideoTranscoder
{
    // Relative cost of decoding the source once against encoding one rung of the same size (x264 dominates).
    private const double DecodeWeight = 0.3;

    // AVERROR_INVALIDDATA = -MKTAG('I','N','D','A'): the input, not the machine, is at fault.
    private const int AvErrorInvalidData = -0x41444E49;

    private IReadOnlyList<LadderRung> Template { get; } = options.Value.Ladder.AboveHd ? LadderOptions.WithAboveHd(Configured(options.Value)) : Configured(options.Value);

    private static IReadOnlyList<LadderRung> Configured(JobOptions options) => options.Ladder.Rungs.Count == 0
        ? LadderOptions.DefaultRungs
        : [.. options.Ladder.Rungs.Select(r => new LadderRung(r.Height, r.Bitrate))];

    public Task<TranscodePlan> PlanAsync(string sourcePath, CancellationToken cancellationToken) => Task.Run(() =>
    {
        MediaInfo info;
        try
        {
            info = MediaProbe.Probe(sourcePath);
        }
        catch (MediaProbeException e)
        {
            throw Rejected(e, sourcePath);
        }

        if (info.Video is not { } video)
        {
            return new TranscodePlan(0, 0);
        }

        // Work ~ pixels: each pass decodes the whole source once and encodes its rungs.
        var rungs = LadderPlanner.Plan(video.DisplayWidth, video.DisplayHeight, Template);
        var decode = DecodeWeight * video.Width * video.Height;
        var lowest = rungs.Min(r => (double)r.Width * r.Height);
        var all = rungs.Sum(r => (double)r.Width * r.Height);
        var preview = decode + lowest;
        return new TranscodePlan(rungs.Count, preview / (preview + decode + all));
    }, cancellationToken);

    public async Task<TranscodeOutput> TranscodeAsync(string sourcePath, string outputDir, TranscodePass pass, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var ladder = options.Value.Ladder;
        var lowest = Template.MinBy(r => r.Height)!;
        var ladderOptions = new LadderOptions
        {
            // The preview is the full ladder's lowest rung: the template's smallest (or the source size when smaller).
            Rungs = pass == TranscodePass.Preview ? [lowest] : Template,
            Thumbnails = pass == TranscodePass.Full,
            Preset = ladder.Preset,
            SegmentDuration = ladder.SegmentDuration,
            AudioBitrate = ladder.AudioBitrate,
            MaxFrameRate = ladder.MaxFrameRate,
            MaxAudioTracks = ladder.MaxAudioTracks,
            Nice = ladder.Nice,
        };
        try
        {
            var result = await transcoder.TranscodeAsync(sourcePath, outputDir, ladderOptions, progress, cancellationToken).ConfigureAwait(false);
            var subtitles = pass == TranscodePass.Full ? await SubtitlesAsync(sourcePath, outputDir, cancellationToken).ConfigureAwait(false) : null;
            return new TranscodeOutput(result.Duration.TotalSeconds, result.Poster is not null,
                [.. result.AudioTracks.Select(a => new AudioTrack(a.Language, a.Name, a.IsDefault))], subtitles);
        }
        catch (MediaProbeException e)
        {
            throw Rejected(e, sourcePath);
        }
        catch (InvalidDataException e)
        {
            throw new MediaRejectedException("The file's data is damaged: " + e.Message, e);
        }
        catch (AvException e) when (e.ErrorCode == AvErrorInvalidData)
        {
            throw new MediaRejectedException("The file could not be decoded: its data is damaged or not what its format promises.", e);
        }
    }

    /// <summary>
    /// The source's text subtitle tracks, as SubRip files in <c>{outputDir}-captions</c> (beside the presentation, which
    /// is uploaded as a whole). Captions are an extra: a track that cannot be read is logged and left out, never a
    /// reason to fail a transcode that succeeded.
    /// </summary>
    private async Task<IReadOnlyList<SourceSubtitle>> SubtitlesAsync(string sourcePath, string outputDir, CancellationToken cancellationToken)
    {
        var dir = Path.TrimEndingDirectorySeparator(outputDir) + "-captions";
        try
        {
            var found = await Task.Run(() => SubtitleExtractor.Extract(sourcePath, dir, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var s in found.Skipped)
            {
                Log.SubtitleSkipped(logger, s.StreamIndex, s.Codec, s.Language ?? "und", s.Reason);
            }

            return [.. found.Tracks.Select(t => new SourceSubtitle(t.Language, t.Title, t.Path))];
        }
        catch (Exception e) when (e is AvException or MediaProbeException or IOException)
        {
            Log.SubtitlesFailed(logger, e.Message);
            return [];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Source subtitle stream {Stream} ({Codec}, {Language}) not taken as captions: {Reason}")]
        public static partial void SubtitleSkipped(ILogger logger, int stream, string codec, string language, string reason);

        [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Source subtitles could not be read, the video has none from its source: {Error}")]
        public static partial void SubtitlesFailed(ILogger logger, string error);
    }

    private static MediaRejectedException Rejected(MediaProbeException e, string sourcePath)
    {
        var quoted = "'" + Path.GetFileName(sourcePath) + "'";
        var message = e.Message.StartsWith(quoted, StringComparison.Ordinal)
            ? "The file" + e.Message[quoted.Length..]
            : e.Message.Replace(quoted, "the file", StringComparison.Ordinal);
        return new MediaRejectedException(message, e);
    }
}
