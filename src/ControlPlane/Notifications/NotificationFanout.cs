using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>A claimed fan-out task: tell the subscribers of <paramref name="ChannelId"/> of one event, from <paramref name="AfterUser"/> on.</summary>
internal sealed record FanoutTask(string Source, string Kind, string ChannelId, string VideoId, string? ActorId, string Title, DateTimeOffset CreatedAt, string AfterUser)
{
    public Notice Notice => new(Source, Kind, ActorId, ChannelId, VideoId, null, Title, CreatedAt);
}

/// <summary>Wakes this process's fan-out worker when a handler here committed a task (others are found by polling).</summary>
internal sealed class FanoutSignal : WakeSignal;

/// <summary>Test seam: runs after each committed batch (a test stops the daemon there, mid-fan-out).</summary>
internal sealed class FanoutProgress
{
    public Func<FanoutTask, string, CancellationToken, Task>? AfterBatch { get; set; }
}

/// <summary>
/// The queued, resumable fan-out of a channel's news to its subscribers. Invariants:
/// <list type="bullet">
/// <item>The outbox handler only records a task (<see cref="RecordInAsync"/>, keyed by the event id, so once); nothing
/// proportional to the subscriber count runs in the handler or in the request that published.</item>
/// <item>A batch is one transaction: it inserts the notifications (and their Web Push deliveries) of the subscribers
/// in the keyset range <c>(after_user, hi]</c> ordered by account id, and moves the durable cursor <c>after_user</c> to
/// <c>hi</c> with a conditional update that repeats "leased to me, cursor still where I read it". A crash rolls back a
/// whole batch and the next claimer resumes at the last committed cursor: nothing is lost, and
/// <c>UNIQUE (source, user_id)</c> keeps anything from being added twice even if a range ran again.</item>
/// <item>A task is claimed under a lease (renewed by every batch); a graceful stop hands it back, a crash leaves it to
/// the next run of this node (at once) or to any node once the lease runs out.</item>
/// <item>The video must still be public at each batch: made private mid-way, the rest are not told.</item>
/// </list>
/// </summary>
internal sealed class FanoutStore(Database database, TimeProvider time)
{
    private const string Record =
        """
        INSERT INTO notification_fanouts (source, kind, channel_id, video_id, actor_id, title, created_at)
        SELECT @src, @kind, @ch, @v, c.owner_id, @title, @now FROM channels c WHERE c.id = @ch
        ON CONFLICT (source) DO NOTHING
        """;

    private const string Claim =
        """
        UPDATE notification_fanouts SET lease_owner = @o, lease_expires_at = @exp
        WHERE source IN (
                SELECT source FROM notification_fanouts
                WHERE done_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                ORDER BY created_at LIMIT 1)
            AND done_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at < @now)
        RETURNING source, kind, channel_id, video_id, actor_id, title, created_at, after_user
        """;

    /// <summary>The upper bound of the next batch: the n-th subscriber after the cursor (or the last one).</summary>
    private const string NextBound =
        """
        SELECT MAX(user_id) FROM (
            SELECT user_id FROM subscriptions WHERE channel_id = @ch AND user_id > @lo ORDER BY user_id LIMIT @n) b
        """;

    private const string InsertBatch =
        """
        INSERT INTO notifications (user_id, source, kind, channels, actor_id, channel_id, video_id, comment_id, title, created_at, mail_state)
        SELECT s.user_id, @src, @kind, COALESCE(ns.channels, @def), @actor, @ch, @v, NULL, @title, @at,
            CASE WHEN (COALESCE(ns.channels, @def) & 2) <> 0 THEN 'due' ELSE NULL END
        FROM subscriptions s
        JOIN users u ON u.id = s.user_id AND u.deleted_at IS NULL
        LEFT JOIN notification_settings ns ON ns.user_id = s.user_id AND ns.kind = @kind
        WHERE s.channel_id = @ch AND s.user_id > @lo AND s.user_id <= @hi AND s.bell IN ('all', 'highlights') AND s.user_id <> @not
            AND COALESCE(ns.channels, @def) <> 0
        ON CONFLICT (source, user_id) DO NOTHING
        """;

