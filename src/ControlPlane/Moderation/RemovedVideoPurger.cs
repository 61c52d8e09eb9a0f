using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>
/// Deletes the stored presentations (<c>vod/{id}/</c>) of videos a moderator removed, once the appeal window
/// (<see cref="ModerationOptions.AppealWindow"/>) has passed and no appeal of the removal is pending; never before, so a
/// granted appeal finds the video whole. A video is marked purged in a transaction that holds its row while its objects
/// are deleted: an appeal decided meanwhile waits, then finds it purged and restores nothing; a failed deletion rolls the
/// mark back and is retried at the next round. Never lets an exception end its loop.
/// </summary>
internal sealed partial class RemovedVideoPurger(Database database, IBlobStorage blobs, IOptions<ModerationOptions> options, TimeProvider time,
    ILogger<RemovedVideoPurger> logger) : BackgroundService
{
    private const string DueSql =
        """
        SELECT v.id FROM videos v
        WHERE v.moderation = 'removed' AND v.moderated_at < @cutoff AND v.presentation_purged_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM moderation_actions a JOIN moderation_appeals p ON p.action_id = a.id
                          WHERE a.object_kind = 'video' AND a.object_id = v.id AND a.action = 'remove' AND p.state = 'pending')
        ORDER BY v.moderated_at LIMIT 100
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PurgeDueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                Log.Failed(logger, e);
            }

            try
            {
                await Task.Delay(options.Value.PurgeInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Purges every due video; returns their ids.</summary>
    internal async Task<List<string>> PurgeDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<string> due;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            due = await db.QueryAsync(DueSql, [("cutoff", now - options.Value.AppealWindow)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        }

        var purged = new List<string>();
        foreach (var id in due)
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            var marked = await db.ExecAsync(
                "UPDATE videos SET presentation_purged_at = @now, vod_prefix = NULL WHERE id = @id AND moderation = 'removed' AND presentation_purged_at IS NULL",
                [("now", now), ("id", id)], cancellationToken).ConfigureAwait(false);
            if (marked == 0)
            {
                continue;
            }

            await blobs.DeletePrefixAsync(VodPrefixes.OfVideo(id), cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            Log.Purged(logger, id);
            purged.Add(id);
        }

        return purged;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6320, Level = LogLevel.Information, Message = "Removed video {VideoId}: stored presentation deleted after the appeal window")]
        public static partial void Purged(ILogger logger, string videoId);

        [LoggerMessage(EventId = 6321, Level = LogLevel.Warning, Message = "Removed-video purge round failed; retried at the next interval")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
