using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Mail;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// Turns notifications with e-mail into messages of the durable mail queue (which sends them: <see cref="MailWorker"/>).
/// A notification whose <c>mail_state</c> is <c>due</c> becomes one message; the <c>digest</c> ones of an account and
/// kind become one message once the oldest of them is <see cref="NotificationOptions.DigestPeriod"/> old. Each step is
/// one transaction that moves the rows to <c>done</c> with a conditional update and queues the message, so a row is
/// mailed at most once whichever process takes it. A kind the account unsubscribed from by link (or an account without
/// mail) is moved to <c>done</c> and nothing is queued. Without mail configured nothing is done. Event ids 6140-6149.
/// </summary>
internal sealed partial class NotificationMailer(
    Database database, MailQueue mail, NotificationWake wake, IOptions<NotificationOptions> options, TimeProvider time, ILogger<NotificationMailer> logger)
    : BackgroundService
{
    private const int Batch = 50;
    private const int DigestLines = 20;

    private const string DueRows =
        """
        SELECT n.id, n.user_id, n.kind, n.title, n.video_id, n.channel_id, a.handle
        FROM notifications n LEFT JOIN users a ON a.id = n.actor_id
        WHERE n.mail_state = 'due' ORDER BY n.id LIMIT @n
        """;

    private const string DueDigests =
        """
        SELECT user_id, kind FROM notifications WHERE mail_state = 'digest'
        GROUP BY user_id, kind HAVING MIN(created_at) <= @cutoff LIMIT @n
        """;

    private const string TakeDigest =
        """
        UPDATE notifications SET mail_state = 'done' WHERE user_id = @u AND kind = @k AND mail_state = 'digest'
        RETURNING id, title, actor_id, channel_id, video_id
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                if (mail.Enabled)
                {
                    more = await QueueDueAsync(stoppingToken).ConfigureAwait(false) | await QueueDigestsAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(logger, e.Message);
            }

            if (more)
            {
                continue;
            }

            try
            {
                await wake.Mail.WaitAsync(options.Value.PollInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<bool> QueueDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(DueRows, [("n", Batch)], (r, _) => new Row(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6)), cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            if (await db.ExecAsync("UPDATE notifications SET mail_state = 'done' WHERE id = @id AND mail_state = 'due'", [("id", row.Id)], cancellationToken).ConfigureAwait(false) == 1
                && await RecipientAsync(db, row.UserId, row.Kind, cancellationToken).ConfigureAwait(false) is { } email)
            {
                var (subject, line) = Describe(row.Kind, row.Title, row.ActorHandle);
                await mail.EnqueueInAsync(db, MailTemplate.Notification, email,
                    new MailPayload(null, null, row.UserId, row.Kind, subject, [line], PathOf(row.VideoId, row.ChannelId)), cancellationToken).ConfigureAwait(false);
                db.AfterCommit(mail.Wake);
            }

            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return rows.Count == Batch;
    }

    private async Task<bool> QueueDigestsAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var due = await db.QueryAsync(DueDigests, [("cutoff", time.GetUtcNow() - options.Value.DigestPeriod), ("n", Batch)], (r, _) => (User: r.GetString(0), Kind: r.GetString(1)),
            cancellationToken).ConfigureAwait(false);
        foreach (var (user, kind) in due)
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            var taken = await db.QueryAsync(TakeDigest, [("u", user), ("k", kind)], (r, _) => new Row(r.GetInt64(0), user, kind, r.GetString(1),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(2) ? null : r.GetString(2)), cancellationToken).ConfigureAwait(false);
            if (taken.Count > 0 && await RecipientAsync(db, user, kind, cancellationToken).ConfigureAwait(false) is { } email)
            {
                taken.Sort((a, b) => a.Id.CompareTo(b.Id));
                var lines = new List<string>();
                foreach (var row in taken.Take(DigestLines))
                {
                    var handle = row.ActorHandle is null ? null
                        : await db.ScalarAsync<string>("SELECT handle FROM users WHERE id = @a", [("a", row.ActorHandle)], cancellationToken).ConfigureAwait(false);
                    lines.Add(Describe(kind, row.Title, handle).Line);
                }

                if (taken.Count > DigestLines)
                {
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"… and {taken.Count - DigestLines} more."));
                }

                var subject = kind == NotificationKind.NewSubscriber
                    ? string.Create(CultureInfo.InvariantCulture, $"{taken.Count} new subscriber{(taken.Count == 1 ? "" : "s")}")
                    : string.Create(CultureInfo.InvariantCulture, $"{taken.Count} new comment{(taken.Count == 1 ? "" : "s")} on your videos");
                await mail.EnqueueInAsync(db, MailTemplate.Notification, email,
                    new MailPayload(null, null, user, kind, subject, [.. lines], "/studio"), cancellationToken).ConfigureAwait(false);
                db.AfterCommit(mail.Wake);
                Log.Digest(logger, user, kind, taken.Count);
            }

            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return due.Count == Batch;
    }

    /// <summary>The account's address, unless it is gone or unsubscribed from <paramref name="kind"/> by link.</summary>
    private static async Task<string?> RecipientAsync(DbSession db, string userId, string kind, CancellationToken cancellationToken) =>
        await Unsubscribes.IsUnsubscribedAsync(db, userId, kind, cancellationToken).ConfigureAwait(false)
            ? null
            : await db.ScalarAsync<string>("SELECT email FROM users WHERE id = @u AND deleted_at IS NULL", [("u", userId)], cancellationToken).ConfigureAwait(false);

    private static string PathOf(string? videoId, string? channelId) =>
        videoId is not null ? "/watch?v=" + Uri.EscapeDataString(videoId) : channelId is not null ? "/channel?id=" + Uri.EscapeDataString(channelId) : "/";

    /// <summary>The subject and the sentence of one notification (titles are quoted as they were written; the template encodes them for HTML).</summary>
    internal static (string Subject, string Line) Describe(string kind, string title, string? actorHandle)
    {
        var who = actorHandle is null ? "Someone" : "@" + actorHandle;
        return kind switch
        {
            NotificationKind.NewVideo => ("New video: " + title, $"A channel you subscribe to published “{title}”."),
            NotificationKind.ChannelLive => ("Live now: " + title, $"A channel you subscribe to is live: “{title}”."),
            NotificationKind.CommentReply => ($"{who} replied to your comment", $"{who} replied to your comment on “{title}”."),
            NotificationKind.Mention => ($"{who} mentioned you", $"{who} mentioned you in a comment on “{title}”."),
            NotificationKind.VideoComment => ($"{who} commented on your video", $"{who} commented on “{title}”."),
            NotificationKind.NewSubscriber => ($"{who} subscribed to your channel", $"{who} subscribed to your channel “{title}”."),
            NotificationKind.UploadFinished => ("Your video is ready", $"“{title}” finished processing and is ready to watch."),
            NotificationKind.UploadFailed => ("Your video could not be processed", $"Processing failed: {title}."),
            _ => ("StreamVerse", title),
        };
    }

    /// <param name="ActorHandle">The actor's handle (for a digest row: the actor's id, resolved when written).</param>
    private sealed record Row(long Id, string UserId, string Kind, string Title, string? VideoId, string? ChannelId, string? ActorHandle);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6140, Level = LogLevel.Warning, Message = "Notification mailer failed (retrying): {Error}")]
        public static partial void Error(ILogger logger, string error);

        [LoggerMessage(EventId = 6141, Level = LogLevel.Information, Message = "Digest of {Count} {Kind} notifications queued for account {UserId}")]
        public static partial void Digest(ILogger logger, string userId, string kind, int count);
    }
}
