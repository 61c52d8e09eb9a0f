using System.Data.Common;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Jobs;

/// <summary>A row of <c>jobs</c>.</summary>
internal sealed record JobRow(
    string Id, string VideoId, string State, string SourcePath, int Attempts, int MaxAttempts, double Progress, string? Error,
    DateTimeOffset RunAfter, string? LeaseOwner, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? PlayableAt,
    DateTimeOffset? FinishedAt, string? ReplacedPrefix)
{
    public const string Columns =
        "id, video_id, state, source_path, attempts, max_attempts, progress, error, run_after, lease_owner, created_at, started_at, playable_at, finished_at, replaced_prefix";

    public static JobRow Read(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Convert.ToInt32(r.GetValue(4), System.Globalization.CultureInfo.InvariantCulture),
        Convert.ToInt32(r.GetValue(5), System.Globalization.CultureInfo.InvariantCulture), r.GetDouble(6), r.IsDBNull(7) ? null : r.GetString(7),
        d.ReadTimestamp(r, 8), r.IsDBNull(9) ? null : r.GetString(9), d.ReadTimestamp(r, 10), d.ReadNullableTimestamp(r, 11),
        d.ReadNullableTimestamp(r, 12), d.ReadNullableTimestamp(r, 13), r.IsDBNull(14) ? null : r.GetString(14));

    public JobInfo ToInfo() => new(Id, VideoId, State, Progress, Attempts, MaxAttempts, Error, CreatedAt, StartedAt, PlayableAt, FinishedAt, RunAfter);
}

/// <summary>A job this call took out of the queue or the running set: what is left to clean up outside the database.</summary>
internal sealed record EndedJob(string Id, string VideoId, string SourcePath, bool WasRunning);

/// <summary>
/// Every statement of the queue, written once for SQLite and PostgreSQL. The invariants:
/// <list type="bullet">
/// <item>A job is claimed by <c>UPDATE ... WHERE id = @id AND state = 'queued'</c> and counted only if one row
/// changed: under PostgreSQL's row lock the loser re-reads the row and matches nothing; SQLite serialises writers.</item>
/// <item>Whatever a worker writes about its job (progress, publishing, the end) happens in a transaction that first
/// re-asserts "running and leased to me" with a conditional update of the job row. A cancel takes the same row lock
/// first, so a cancelled (or re-leased, or deleted) job can never publish or change its video afterwards.</item>
/// <item><c>videos.vod_prefix</c> changes only in those transactions, after the presentation is fully stored.</item>
/// <item>A public video's first full publication writes <see cref="VideoPublished"/> to the outbox in the same
/// transaction (<see cref="VideoPublication"/>): the event exists if and only if the video became ready.</item>
/// <item>Every full publication writes <see cref="VideoTranscodeFinished"/>, and a failure that flips the video to
/// <c>failed</c> writes <see cref="VideoTranscodeFailed"/>, in the transaction of that flip (the owner's "upload finished/failed").</item>
/// </list>
/// </summary>
internal sealed class JobStore(Database database, TimeProvider time, VodCatalog catalog, VideoPublication publication, Outbox outbox)
{
    private const string OwnerOfVideo =
        """
        SELECT c.id, c.owner_id, v.title FROM videos v JOIN channels c ON c.id = v.channel_id WHERE v.id = @v
        """;

    private const string Kind = "transcode";

