using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Captions;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Jobs;

/// <summary>
/// Runs transcode jobs from the <c>jobs</c> table, <see cref="JobOptions.Concurrency"/> at a time. Per job:
/// (1) fast start, when the video has no presentation yet: the lowest rung and the audio, stored under
/// <c>vod/{video}/{job}-p/</c> and published (the video plays while still "processing"; a replaced source skips it and
/// the previous presentation plays on); (2) the full ladder under <c>vod/{video}/{job}/</c>, published with the video
/// "ready" in one update; (3) the presentations it replaced, the work directory and the source are deleted.
/// A job leased by a process that died goes back to the queue; a restarted job resumes after the last step it
/// published (the preview, or everything but the clean-up). <c>vod_prefix</c> changes only after every file of
/// the presentation is stored, so no viewer is ever pointed at half of one.
/// </summary>
internal sealed partial class JobWorker : BackgroundService
{

    private readonly JobStore _store;
    private readonly LocalJobs _local;
    private readonly IVideoTranscoder _transcoder;
    private readonly IBlobStorage _blobs;
    private readonly SourceCaptions _captions;
    private readonly JobOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _workPath;

    public JobWorker(JobStore store, LocalJobs local, IVideoTranscoder transcoder, IBlobStorage blobs, SourceCaptions captions, IOptions<JobOptions> options,
        IOptions<ControlPlaneOptions> controlPlane, TimeProvider time, ILogger<JobWorker> logger)
    {
        _store = store;
        _local = local;
        _transcoder = transcoder;
        _blobs = blobs;
        _captions = captions;
        _options = options.Value;
        _time = time;
        _logger = logger;
        var data = Path.GetFullPath(controlPlane.Value.DataPath);
        _workPath = _options.ResolveWorkPath(data);

        // One daemon per machine and data directory: a job leased by an earlier run of this node is abandoned for sure.
        Node = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Environment.MachineName + "\n" + data)).AsSpan(0, 8));
        Owner = Node + ":" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    }

    /// <summary>Stable per machine and data directory (hex, so it is safe in a LIKE pattern).</summary>
    public string Node { get; }

    /// <summary>This process's lease owner: node and a random run id.</summary>
    public string Owner { get; }

    private TimeSpan HeartbeatInterval => _options.LeaseDuration / 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // start-up of the host does not wait for the first database round trips
        var running = new List<Task>();
        var lastRecovery = long.MinValue;
        var lastSweep = _time.GetTimestamp();
        var started = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!started)
                {
                    await RecoverAsync(stoppingToken).ConfigureAwait(false);
                    SweepWorkDirectories(await _store.RunningIdsAsync(stoppingToken).ConfigureAwait(false));
                    started = true;
                    lastRecovery = _time.GetTimestamp();
                }
                else if (_time.GetElapsedTime(lastRecovery) >= _options.LeaseDuration)
                {
                    await RecoverAsync(stoppingToken).ConfigureAwait(false);
                    lastRecovery = _time.GetTimestamp();
                }

                // Retired presentations: nothing is ever recorded with a zero retention; otherwise read as often as
                // the retention is short, at most once a minute (it is an hour by default).
                if (_options.RetiredRetention > TimeSpan.Zero
                    && _time.GetElapsedTime(lastSweep) >= TimeSpan.FromTicks(Math.Min(_options.RetiredRetention.Ticks, TimeSpan.TicksPerMinute)))
                {
                    await SweepRetiredAsync(stoppingToken).ConfigureAwait(false);
                    lastSweep = _time.GetTimestamp();
                }

                running.RemoveAll(t => t.IsCompleted);
                var free = _options.Concurrency - running.Count;
                if (free > 0)
                {
                    foreach (var job in await _store.ClaimAsync(Owner, free, _options.LeaseDuration, stoppingToken).ConfigureAwait(false))
                    {
                        Log.Claimed(_logger, job.Id, job.VideoId, job.Attempts, job.MaxAttempts);
                        running.Add(RunGuardedAsync(job, stoppingToken));
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The loop outlives any one failure (database away, disk full): an exception escaping a
                // BackgroundService stops the whole daemon, live streams included.
                Log.QueueError(_logger, e.Message);
            }

            try
            {
                await _local.WaitAsync(_options.PollInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // Each job hands itself back to the queue on the way out (see RunAsync).
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var (requeued, exhausted) = await _store.RecoverAsync(Node, Owner, cancellationToken).ConfigureAwait(false);
        if (requeued > 0)
        {
            Log.Requeued(_logger, requeued);
        }

        foreach (var job in exhausted)
        {
            var reason = $"Processing was interrupted {job.Attempts} times (the server stopped while transcoding this file); giving up.";
            if (await _store.FailAsync(job, null, reason, reason, cancellationToken).ConfigureAwait(false))
            {
                Log.Failed(_logger, job.Id, job.VideoId, reason);
                await DeleteOutputsAsync(job).ConfigureAwait(false);
                await DeleteSourceAsync(job).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Work directories of jobs not running anywhere are leftovers of a crash (Transcoder's partial output included).</summary>
    private void SweepWorkDirectories(HashSet<string> running)
    {
        if (!Directory.Exists(_workPath))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(_workPath))
        {
            if (!running.Contains(Path.GetFileName(dir)))
            {
                DeleteDirectory(dir);
            }
        }
    }

    private async Task RunGuardedAsync(JobRow job, CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(job, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only the bookkeeping after a run can get here (database away); the lease runs out and recovery retries.
            Log.QueueError(_logger, e.Message);
        }
    }

    private async Task RunAsync(JobRow job, CancellationToken stoppingToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var stopTicker = new CancellationTokenSource();
        _local.Register(job.Id, cancellation);
        var progress = new ProgressTracker();
        var ticker = TickAsync(job, progress, cancellation, stopTicker.Token);
        var work = Path.Combine(_workPath, job.Id);
        var state = new RunState();

        // Every line logged for this job, by the worker and the transcoder, names the job and its video.
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["JobId"] = job.Id, ["VideoId"] = job.VideoId });
        try
        {
            await Task.Yield();
            DeleteDirectory(work);
            await ProcessAsync(job, work, progress, state, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: not the job's fault; it goes back to the queue now rather than after its lease.
            await DeleteUnpublishedAsync(state).ConfigureAwait(false);
            await IgnoreDbErrors(() => _store.ReleaseAsync(job.Id, Owner, CancellationToken.None)).ConfigureAwait(false);
            Log.Released(_logger, job.Id);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Cancelled (API, newer upload), deleted with its video, or re-leased elsewhere after we stalled.
            var now = await _store.StateAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            if (now is null or JobState.Cancelled)
            {
                await DeleteOutputsAsync(job).ConfigureAwait(false);
                await DeleteSourceAsync(job).ConfigureAwait(false);
            }

            Log.Stopped(_logger, job.Id, now ?? "deleted");
        }
        catch (MediaRejectedException e)
        {
            await FailAsync(job, e.Message, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var error = Redact(e.Message);
            if (job.Attempts < job.MaxAttempts)
            {
                var delay = RetryDelay(job.Attempts);
                await DeleteUnpublishedAsync(state).ConfigureAwait(false);
                if (await IgnoreDbErrors(() => _store.RetryLaterAsync(job, Owner, error, delay, CancellationToken.None)).ConfigureAwait(false))
                {
                    Log.Retrying(_logger, job.Id, job.Attempts, job.MaxAttempts, delay.TotalSeconds, e);
                }
            }
            else
            {
                Log.Exhausted(_logger, job.Id, e);
                await FailAsync(job, error, $"Processing failed after {job.Attempts} attempts: {error}").ConfigureAwait(false);
            }
        }
        finally
        {
            await stopTicker.CancelAsync().ConfigureAwait(false);
            await ticker.ConfigureAwait(false);
            DeleteDirectory(work);
            _local.Unregister(job.Id);
            _local.Wake();
        }
    }

    private TimeSpan RetryDelay(int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.RetryBaseDelay.Ticks * factor, JobOptions.MaxRetryDelay.Ticks));
        return delay;
    }

    private async Task ProcessAsync(JobRow job, string work, ProgressTracker progress, RunState state, CancellationTokenSource cancellation)
    {
        var ct = cancellation.Token;
        var preview = VodPrefixes.Preview(job.VideoId, job.Id);
        var full = VodPrefixes.Full(job.VideoId, job.Id);
        var current = await _store.VodPrefixAsync(job.VideoId, ct).ConfigureAwait(false);
        var replaced = job.ReplacedPrefix;
        if (current != full)
        {
            var plan = await _transcoder.PlanAsync(job.SourcePath, ct).ConfigureAwait(false);
            var previewPublished = current == preview;
            // Fast start is for a first publication only. A replacement keeps serving the previous full presentation
            // until the new full ladder is stored (then PublishFullAsync switches in one update): publishing the
            // lowest rung over it would drop every viewer to that one rung while the new source is processed.
            var fastStart = _options.FastStart && plan.VideoRenditions > 1 && current is null;
            var share = fastStart || previewPublished ? plan.PreviewShare : 0;
            if (fastStart)
            {
                var dir = Path.Combine(work, "preview");
                var previewOutput = await _transcoder.TranscodeAsync(job.SourcePath, dir, TranscodePass.Preview, new Sink(p => progress.Set(share * p)), ct).ConfigureAwait(false);
                state.Uploading = preview;
                await UploadAsync(dir, preview, ct).ConfigureAwait(false);
                if (!await _store.PublishPreviewAsync(job, Owner, previewOutput, ct).ConfigureAwait(false))
                {
                    await LostAsync(cancellation).ConfigureAwait(false);
                }

                state.Uploading = null;
                Log.PreviewPublished(_logger, job.Id, job.VideoId, (_time.GetUtcNow() - job.CreatedAt).TotalSeconds);
                DeleteDirectory(dir);
            }

            progress.Set(share);
            var fullDir = Path.Combine(work, "full");
            var output = await _transcoder.TranscodeAsync(job.SourcePath, fullDir, TranscodePass.Full, new Sink(p => progress.Set(share + ((1 - share) * p))), ct).ConfigureAwait(false);
            state.Uploading = full;
            await UploadAsync(fullDir, full, ct).ConfigureAwait(false);

            // The source's subtitle tracks replace those of an earlier source, just ahead of the ladder they belong to.
            await _captions.ReplaceAsync(job.VideoId, output.Subtitles ?? [], ct).ConfigureAwait(false);
            var (published, previous) = await _store.PublishFullAsync(job, Owner, output, _options.RetiredRetention, ct).ConfigureAwait(false);
            if (!published)
            {
                await LostAsync(cancellation).ConfigureAwait(false);
            }

            state.Uploading = null;
            replaced = previous;
            Log.Ready(_logger, job.Id, job.VideoId, (_time.GetUtcNow() - job.CreatedAt).TotalSeconds, output.DurationSeconds);
        }

        // Published: from here on nothing may fail the job. What cannot be removed now is logged and left.
        progress.Set(1);
        if (_options.RetiredRetention == TimeSpan.Zero)
        {
            await TryAsync(job, () => _blobs.DeletePrefixAsync(preview, CancellationToken.None)).ConfigureAwait(false);
            if (replaced is not null && replaced != full && replaced != preview)
            {
                await TryAsync(job, () => _blobs.DeletePrefixAsync(replaced, CancellationToken.None)).ConfigureAwait(false);
            }
        }

        DeleteDirectory(work);
        await DeleteSourceAsync(job).ConfigureAwait(false);
        await _store.CompleteAsync(job.Id, Owner, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Deletes the retired presentations that are due (idempotent: several daemons may sweep at once).</summary>
    private async Task SweepRetiredAsync(CancellationToken cancellationToken)
    {
        foreach (var prefix in await _store.DueRetiredAsync(100, cancellationToken).ConfigureAwait(false))
        {
            await _blobs.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
            await _store.ForgetRetiredAsync(prefix, cancellationToken).ConfigureAwait(false);
            Log.Retired(_logger, prefix);
        }
    }

    private static async Task LostAsync(CancellationTokenSource cancellation)
    {
        await cancellation.CancelAsync().ConfigureAwait(false);
        cancellation.Token.ThrowIfCancellationRequested();
    }

    /// <summary>Stores every file of a presentation under <paramref name="prefix"/>, after removing what an earlier attempt left there.</summary>
    private async Task UploadAsync(string directory, string prefix, CancellationToken cancellationToken)
    {
        await _blobs.DeletePrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, file).Replace(Path.DirectorySeparatorChar, '/');
            await _blobs.PutFileAsync(prefix + "/" + relative, file, MediaContentTypes.Of(file), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FailAsync(JobRow job, string error, string reason)
    {
        if (await IgnoreDbErrors(() => _store.FailAsync(job, Owner, error, reason, CancellationToken.None)).ConfigureAwait(false))
        {
            Log.Failed(_logger, job.Id, job.VideoId, reason);
            await DeleteOutputsAsync(job).ConfigureAwait(false);
            await DeleteSourceAsync(job).ConfigureAwait(false);
        }
    }

    private async Task DeleteUnpublishedAsync(RunState state)
    {
        if (state.Uploading is { } prefix)
        {
            await TryAsync(null, () => _blobs.DeletePrefixAsync(prefix, CancellationToken.None)).ConfigureAwait(false);
        }
    }

    private async Task DeleteOutputsAsync(JobRow job)
    {
        await TryAsync(job, () => _blobs.DeletePrefixAsync(VodPrefixes.Preview(job.VideoId, job.Id), CancellationToken.None)).ConfigureAwait(false);
        await TryAsync(job, () => _blobs.DeletePrefixAsync(VodPrefixes.Full(job.VideoId, job.Id), CancellationToken.None)).ConfigureAwait(false);
    }

    /// <summary>The queue owns the source: it goes when the job ends for good, unless a newer job was given the same file.</summary>
    private async Task DeleteSourceAsync(JobRow job)
    {
        await TryAsync(job, async () =>
        {
            if (!await _store.SourceInUseAsync(job.SourcePath, job.Id, CancellationToken.None).ConfigureAwait(false))
            {
                File.Delete(job.SourcePath);
            }
        }).ConfigureAwait(false);
    }

    private async Task TryAsync(JobRow? job, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DbException or InvalidOperationException)
        {
            Log.CleanupFailed(_logger, job?.Id ?? "-", e.Message);
        }
    }

    private async Task<T> IgnoreDbErrors<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            // The lease runs out and recovery puts the job back: nothing is lost but time.
            Log.QueueError(_logger, e.Message);
            return default!;
        }
    }

    private Task IgnoreDbErrors(Func<Task> action) => IgnoreDbErrors(async () =>
    {
        await action().ConfigureAwait(false);
        return true;
    });

    /// <summary>
    /// Every <see cref="JobOptions.ProgressInterval"/>: the video's progress (if it moved); every third of the lease: the heartbeat. A heartbeat that
    /// finds the job no longer running under this owner cancels the run.
    /// </summary>
    private async Task TickAsync(JobRow job, ProgressTracker progress, CancellationTokenSource run, CancellationToken stop)
    {
        var written = -1.0;
        var beat = _time.GetTimestamp();
        while (true)
        {
            try
            {
                await Task.Delay(_options.ProgressInterval, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var percent = Math.Round(progress.Value * 100, 1);
            try
            {
                if (percent != written || _time.GetElapsedTime(beat) >= HeartbeatInterval)
                {
                    if (!await _store.HeartbeatAsync(job.Id, Owner, percent, _options.LeaseDuration, stop).ConfigureAwait(false))
                    {
                        Log.LeaseLost(_logger, job.Id);
                        await run.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    beat = _time.GetTimestamp();
                }

                if (percent != written)
                {
                    await _store.SetVideoProgressAsync(job, Owner, percent, stop).ConfigureAwait(false);
                    written = percent;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
            {
                Log.QueueError(_logger, e.Message);
            }
        }
    }

    private void DeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(_logger, Path.GetFileName(directory), e.Message);
        }
    }

    /// <summary>Error text for the owner of a video: no server paths.</summary>
    internal static string Redact(string message) => AbsolutePath().Replace(message, "…");

    [GeneratedRegex(@"(?<![\w.])/(?:[\w.@+-]+/)*[\w.@+-]+")]
    private static partial Regex AbsolutePath();

    private sealed class RunState
    {
        /// <summary>The prefix being written and not yet published: removed if the run ends early.</summary>
        public string? Uploading { get; set; }
    }

    /// <summary>Overall progress 0..1, never moving backwards within a run.</summary>
    private sealed class ProgressTracker
    {
        private readonly Lock _lock = new();
        private double _value;

        public double Value
        {
            get
            {
                lock (_lock)
                {
                    return _value;
                }
            }
        }

        public void Set(double value)
        {
            lock (_lock)
            {
                _value = Math.Clamp(Math.Max(_value, value), 0, 1);
            }
        }
    }

    /// <summary>Reports on the reporting thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Sink(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4510, Level = LogLevel.Information, Message = "Transcode job {JobId} of video {VideoId} started (attempt {Attempt} of {MaxAttempts})")]
        public static partial void Claimed(ILogger logger, string jobId, string videoId, int attempt, int maxAttempts);

        [LoggerMessage(EventId = 4511, Level = LogLevel.Information, Message = "Transcode job {JobId}: video {VideoId} playable (fast start) {Seconds:0.00} s after it was queued")]
        public static partial void PreviewPublished(ILogger logger, string jobId, string videoId, double seconds);

        [LoggerMessage(EventId = 4512, Level = LogLevel.Information, Message = "Transcode job {JobId}: video {VideoId} ready {Seconds:0.00} s after it was queued ({Duration:0.00} s of media)")]
        public static partial void Ready(ILogger logger, string jobId, string videoId, double seconds, double duration);

        [LoggerMessage(EventId = 4513, Level = LogLevel.Warning, Message = "Transcode job {JobId} attempt {Attempt} of {MaxAttempts} failed; retrying in {Seconds:0.0} s")]
        public static partial void Retrying(ILogger logger, string jobId, int attempt, int maxAttempts, double seconds, Exception exception);

        [LoggerMessage(EventId = 4514, Level = LogLevel.Warning, Message = "Transcode job {JobId} of video {VideoId} failed: {Reason}")]
        public static partial void Failed(ILogger logger, string jobId, string videoId, string reason);

        [LoggerMessage(EventId = 4515, Level = LogLevel.Error, Message = "Transcode job {JobId} failed on its last attempt")]
        public static partial void Exhausted(ILogger logger, string jobId, Exception exception);

        [LoggerMessage(EventId = 4516, Level = LogLevel.Information, Message = "Transcode job {JobId} handed back to the queue at shutdown")]
        public static partial void Released(ILogger logger, string jobId);

        [LoggerMessage(EventId = 4517, Level = LogLevel.Information, Message = "Transcode job {JobId} stopped: it is now {State}")]
        public static partial void Stopped(ILogger logger, string jobId, string state);

        [LoggerMessage(EventId = 4518, Level = LogLevel.Warning, Message = "Transcode job {JobId}: lease lost (cancelled, deleted, or taken over after a stall)")]
        public static partial void LeaseLost(ILogger logger, string jobId);

        [LoggerMessage(EventId = 4519, Level = LogLevel.Information, Message = "{Count} interrupted transcode job(s) put back in the queue")]
        public static partial void Requeued(ILogger logger, int count);

        [LoggerMessage(EventId = 4520, Level = LogLevel.Warning, Message = "Job queue: {Error}")]
        public static partial void QueueError(ILogger logger, string error);

        [LoggerMessage(EventId = 4521, Level = LogLevel.Warning, Message = "Transcode job {JobId}: clean-up failed: {Error}")]
        public static partial void CleanupFailed(ILogger logger, string jobId, string error);

        [LoggerMessage(EventId = 4522, Level = LogLevel.Information, Message = "Retired presentation {Prefix} deleted (its retention ran out)")]
        public static partial void Retired(ILogger logger, string prefix);
    }
}
