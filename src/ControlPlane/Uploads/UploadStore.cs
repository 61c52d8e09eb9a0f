using System.Data.Common;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;

namespace StreamVerse.ControlPlane.Uploads;

internal sealed record UploadRow(string Id, string VideoId, string OwnerId, long Length, long Offset, string Metadata, string? Filename,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? CompletedAt)
{
    public const string Columns = "id, video_id, owner_id, length, upload_offset, metadata, filename, created_at, expires_at, completed_at";

    public static UploadRow Read(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6),
        d.ReadTimestamp(r, 7), d.ReadTimestamp(r, 8), d.ReadNullableTimestamp(r, 9));

    public bool IsComplete => CompletedAt is not null || Offset == Length;

    public bool IsExpired(DateTimeOffset now) => !IsComplete && ExpiresAt <= now;
}

/// <summary>
/// The rows of <c>uploads</c> and their files. Invariants: the row's <c>upload_offset</c> is the truth; bytes of
/// <c>{id}.part</c> past it are the remains of a write that never committed (crash, aborted request, rejected
/// checksum) and are cut off before the next append. An offset moves only after the bytes under it are flushed to
/// disk. A finished upload is renamed to <c>{id}.source</c> and handed to <see cref="IVideoJobQueue"/>, which then
/// owns the file.
/// </summary>
internal sealed partial class UploadStore(
    Database database,
    IOptions<UploadOptions> options,
    IOptions<ControlPlaneOptions> controlPlane,
    IServiceProvider services,
    TimeProvider time,
    ILogger<UploadStore> logger)
{
    private readonly string _directory = options.Value.Directory(controlPlane.Value.DataPath);

    public UploadLocks Locks { get; } = new(database);

    public UploadOptions Options => options.Value;

    public string PartPath(string id) => Path.Combine(_directory, id + ".part");

    public string SourcePath(string id) => Path.Combine(_directory, id + ".source");

    public async Task<UploadRow?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync($"SELECT {UploadRow.Columns} FROM uploads WHERE id = @id", [("id", id)], UploadRow.Read, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new, empty upload: the row and an empty part file.</summary>
    /// <summary>
    /// A new upload of <paramref name="length"/> bytes, or why the account may not start one now (<see cref="UploadOptions.MaxConcurrentPerAccount"/>,
    /// <see cref="UploadOptions.MaxBytesPerDay"/>; <paramref name="exempt"/> for admins) with when to try again. The check and the
    /// insert are one transaction serialised per account, so parallel requests cannot pass a quota together.
    /// </summary>
    public async Task<(UploadRow? Row, string? Refusal, TimeSpan RetryAfter)> CreateAsync(string videoId, string ownerId, long length, string metadata, string? filename,
        bool exempt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        var row = new UploadRow(Ids.New(), videoId, ownerId, length, 0, metadata, filename, now, now + o.Expiry, null);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.SerialiseAsync(DbSession.LockKey("uploads:" + ownerId), cancellationToken).ConfigureAwait(false);
        if (!exempt && o.MaxConcurrentPerAccount > 0
            && await db.ScalarAsync<long>("SELECT COUNT(*) FROM uploads WHERE owner_id = @o AND completed_at IS NULL AND expires_at > @now",
                [("o", ownerId), ("now", now)], cancellationToken).ConfigureAwait(false) >= o.MaxConcurrentPerAccount)
        {
            return (null, $"This account has {o.MaxConcurrentPerAccount} unfinished uploads: finish or cancel one first.", TimeSpan.FromMinutes(1));
        }

        var dayAgo = now - TimeSpan.FromDays(1);
        if (!exempt && o.MaxBytesPerDay > 0)
        {
            var used = await db.ScalarAsync<long?>("SELECT SUM(bytes) FROM upload_usage WHERE owner_id = @o AND created_at > @since",
                [("o", ownerId), ("since", dayAgo)], cancellationToken).ConfigureAwait(false) ?? 0;
            if (used + length > o.MaxBytesPerDay)
            {
                // Room comes back as the oldest uploads of the last 24 hours leave the window.
                var oldest = await db.QueryAsync("SELECT created_at FROM upload_usage WHERE owner_id = @o AND created_at > @since ORDER BY created_at LIMIT 1",
                    [("o", ownerId), ("since", dayAgo)], (r, d) => d.ReadTimestamp(r, 0), cancellationToken).ConfigureAwait(false);
                var retry = oldest.Count == 0 ? TimeSpan.FromDays(1) : oldest[0] + TimeSpan.FromDays(1) - now;
                return (null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"This account may start uploading at most {o.MaxBytesPerDay} bytes in 24 hours; {used} are used."), retry);
            }
        }

        Directory.CreateDirectory(_directory);
        await using (File.Create(PartPath(row.Id)))
        {
        }

        await db.ExecAsync(
            """
            INSERT INTO uploads (id, video_id, owner_id, length, upload_offset, metadata, filename, created_at, expires_at)
            VALUES (@id, @v, @o, @l, 0, @m, @f, @c, @e)
            """,
            [("id", row.Id), ("v", videoId), ("o", ownerId), ("l", length), ("m", metadata), ("f", filename), ("c", now), ("e", row.ExpiresAt)],
            cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("INSERT INTO upload_usage (id, owner_id, bytes, created_at) VALUES (@id, @o, @l, @c)",
            [("id", row.Id), ("o", ownerId), ("l", length), ("c", now)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM upload_usage WHERE owner_id = @o AND created_at <= @since", [("o", ownerId), ("since", dayAgo)], cancellationToken)
            .ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        Log.Created(logger, row.Id, videoId, length);
        return (row, null, TimeSpan.Zero);
    }

    /// <summary>Moves the offset after the bytes under it were flushed; renews the expiry. False when another writer moved it first.</summary>
    public async Task<(bool Moved, DateTimeOffset ExpiresAt)> AdvanceAsync(string id, long from, long to, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow() + options.Value.Expiry;
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync("UPDATE uploads SET upload_offset = @to, expires_at = @e WHERE id = @id AND upload_offset = @from",
            [("to", to), ("e", expires), ("id", id), ("from", from)], cancellationToken).ConfigureAwait(false);
        return (n == 1, expires);
    }

    /// <summary>
    /// A finished upload (offset == length): rename the part to the source, hand it to the job queue, then mark the
    /// row completed. Enqueue before the mark: a crash in between re-runs this on the next sweep, and the queue
    /// replaces an unfinished job of the same video, so the worst case is one repeated enqueue, never a lost one.
    /// Call with the upload's lock held. Returns the job id, or null when no job queue is registered or it refused
    /// (the upload stays "finished, not handed over" and the cleaner retries).
    /// </summary>
    public async Task<string?> CompleteAsync(UploadRow row, CancellationToken cancellationToken)
    {
        var part = PartPath(row.Id);
        var source = SourcePath(row.Id);
        if (File.Exists(part))
        {
            File.Move(part, source, overwrite: true);
        }

        var queue = services.GetService<IVideoJobQueue>();
        if (queue is null)
        {
            Log.NoJobQueue(logger, row.Id);
            return null;
        }

        string job;
        try
        {
            job = await queue.EnqueueTranscodeAsync(row.VideoId, source, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The bytes are safe and the row says "finished, not handed over": the cleaner retries every pass.
            Log.HandOverFailed(logger, e, row.Id, row.VideoId);
            return null;
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE uploads SET completed_at = @now WHERE id = @id AND completed_at IS NULL",
            [("now", time.GetUtcNow()), ("id", row.Id)], cancellationToken).ConfigureAwait(false);
        Log.Completed(logger, row.Id, row.VideoId, row.Length, job);
        return job;
    }

    /// <summary>Removes the row and, for an unfinished upload, its part file (a finished source belongs to the job queue).</summary>
    public async Task DeleteAsync(UploadRow row, CancellationToken cancellationToken)
    {
        File.Delete(PartPath(row.Id));
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM uploads WHERE id = @id", [("id", row.Id)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The video's uploads, finished or not (for <see cref="DeleteFiles"/> once the video is gone), read in the caller's session.</summary>
    public static Task<List<string>> IdsOfVideoAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        db.QueryAsync("SELECT id FROM uploads WHERE video_id = @v", [("v", videoId)], (r, _) => r.GetString(0), cancellationToken);

    /// <summary>
    /// The files of uploads whose rows are gone (their video was deleted): an unfinished <c>.part</c>, and a finished
    /// <c>.source</c> not yet taken by a job. A request still writing one fails when it finds no row; what it writes
    /// after this is an orphan for <see cref="SweepAsync"/>.
    /// </summary>
    public void DeleteFiles(IEnumerable<string> uploadIds)
    {
        foreach (var id in uploadIds)
        {
            File.Delete(PartPath(id));
            File.Delete(SourcePath(id));
        }
    }

    /// <summary>
    /// One cleaning pass: removes uploads past their expiry (unfinished: row and part file; finished: the row only)
    /// and hands over finished uploads that were never handed to the job queue (a crash or a missing queue).
    /// Uploads with a request in flight are skipped until the next pass. Returns how many uploads were removed.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<UploadRow> rows;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            rows = await db.QueryAsync(
                $"SELECT {UploadRow.Columns} FROM uploads WHERE expires_at <= @now OR (completed_at IS NULL AND upload_offset = length) ORDER BY expires_at LIMIT 1000",
                [("now", now)], UploadRow.Read, cancellationToken).ConfigureAwait(false);
        }

        var removed = 0;
        foreach (var candidate in rows)
        {
            await using var held = await Locks.AcquireAsync(candidate.Id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            var row = held is null ? null : await FindAsync(candidate.Id, cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                continue;
            }

            if (row.CompletedAt is null && row.Offset == row.Length)
            {
                await CompleteAsync(row, cancellationToken).ConfigureAwait(false);
            }
            else if (row.ExpiresAt <= now)
            {
                await DeleteAsync(row, cancellationToken).ConfigureAwait(false);
                Log.Expired(logger, row.Id, row.Offset, row.Length);
                removed++;
            }
        }

        return removed + await RemoveOrphansAsync(now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Part files whose row is gone without them (the video or the account was deleted: the rows cascade, files do
    /// not) and that nobody wrote to for an expiry period.
    /// </summary>
    private async Task<int> RemoveOrphansAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(_directory, "*.part"))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (new DateTimeOffset(File.GetLastWriteTimeUtc(path)) + options.Value.Expiry > now)
            {
                continue;
            }

            await using var held = await Locks.AcquireAsync(id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            if (held is not null && await FindAsync(id, cancellationToken).ConfigureAwait(false) is null)
            {
                File.Delete(path);
                Log.Orphan(logger, id);
                removed++;
            }
        }

        return removed;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Upload {UploadId} created for video {VideoId}: {Length} bytes")]
        public static partial void Created(ILogger logger, string uploadId, string videoId, long length);

        [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Upload {UploadId} of video {VideoId} complete ({Length} bytes), transcode job {JobId}")]
        public static partial void Completed(ILogger logger, string uploadId, string videoId, long length, string jobId);

        [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Upload {UploadId} expired at {Offset} of {Length} bytes and was removed")]
        public static partial void Expired(ILogger logger, string uploadId, long offset, long length);

        [LoggerMessage(EventId = 4304, Level = LogLevel.Information, Message = "Upload {UploadId}: part file without a row (its video or account was deleted) removed")]
        public static partial void Orphan(ILogger logger, string uploadId);

        [LoggerMessage(EventId = 4305, Level = LogLevel.Error, Message = "Upload {UploadId} of video {VideoId} is complete but the job queue refused it; retried at the next cleanup")]
        public static partial void HandOverFailed(ILogger logger, Exception exception, string uploadId, string videoId);

        [LoggerMessage(EventId = 4303, Level = LogLevel.Error, Message = "Upload {UploadId} is complete but no IVideoJobQueue is registered; it will be handed over when one is")]
        public static partial void NoJobQueue(ILogger logger, string uploadId);
    }
}
