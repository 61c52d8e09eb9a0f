using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>What a queued message needs to be rendered when it is sent: ids and values, never a secret.</summary>
/// <param name="TokenId">The account token the message links to (<see cref="AccountTokens.Token"/> derives the token from it).</param>
/// <param name="ExpiresAt">When that link stops working, for the text.</param>
/// <param name="UserId">A notification mail's recipient account (for its unsubscribe link).</param>
/// <param name="Kind">A notification mail's kind (<c>Notifications.NotificationKind</c>): the kind its unsubscribe link stops.</param>
/// <param name="Subject">A notification mail's subject.</param>
/// <param name="Lines">A notification mail's paragraphs (plain text; encoded for HTML when rendered).</param>
/// <param name="Path">A notification mail's link, a path of the web app (<c>/watch?v=...</c>).</param>
internal sealed record MailPayload(string? TokenId, DateTimeOffset? ExpiresAt, string? UserId = null, string? Kind = null, string? Subject = null,
    string[]? Lines = null, string? Path = null);

/// <summary>A claimed message.</summary>
internal sealed record QueuedMail(long Id, string Template, string Recipient, MailPayload Payload, int Attempts);

/// <summary>
/// The durable mail queue (<c>mail_queue</c>). Invariants:
/// <list type="bullet">
/// <item>A message is written in the transaction of the change that causes it (<see cref="EnqueueInAsync"/> refuses
/// a session outside one): a rolled-back registration mails nothing, a committed one always has its message.</item>
/// <item>A message is sent by whoever holds its lease; a claim is one conditional <c>UPDATE … RETURNING</c> that
/// repeats "due, not sent, not given up, lease free or expired" in its own WHERE, so two processes never claim one
/// row. A process that dies mid-send leaves the lease to expire, and the message is sent again (at least once).</item>
/// <item>A message ends sent (<c>sent_at</c>) or given up (<c>failed_at</c> with <c>error</c>) after
/// <see cref="MailOptions.MaxAttempts"/> attempts or a permanent SMTP refusal; never dropped in silence.</item>
/// </list>
/// </summary>
internal sealed class MailQueue(Database database, IOptions<MailOptions> options, TimeProvider time)
{
    private readonly WakeSignal _wake = new();

    public bool Enabled => options.Value.Enabled;

    /// <summary>Queues a message to <paramref name="recipient"/> inside the caller's transaction; call <see cref="Wake"/> after the commit.</summary>
    public Task EnqueueInAsync(DbSession db, string template, string recipient, MailPayload payload, CancellationToken cancellationToken)
    {
        Check(db);
        var now = time.GetUtcNow();
        return db.ExecAsync(
            "INSERT INTO mail_queue (template, recipient, payload, created_at, run_after) VALUES (@t, @r, @p, @now, @now)",
            [("t", template), ("r", recipient), ("p", Serialize(payload)), ("now", now)], cancellationToken);
    }

    /// <summary>
    /// Queues a message to the live account with <paramref name="email"/> if there is one: one statement that writes
    /// nothing for an unknown address (the caller's path is the same either way).
    /// </summary>
    public Task EnqueueForEmailInAsync(DbSession db, string template, string email, MailPayload payload, CancellationToken cancellationToken)
    {
        Check(db);
        var now = time.GetUtcNow();
        return db.ExecAsync(
            """
            INSERT INTO mail_queue (template, recipient, payload, created_at, run_after)
            SELECT @t, email, @p, @now, @now FROM users WHERE email = @e AND deleted_at IS NULL
            """,
            [("t", template), ("e", email), ("p", Serialize(payload)), ("now", now)], cancellationToken);
    }

    /// <summary>Tells this process's sender that a message was committed.</summary>
    public void Wake() => _wake.Wake();

    /// <summary>Returns when woken or after <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, time, cancellationToken);

    /// <summary>Claims up to <paramref name="limit"/> due messages for <paramref name="owner"/>, oldest first; each claim counts as an attempt.</summary>
    public async Task<List<QueuedMail>> ClaimAsync(string owner, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var claimed = await db.QueryAsync(
            """
            UPDATE mail_queue SET lease_owner = @o, lease_expires_at = @lease, attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM mail_queue
                WHERE sent_at IS NULL AND failed_at IS NULL AND run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                ORDER BY id LIMIT @n)
              AND sent_at IS NULL AND failed_at IS NULL AND run_after <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
            RETURNING id, template, recipient, payload, attempts
            """,
            [("o", owner), ("lease", now + options.Value.LeaseDuration), ("now", now), ("n", limit)],
            (r, _) => new QueuedMail(r.GetInt64(0), r.GetString(1), r.GetString(2), Deserialize(r.GetString(3)), r.GetInt32(4)),
            cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    }

    /// <summary>Records a sent message (if the lease is still ours: a message sent twice after a lost lease is recorded once).</summary>
    public async Task SentAsync(long id, string owner, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            "UPDATE mail_queue SET sent_at = @now, lease_owner = NULL, lease_expires_at = NULL, error = NULL WHERE id = @id AND lease_owner = @o AND sent_at IS NULL",
            [("now", time.GetUtcNow()), ("id", id), ("o", owner)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a failed attempt: retried after the back-off, or given up (permanent, or out of attempts). True when given up.</summary>
    public async Task<bool> FailedAsync(QueuedMail mail, string owner, string error, bool permanent, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var giveUp = permanent || mail.Attempts >= o.MaxAttempts;
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            UPDATE mail_queue SET lease_owner = NULL, lease_expires_at = NULL, error = @err, run_after = @after,
                failed_at = CASE WHEN @give_up THEN @now ELSE NULL END
            WHERE id = @id AND lease_owner = @o AND sent_at IS NULL
            """,
            [("err", error.Length > 2000 ? error[..2000] : error), ("after", now + o.RetryDelay(mail.Attempts)), ("give_up", giveUp), ("now", now), ("id", mail.Id), ("o", owner)],
            cancellationToken).ConfigureAwait(false);
        return giveUp;
    }

    private static void Check(DbSession db)
    {
        if (!db.InTransaction)
        {
            throw new InvalidOperationException("A message is queued in the transaction of the change that causes it (BeginAsync first).");
        }
    }

    private static string Serialize(MailPayload payload) => JsonSerializer.Serialize(payload, Api.ControlPlaneJsonContext.Default.MailPayload);

    private static MailPayload Deserialize(string json) => JsonSerializer.Deserialize(json, Api.ControlPlaneJsonContext.Default.MailPayload) ?? new MailPayload(null, null);
}