    private const string PushForBatch =
        """
        INSERT INTO push_deliveries (subscription_id, notification_id, run_after)
        SELECT p.id, n.id, @now FROM notifications n JOIN push_subscriptions p ON p.user_id = n.user_id
        WHERE n.source = @src AND n.user_id > @lo AND n.user_id <= @hi AND (n.channels & 4) <> 0
        """;

    private const string Advance =
        """
        UPDATE notification_fanouts SET after_user = @hi, lease_expires_at = @exp
        WHERE source = @src AND after_user = @lo AND lease_owner = @o AND done_at IS NULL
        """;

    /// <summary>Records the task in the handler's transaction (once per event).</summary>
    public static Task RecordInAsync(DbSession db, Notice notice, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ExecAsync(Record, [("src", notice.Source), ("kind", notice.Kind), ("ch", notice.ChannelId), ("v", notice.VideoId), ("title", NotificationStore.Clip(notice.Title)), ("now", now)],
            cancellationToken);

    public async Task<FanoutTask?> ClaimAsync(string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return await db.SingleAsync(Claim, [("o", owner), ("exp", now + lease), ("now", now)],
            (r, d) => new FanoutTask(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5),
                d.ReadTimestamp(r, 6), r.GetString(7)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the next batch of <paramref name="task"/>: returns the new cursor, null when the task is finished (no one left,
    /// or the video is no longer public), and throws <see cref="LeaseLostException"/> when the task is no longer ours.
    /// </summary>
    public async Task<string?> RunBatchAsync(FanoutTask task, string owner, int batchSize, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var hi = await db.ScalarAsync<string>(NextBound, [("ch", task.ChannelId), ("lo", task.AfterUser), ("n", batchSize)], cancellationToken).ConfigureAwait(false);
        var stillPublic = await db.ScalarAsync<string>("SELECT id FROM videos WHERE id = @v AND visibility = 'public'", [("v", task.VideoId)], cancellationToken)
            .ConfigureAwait(false) is not null;
        if (hi is null || !stillPublic)
        {
            var done = await db.ExecAsync(
                "UPDATE notification_fanouts SET done_at = @now, lease_owner = NULL, lease_expires_at = NULL WHERE source = @src AND after_user = @lo AND lease_owner = @o AND done_at IS NULL",
                [("now", now), ("src", task.Source), ("lo", task.AfterUser), ("o", owner)], cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            return done == 1 ? null : throw new LeaseLostException();
        }

        if (await db.ExecAsync(Advance, [("hi", hi), ("exp", now + lease), ("src", task.Source), ("lo", task.AfterUser), ("o", owner)], cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new LeaseLostException(); // disposing rolls back
        }

        var n = task.Notice;
        await db.ExecAsync(InsertBatch,
            [("src", n.Source), ("kind", n.Kind), ("def", (int)NotificationKind.Default(n.Kind)), ("actor", n.ActorId), ("ch", n.ChannelId), ("v", n.VideoId), ("title", n.Title),
             ("at", n.At), ("lo", task.AfterUser), ("hi", hi), ("not", n.ActorId ?? "")], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(PushForBatch, [("now", now), ("src", n.Source), ("lo", task.AfterUser), ("hi", hi)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return hi;
    }

    /// <summary>Graceful stop: the task is due again at once for whoever runs next.</summary>
    public async Task ReleaseAsync(string source, string owner, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE notification_fanouts SET lease_owner = NULL, lease_expires_at = NULL WHERE source = @src AND lease_owner = @o AND done_at IS NULL",
            [("src", source), ("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tasks an earlier run of this node held (it crashed: same machine and data directory) are due again at once.</summary>
    public async Task<int> RecoverAsync(string node, string me, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync(
            "UPDATE notification_fanouts SET lease_owner = NULL, lease_expires_at = NULL WHERE done_at IS NULL AND lease_owner LIKE @node AND lease_owner <> @me",
            [("node", node + ":%"), ("me", me)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes tasks finished before <paramref name="cutoff"/>.</summary>
    public async Task PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM notification_fanouts WHERE done_at IS NOT NULL AND done_at < @c", [("c", cutoff)], cancellationToken).ConfigureAwait(false);
    }
}

internal sealed class LeaseLostException() : Exception("the fan-out task's lease was lost to another process");

/// <summary>Runs fan-out tasks one batch at a time (<see cref="FanoutStore"/> holds the invariants). Event ids 6110-6119.</summary>
internal sealed partial class FanoutWorker : BackgroundService
{
    private readonly FanoutStore _store;
    private readonly FanoutSignal _signal;
    private readonly FanoutProgress _progress;
    private readonly NotificationWake _wake;
    private readonly NotificationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public FanoutWorker(FanoutStore store, FanoutSignal signal, FanoutProgress progress, NotificationWake wake, IOptions<NotificationOptions> options,
        IOptions<ControlPlaneOptions> controlPlane, TimeProvider time, ILogger<FanoutWorker> logger)
    {
        (_store, _signal, _progress, _wake, _options, _time, _logger) = (store, signal, progress, wake, options.Value, time, logger);
        var data = Path.GetFullPath(controlPlane.Value.DataPath);
        Node = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("fanout\n" + Environment.MachineName + "\n" + data)).AsSpan(0, 8));
        Owner = Node + ":" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    }

    public string Node { get; }

    public string Owner { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var recovered = false;
        var lastPurge = long.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = false;
            FanoutTask? task = null;
            try
            {
                if (!recovered)
                {
                    await _store.RecoverAsync(Node, Owner, stoppingToken).ConfigureAwait(false);
                    recovered = true;
                }

                if (lastPurge == long.MinValue || _time.GetElapsedTime(lastPurge) >= TimeSpan.FromHours(1))
                {
                    await _store.PurgeAsync(_time.GetUtcNow() - TimeSpan.FromDays(7), stoppingToken).ConfigureAwait(false);
                    lastPurge = _time.GetTimestamp();
                }

                task = await _store.ClaimAsync(Owner, _options.FanoutLease, stoppingToken).ConfigureAwait(false);
                if (task is not null)
                {
                    worked = true;
                    await RunAsync(task, stoppingToken).ConfigureAwait(false);
                    task = null;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (LeaseLostException)
            {
                Log.LeaseLost(_logger, task?.Source ?? "?");
                task = null;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Failed(_logger, task?.Source ?? "?", e.Message);
                worked = false;
            }
            finally
            {
                if (task is not null)
                {
                    await ReleaseQuietlyAsync(task.Source).ConfigureAwait(false);
                }
            }

            if (worked)
            {
                continue;
            }

            try
            {
                await _signal.WaitAsync(_options.PollInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task RunAsync(FanoutTask task, CancellationToken stoppingToken)
    {
        var current = task;
        while (await _store.RunBatchAsync(current, Owner, _options.FanoutBatchSize, _options.FanoutLease, stoppingToken).ConfigureAwait(false) is { } cursor)
        {
            _wake.Made(task.Source, current.AfterUser, cursor);
            current = current with { AfterUser = cursor };
            if (_progress.AfterBatch is { } after)
            {
                await after(current, cursor, stoppingToken).ConfigureAwait(false);
            }
        }

        Log.Done(_logger, task.Source, task.Kind, task.ChannelId);
    }

    private async Task ReleaseQuietlyAsync(string source)
    {
        try
        {
            await _store.ReleaseAsync(source, Owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Failed(_logger, source, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6110, Level = LogLevel.Information, Message = "Fan-out {Source} ({Kind}) to the subscribers of channel {ChannelId} done")]
        public static partial void Done(ILogger logger, string source, string kind, string channelId);

        [LoggerMessage(EventId = 6111, Level = LogLevel.Warning, Message = "Fan-out {Source} failed (resumes from its last batch): {Error}")]
        public static partial void Failed(ILogger logger, string source, string error);

        [LoggerMessage(EventId = 6112, Level = LogLevel.Warning, Message = "Fan-out {Source}: lease lost to another process, which continues it")]
        public static partial void LeaseLost(ILogger logger, string source);
    }
}
