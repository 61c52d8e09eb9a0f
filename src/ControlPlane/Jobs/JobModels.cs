using System.Collections.Concurrent;

namespace StreamVerse.ControlPlane.Jobs;

internal static class JobState
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>
/// Blob prefixes of a video's presentations. Every publish gets a prefix of its own (the job id, plus "-p" for the
/// fast-start preview), so a file is never replaced under a URL that caches or players may hold; the video's
/// <c>vod_prefix</c> names the one to serve and changes only after every file of it is stored.
/// </summary>
internal static class VodPrefixes
{
    public static string OfVideo(string videoId) => "vod/" + videoId;

    public static string Preview(string videoId, string jobId) => $"vod/{videoId}/{jobId}-p";

    public static string Full(string videoId, string jobId) => $"vod/{videoId}/{jobId}";
}

/// <summary><c>GET /api/v1/videos/{id}/job</c>: the video's latest transcode job.</summary>
/// <param name="Progress">Percent, 0..100, across the fast-start and full passes.</param>
/// <param name="Error">The last error (of a retried attempt, or why the job failed).</param>
/// <param name="StartedAt">When the latest attempt started.</param>
/// <param name="PlayableAt">When the first presentation of this job (the fast-start preview or the full ladder) was published.</param>
internal sealed record JobInfo(
    string Id, string VideoId, string State, double Progress, int Attempts, int MaxAttempts, string? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? PlayableAt, DateTimeOffset? FinishedAt, DateTimeOffset RunAfter);

/// <summary>
/// This process's side of the queue: wakes the worker when a job is queued here, and holds the cancellation of
/// every job running here, so a cancel or a newer upload stops it at once (other processes notice at their next
/// heartbeat, when their conditional update finds the job no longer theirs).
/// </summary>
internal sealed class LocalJobs
{
    private readonly Data.WakeSignal _wake = new();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    public void Wake() => _wake.Wake();

    /// <summary>Returns when woken or after <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, time, cancellationToken);

    public void Register(string jobId, CancellationTokenSource cancellation) => _running[jobId] = cancellation;

    public void Unregister(string jobId) => _running.TryRemove(jobId, out _);

    public void Cancel(string jobId)
    {
        if (_running.TryGetValue(jobId, out var cts))
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The job ended meanwhile.
            }
        }
    }
}
