using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVerse.MediaCore.Interop;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// Turns an uploaded file into a VOD ladder (CMAF segments, HLS + DASH manifests, poster, storyboard) in an
/// output directory. Meant to be called by a job runner: the work runs on a dedicated thread (libav blocks),
/// cancellation is checked between packets/frames, and nothing is left behind on failure: output is written
/// to a sibling temporary directory and moved into place only when complete.
/// </summary>
public sealed partial class Transcoder
{
    private readonly ILogger _logger;

    public Transcoder(ILogger<Transcoder>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        LibAv.EnsureInitialized();
    }

    /// <param name="input">A local media file.</param>
    /// <param name="outputDir">Must not exist, or be empty; it holds the presentation afterwards.</param>
    /// <param name="options">Ladder template and packaging options.</param>
    /// <param name="progress">0..1, reported about every 1 %.</param>
    /// <param name="ct">Honoured between frames; the partial output is removed.</param>
    public Task<LadderResult> TranscodeAsync(string input, string outputDir, LadderOptions options, IProgress<double>? progress, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        outputDir = Path.GetFullPath(outputDir);
        if (Directory.Exists(outputDir) && Directory.EnumerateFileSystemEntries(outputDir).Any())
        {
            throw new IOException($"Output directory '{outputDir}' is not empty.");
        }

        var parent = Path.GetDirectoryName(outputDir)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(outputDir)}.partial-{Guid.NewGuid():N}");

        var tcs = new TaskCompletionSource<LadderResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new ManualResetEventSlim(); // not disposed: the thread may still be inside Set when Wait returns; no handle is made
        var thread = new Thread(() =>
        {
            running.Set();
            try
            {
                Directory.CreateDirectory(temp);
                LadderResult result;
                using (var pipeline = new LadderPipeline(input, temp, options, _logger))
                {
                    result = pipeline.Run(progress, ct);
                }

                if (Directory.Exists(outputDir))
                {
                    Directory.Delete(outputDir); // empty, checked above
                }

                Directory.Move(temp, outputDir);
                Log.Finished(_logger, input, outputDir, result.Rungs.Count, result.Duration.TotalSeconds);
                tcs.SetResult(result with { OutputDirectory = outputDir });
            }
            catch (Exception e)
            {
                TryDelete(temp);
                if (e is OperationCanceledException && ct.IsCancellationRequested)
                {
                    Log.Cancelled(_logger, input);
                    tcs.SetCanceled(ct);
                }
                else
                {
                    Log.Failed(_logger, input, e);
                    tcs.SetException(e);
                }
            }
        })
        {
            IsBackground = true,
            Name = "mediacore-ladder",
        };
        ThreadNice.StartNamed(thread, running);
        return tcs.Task;
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException e)
        {
            Log.CleanupFailed(_logger, directory, e);
        }
        catch (UnauthorizedAccessException e)
        {
            Log.CleanupFailed(_logger, directory, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4110, LogLevel.Information, "Transcoded {Input} into {Output}: {Rungs} rungs, {Seconds:0.00} s")]
        public static partial void Finished(ILogger logger, string input, string output, int rungs, double seconds);

        [LoggerMessage(4111, LogLevel.Information, "Transcoding {Input} cancelled; partial output removed")]
        public static partial void Cancelled(ILogger logger, string input);

        [LoggerMessage(4112, LogLevel.Warning, "Transcoding {Input} failed; partial output removed")]
        public static partial void Failed(ILogger logger, string input, Exception exception);

        [LoggerMessage(4113, LogLevel.Warning, "Could not remove partial output {Directory}")]
        public static partial void CleanupFailed(ILogger logger, string directory, Exception exception);
    }
}