    public async Task<(string JobId, List<EndedJob> Cancelled)> EnqueueAsync(string videoId, string sourcePath, int maxAttempts, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (await db.ScalarAsync<string>("SELECT id FROM videos WHERE id = @v", [("v", videoId)], cancellationToken).ConfigureAwait(false) is null)
        {
            throw new KeyNotFoundException($"no video {videoId}");
        }

        var cancelled = await CancelUnfinishedAsync(db, videoId, "superseded by a newer upload", now, cancellationToken).ConfigureAwait(false);
        var id = Ids.New();
        await db.ExecAsync(
            """
            INSERT INTO jobs (id, video_id, kind, state, source_path, attempts, max_attempts, progress, run_after, created_at, updated_at)
            VALUES (@id, @v, @k, 'queued', @src, 0, @max, 0, @now, @now, @now)
            """,
            [("id", id), ("v", videoId), ("k", Kind), ("src", sourcePath), ("max", maxAttempts), ("now", now)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            "UPDATE videos SET status = @s, processing_progress = 0, failure_reason = NULL, updated_at = @now WHERE id = @v",
            [("s", VideoStatus.Processing), ("now", now), ("v", videoId)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        catalog.Invalidate(videoId);
        return (id, cancelled);
    }

    /// <summary>Cancels the video's unfinished job (if any): it ends "cancelled", the video goes back to the
    /// presentation it had before (status "ready", nothing failed: the job says it was cancelled) or to "draft", with
    /// reason "cancelled".</summary>
    public async Task<List<EndedJob>> CancelAsync(string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var cancelled = await CancelUnfinishedAsync(db, videoId, "cancelled", now, cancellationToken).ConfigureAwait(false);
        if (cancelled.Count > 0)
        {
            await db.ExecAsync(
                """
                UPDATE videos SET status = CASE WHEN vod_prefix IS NULL THEN @draft ELSE @ready END,
                    failure_reason = CASE WHEN vod_prefix IS NULL THEN 'cancelled' ELSE NULL END, processing_progress = NULL, updated_at = @now
                WHERE id = @v
                """,
                [("draft", VideoStatus.Draft), ("ready", VideoStatus.Ready), ("now", now), ("v", videoId)], cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        catalog.Invalidate(videoId);
        return cancelled;
    }

    private static async Task<List<EndedJob>> CancelUnfinishedAsync(DbSession db, string videoId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var open = await db.QueryAsync(
            $"SELECT {JobRow.Columns} FROM jobs WHERE video_id = @v AND state IN ('queued', 'running')",
            [("v", videoId)], JobRow.Read, cancellationToken).ConfigureAwait(false);
        var ended = new List<EndedJob>();
        foreach (var job in open)
        {
            var changed = await db.ExecAsync(
                """
                UPDATE jobs SET state = 'cancelled', error = @e, finished_at = @now, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = @id AND state IN ('queued', 'running')
                """,
                [("e", reason), ("now", now), ("id", job.Id)], cancellationToken).ConfigureAwait(false);
            if (changed == 0)
            {
                continue;
            }

            await RestoreIfPreviewAsync(db, job, now, cancellationToken).ConfigureAwait(false);
            ended.Add(new EndedJob(job.Id, job.VideoId, job.SourcePath, job.State == JobState.Running));
        }

        return ended;
    }

    /// <summary>A job that ends without its full ladder must not leave its preview published: the video goes back
    /// to the presentation the preview replaced (or none).</summary>
    private static async Task RestoreIfPreviewAsync(DbSession db, JobRow job, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecAsync(
            "UPDATE videos SET vod_prefix = @replaced, updated_at = @now WHERE id = @v AND vod_prefix = @preview",
            [("replaced", job.ReplacedPrefix), ("now", now), ("v", job.VideoId), ("preview", VodPrefixes.Preview(job.VideoId, job.Id))],
            cancellationToken).ConfigureAwait(false);

    /// <summary>Claims up to <paramref name="count"/> due jobs for <paramref name="owner"/>, oldest first.</summary>
    public async Task<List<JobRow>> ClaimAsync(string owner, int count, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var candidates = await db.QueryAsync(
            "SELECT id FROM jobs WHERE state = 'queued' AND run_after <= @now ORDER BY run_after, created_at LIMIT @n",
            [("now", now), ("n", count * 2)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        var claimed = new List<JobRow>();
        foreach (var id in candidates)
        {
            if (claimed.Count == count)
            {
                break;
            }

            var changed = await db.ExecAsync(
                """
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = @o, lease_expires_at = @exp, started_at = @now, updated_at = @now
                WHERE id = @id AND state = 'queued'
                """,
                [("o", owner), ("exp", now + lease), ("now", now), ("id", id)], cancellationToken).ConfigureAwait(false);
            if (changed == 1)
            {
                claimed.Add((await db.SingleAsync($"SELECT {JobRow.Columns} FROM jobs WHERE id = @id", [("id", id)], JobRow.Read, cancellationToken).ConfigureAwait(false))!);
            }
        }

        return claimed;
    }

    /// <summary>Renews the lease and records progress; false when the job is no longer running under this owner
    /// (cancelled, deleted with its video, or re-leased after this process stalled past its lease).</summary>
    public async Task<bool> HeartbeatAsync(string jobId, string owner, double progress, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return await db.ExecAsync(
            "UPDATE jobs SET lease_expires_at = @exp, progress = @p, updated_at = @now WHERE id = @id AND state = 'running' AND lease_owner = @o",
            [("exp", now + lease), ("p", progress), ("now", now), ("id", jobId), ("o", owner)], cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task SetVideoProgressAsync(JobRow job, string owner, double progress, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            UPDATE videos SET processing_progress = @p
            WHERE id = @v AND EXISTS (SELECT 1 FROM jobs WHERE id = @j AND state = 'running' AND lease_owner = @o)
            """,
            [("p", progress), ("v", job.VideoId), ("j", job.Id), ("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> VodPrefixAsync(string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>("SELECT vod_prefix FROM videos WHERE id = @v", [("v", videoId)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Points the video at this job's preview; the video stays "processing". False when the job is no longer ours.</summary>
    public async Task<bool> PublishPreviewAsync(JobRow job, string owner, TranscodeOutput output, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (!await LockAsync(db, job.Id, owner, now, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var current = await db.ScalarAsync<string>("SELECT vod_prefix FROM videos WHERE id = @v", [("v", job.VideoId)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE jobs SET replaced_prefix = @r, playable_at = COALESCE(playable_at, @now) WHERE id = @id",
            [("r", current), ("now", now), ("id", job.Id)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE videos SET vod_prefix = @p, audio_tracks = @a, updated_at = @now WHERE id = @v",
            [("p", VodPrefixes.Preview(job.VideoId, job.Id)), ("a", Videos.AudioTrackColumn.Write(output.AudioTracks)), ("now", now), ("v", job.VideoId)],
            cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        catalog.Invalidate(job.VideoId);
        return true;
    }

    /// <summary>
    /// The one update that makes the video ready on its full ladder. Returns the presentation it replaced that is
    /// not this job's (to delete), or <c>(false, null)</c> when the job is no longer ours.
    /// </summary>
    /// <param name="retention">How long the presentations it replaces (this job's preview, the previous version) stay
    /// stored for viewers who started on them, beyond the video's duration: they are recorded in
    /// <c>retired_presentations</c> in the same transaction, and <see cref="DueRetiredAsync"/> hands them out when due.
    /// Zero: none are recorded; the caller deletes them at once.</param>
    public async Task<(bool Published, string? Replaced)> PublishFullAsync(JobRow job, string owner, TranscodeOutput output, TimeSpan retention, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (!await LockAsync(db, job.Id, owner, now, cancellationToken).ConfigureAwait(false))
        {
            return (false, null);
        }

        var current = await db.ScalarAsync<string>("SELECT vod_prefix FROM videos WHERE id = @v", [("v", job.VideoId)], cancellationToken).ConfigureAwait(false);
        var replaced = current == VodPrefixes.Preview(job.VideoId, job.Id)
            ? await db.ScalarAsync<string>("SELECT replaced_prefix FROM jobs WHERE id = @id", [("id", job.Id)], cancellationToken).ConfigureAwait(false)
            : current;
        await db.ExecAsync("UPDATE jobs SET replaced_prefix = @r, playable_at = COALESCE(playable_at, @now), progress = 100 WHERE id = @id",
            [("r", replaced), ("now", now), ("id", job.Id)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            UPDATE videos SET vod_prefix = @p, status = @s, duration_seconds = @d, thumbnail_url = @th, processing_progress = 100,
                failure_reason = NULL, audio_tracks = @a, updated_at = @now
            WHERE id = @v
            """,
            [("p", VodPrefixes.Full(job.VideoId, job.Id)), ("s", VideoStatus.Ready), ("d", output.DurationSeconds),
             ("th", output.HasPoster ? Playback.OwnerThumbnails.PosterPath(job.VideoId) : null), ("a", Videos.AudioTrackColumn.Write(output.AudioTracks)),
             ("now", now), ("v", job.VideoId)], cancellationToken).ConfigureAwait(false);
        await publication.PublishIfFirstInAsync(db, job.VideoId, now, cancellationToken).ConfigureAwait(false);
        if (await OwnerAsync(db, job.VideoId, cancellationToken).ConfigureAwait(false) is { } finished)
        {
            await outbox.AddAsync(db, new VideoTranscodeFinished(job.VideoId, finished.ChannelId, finished.OwnerId, finished.Title, job.Id, now), cancellationToken).ConfigureAwait(false);
        }

        if (retention > TimeSpan.Zero)
        {
            // A player that loaded a VOD media playlist keeps fetching that version's segments for the whole video;
            // deleting the preview (or the previous version) now would break exactly the viewers fast start served.
            var due = now + retention + TimeSpan.FromSeconds(Math.Max(0, output.DurationSeconds));
            foreach (var prefix in new[] { VodPrefixes.Preview(job.VideoId, job.Id), replaced })
            {
                if (prefix is not null && prefix != VodPrefixes.Full(job.VideoId, job.Id))
                {
                    await db.ExecAsync(
                        "INSERT INTO retired_presentations (prefix, video_id, delete_after) VALUES (@p, @v, @due) ON CONFLICT (prefix) DO NOTHING",
                        [("p", prefix), ("v", job.VideoId), ("due", due)], cancellationToken).ConfigureAwait(false);
                }
            }
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        catalog.Invalidate(job.VideoId);
        return (true, replaced);
    }

    /// <summary>The video's channel, its owner and its title, for the events about the owner's upload.</summary>
    private static Task<Owner?> OwnerAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        db.SingleAsync(OwnerOfVideo, [("v", videoId)], (r, _) => new Owner(r.GetString(0), r.GetString(1), r.GetString(2)), cancellationToken);

    private sealed record Owner(string ChannelId, string OwnerId, string Title);

    /// <summary>Retired presentations whose time has come (oldest first, at most <paramref name="limit"/>).</summary>
    public async Task<List<string>> DueRetiredAsync(int limit, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.QueryAsync(
            "SELECT prefix FROM retired_presentations WHERE delete_after <= @now ORDER BY delete_after LIMIT @n",
            [("now", time.GetUtcNow()), ("n", limit)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After a retired presentation's files are deleted.</summary>
    public async Task ForgetRetiredAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM retired_presentations WHERE prefix = @p", [("p", prefix)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After the old presentations, the work dir and the source are gone.</summary>
    public async Task CompleteAsync(string jobId, string owner, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await db.ExecAsync(
            """
            UPDATE jobs SET state = 'succeeded', progress = 100, error = NULL, finished_at = @now, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = @id AND state = 'running' AND lease_owner = @o
            """,
            [("now", now), ("id", jobId), ("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Back to the queue after <paramref name="delay"/> (a transient error).</summary>
    public async Task<bool> RetryLaterAsync(JobRow job, string owner, string error, TimeSpan delay, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return await db.ExecAsync(
            """
            UPDATE jobs SET state = 'queued', error = @e, run_after = @after, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = @id AND state = 'running' AND lease_owner = @o
            """,
            [("e", error), ("after", now + delay), ("now", now), ("id", job.Id), ("o", owner)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>Graceful shutdown: back to the queue at once, and the interrupted run is not counted as an attempt.</summary>
    public async Task ReleaseAsync(string jobId, string owner, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await db.ExecAsync(
            """
            UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_after = @now, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = @id AND state = 'running' AND lease_owner = @o
            """,
            [("now", now), ("id", jobId), ("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Fails the job for good: the video becomes "failed" with <paramref name="reason"/> and goes back to
    /// the presentation it had before this job (if any). <paramref name="owner"/> null: whoever holds it (recovery).</summary>
    public async Task<bool> FailAsync(JobRow job, string? owner, string error, string reason, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var changed = await db.ExecAsync(
            "UPDATE jobs SET state = 'failed', error = @e, finished_at = @now, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL "
            + (owner is null ? "WHERE id = @id AND state = 'running'" : "WHERE id = @id AND state = 'running' AND lease_owner = @o"),
            [("e", error), ("now", now), ("id", job.Id), ("o", owner ?? "")], cancellationToken).ConfigureAwait(false);
        if (changed == 0)
        {
            return false;
        }

        var replaced = await db.ScalarAsync<string>("SELECT replaced_prefix FROM jobs WHERE id = @id", [("id", job.Id)], cancellationToken).ConfigureAwait(false);
        await RestoreIfPreviewAsync(db, job with { ReplacedPrefix = replaced }, now, cancellationToken).ConfigureAwait(false);
        // A job that failed only in its clean-up has published its ladder: the video stays ready.
        var flipped = await db.ExecAsync(
            """
            UPDATE videos SET status = @s, failure_reason = @r, processing_progress = NULL, updated_at = @now
            WHERE id = @v AND (vod_prefix IS NULL OR vod_prefix <> @full)
            """,
            [("s", VideoStatus.Failed), ("r", reason), ("now", now), ("v", job.VideoId), ("full", VodPrefixes.Full(job.VideoId, job.Id))],
            cancellationToken).ConfigureAwait(false);
        if (flipped == 1 && await OwnerAsync(db, job.VideoId, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            await outbox.AddAsync(db, new VideoTranscodeFailed(job.VideoId, failed.ChannelId, failed.OwnerId, failed.Title, job.Id, reason, now), cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        catalog.Invalidate(job.VideoId);
        return true;
    }

    /// <summary>
    /// Jobs left "running" by a process that is gone: its lease expired, or it was an earlier run of this node
    /// (same machine and data directory, so it cannot still be alive). They go back to the queue; the run that
    /// was interrupted stays counted, so a file that kills the process every time ends "failed", not in a loop.
    /// Returns the ones that had no attempt left (for <see cref="FailAsync"/>).
    /// </summary>
    public async Task<(int Requeued, List<JobRow> Exhausted)> RecoverAsync(string node, string me, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        const string Abandoned = "state = 'running' AND (lease_expires_at < @now OR (lease_owner LIKE @node AND lease_owner <> @me))";
        (string, object?)[] args = [("now", now), ("node", node + ":%"), ("me", me)];
        var requeued = await db.ExecAsync(
            $"""
            UPDATE jobs SET state = 'queued', error = 'interrupted (the process running it stopped)', run_after = @now, updated_at = @now,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE {Abandoned} AND attempts < max_attempts
            """, args, cancellationToken).ConfigureAwait(false);
        var exhausted = await db.QueryAsync($"SELECT {JobRow.Columns} FROM jobs WHERE {Abandoned}", args, JobRow.Read, cancellationToken).ConfigureAwait(false);
        return (requeued, exhausted);
    }

    /// <summary>The job's state now, or null when its row is gone (the video was deleted).</summary>
    public async Task<string?> StateAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>("SELECT state FROM jobs WHERE id = @id", [("id", jobId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<HashSet<string>> RunningIdsAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var ids = await db.QueryAsync("SELECT id FROM jobs WHERE state = 'running'", [], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return [.. ids];
    }

    /// <summary>Whether an unfinished job other than <paramref name="exceptJob"/> still needs this source file.</summary>
    public async Task<bool> SourceInUseAsync(string sourcePath, string exceptJob, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>(
            "SELECT id FROM jobs WHERE source_path = @p AND id <> @j AND state IN ('queued', 'running') LIMIT 1",
            [("p", sourcePath), ("j", exceptJob)], cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task<JobRow?> LatestAsync(string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(
            $"SELECT {JobRow.Columns} FROM jobs WHERE video_id = @v ORDER BY created_at DESC, id DESC LIMIT 1",
            [("v", videoId)], JobRow.Read, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Re-asserts, under the job row's lock, that the job is running and leased to <paramref name="owner"/>.</summary>
    private static async Task<bool> LockAsync(DbSession db, string jobId, string owner, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecAsync("UPDATE jobs SET updated_at = @now WHERE id = @id AND state = 'running' AND lease_owner = @o",
            [("now", now), ("id", jobId), ("o", owner)], cancellationToken).ConfigureAwait(false) == 1;
}
