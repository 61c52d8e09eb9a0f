using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Jobs;

/// <summary>
/// The persistent queue's front: <see cref="IVideoJobQueue"/> for uploads, and cancellation for the API and for
/// video deletion. The jobs live in the <c>jobs</c> table, so a queued job survives a restart; <see cref="JobWorker"/>
/// runs them.
/// </summary>
internal sealed partial class VideoJobQueue(
    JobStore store, LocalJobs local, IBlobStorage blobs, IOptions<JobOptions> options, ILogger<VideoJobQueue> logger) : IVideoJobQueue
{
    public async Task<string> EnqueueTranscodeAsync(string videoId, string sourcePath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(videoId);
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        var (id, superseded) = await store.EnqueueAsync(videoId, Path.GetFullPath(sourcePath), options.Value.MaxAttempts, cancellationToken).ConfigureAwait(false);
        Log.Queued(logger, id, videoId);
        await CleanUpAsync(superseded, keepSource: Path.GetFullPath(sourcePath)).ConfigureAwait(false);
        local.Wake();
        return id;
    }

    /// <summary>Cancels the video's queued or running job; true when there was one.</summary>
    public async Task<bool> CancelAsync(string videoId, CancellationToken cancellationToken)
    {
        var cancelled = await store.CancelAsync(videoId, cancellationToken).ConfigureAwait(false);
        await CleanUpAsync(cancelled, keepSource: null).ConfigureAwait(false);
        return cancelled.Count > 0;
    }

    /// <summary>
    /// A job running here stops at once (its worker also removes what it was writing); one running elsewhere stops
    /// at its next heartbeat. Its stored prefixes and its source go now: the video no longer points at them.
    /// </summary>
    private async Task CleanUpAsync(List<EndedJob> jobs, string? keepSource)
    {
        foreach (var job in jobs)
        {
            Log.Cancelled(logger, job.Id, job.VideoId);
            local.Cancel(job.Id);
            try
            {
                // Not the caller's token: the database already says cancelled; leaving files behind helps nobody.
                await blobs.DeletePrefixAsync(VodPrefixes.Preview(job.VideoId, job.Id), CancellationToken.None).ConfigureAwait(false);
                await blobs.DeletePrefixAsync(VodPrefixes.Full(job.VideoId, job.Id), CancellationToken.None).ConfigureAwait(false);
                if (!string.Equals(job.SourcePath, keepSource, StringComparison.Ordinal)
                    && !await store.SourceInUseAsync(job.SourcePath, job.Id, CancellationToken.None).ConfigureAwait(false))
                {
                    File.Delete(job.SourcePath);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.CleanupFailed(logger, job.Id, e.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4500, Level = LogLevel.Information, Message = "Transcode job {JobId} queued for video {VideoId}")]
        public static partial void Queued(ILogger logger, string jobId, string videoId);

        [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "Transcode job {JobId} of video {VideoId} cancelled")]
        public static partial void Cancelled(ILogger logger, string jobId, string videoId);

        [LoggerMessage(EventId = 4502, Level = LogLevel.Warning, Message = "Cleaning up after cancelled job {JobId} failed: {Error}")]
        public static partial void CleanupFailed(ILogger logger, string jobId, string error);
    }
}
