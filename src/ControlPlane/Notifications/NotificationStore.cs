using System.Data.Common;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>What a notification says, whoever receives it.</summary>
/// <param name="Source">The id of the event it comes from: with the recipient, the unique key of the row.</param>
internal sealed record Notice(string Source, string Kind, string? ActorId, string? ChannelId, string? VideoId, string? CommentId, string Title, DateTimeOffset At);

/// <summary>
/// Every statement of in-app notifications and their settings, once for both engines. The invariants:
/// <list type="bullet">
/// <item>One row per (source event, recipient): <c>UNIQUE (source, user_id)</c> with <c>ON CONFLICT DO NOTHING</c>, so a
/// handler or a fan-out batch that runs again adds nothing, and of several reasons to tell one account about one event
/// (a reply that also mentions them) the first inserted wins.</item>
/// <item>A row records the channels chosen when it was created (<c>channels</c>, from the account's settings or the
/// kind's default): no row when none; listed and counted only with the in-app bit; its e-mail and its Web Push
/// deliveries are written in the same transaction (<c>mail_state</c>, <c>push_deliveries</c>).</item>
/// <item>The actor is never a recipient (<c>user_id &lt;&gt; actor</c> in the statement itself), nor a deleted account.</item>
/// </list>
/// </summary>
internal sealed class NotificationStore(Database database, TimeProvider time)
{
    public const string Sort = "newest";

    /// <summary>One recipient; the settings' channels (or the default) decide, in the statement.</summary>
    private const string InsertOne =
        """
        INSERT INTO notifications (user_id, source, kind, channels, actor_id, channel_id, video_id, comment_id, title, created_at, mail_state)
        SELECT u.id, @src, @kind, COALESCE(s.channels, @def), @actor, @ch, @v, @cm, @title, @now,
            CASE WHEN (COALESCE(s.channels, @def) & 2) <> 0 THEN @mail ELSE NULL END
        FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id AND s.kind = @kind
        WHERE u.id = @u AND u.deleted_at IS NULL AND u.id <> @not AND COALESCE(s.channels, @def) <> 0
        ON CONFLICT (source, user_id) DO NOTHING
        RETURNING id
        """;

    private const string PushForOne =
        """
        INSERT INTO push_deliveries (subscription_id, notification_id, run_after)
        SELECT p.id, n.id, @now FROM notifications n JOIN push_subscriptions p ON p.user_id = n.user_id
        WHERE n.id = @id AND (n.channels & 4) <> 0
        """;

    private const string SelectMine =
        """
        SELECT n.id, n.kind, n.actor_id, a.handle, n.channel_id, n.video_id, n.comment_id, n.title, n.created_at, n.read_at
        FROM notifications n LEFT JOIN users a ON a.id = n.actor_id
        WHERE n.user_id = @u AND (n.channels & 1) <> 0 AND n.id < @before
        ORDER BY n.id DESC
        LIMIT @take
        """;

    private const string SelectSettings = "SELECT kind, channels FROM notification_settings WHERE user_id = @u";

    private const string UpsertSetting =
        """
        INSERT INTO notification_settings (user_id, kind, channels) VALUES (@u, @k, @c)
        ON CONFLICT (user_id, kind) DO UPDATE SET channels = excluded.channels
        """;

    /// <summary>
    /// Tells <paramref name="userId"/> of <paramref name="notice"/> in <paramref name="db"/>'s transaction (the handler's),
    /// unless the account is the actor, is gone, already has a notification of this source, or chose no channel for the
    /// kind. True when a row was added.
    /// </summary>
    public static async Task<bool> NotifyInAsync(DbSession db, string userId, Notice notice, CancellationToken cancellationToken)
    {
        var id = await db.ScalarAsync<long?>(InsertOne,
            [("src", notice.Source), ("kind", notice.Kind), ("def", (int)NotificationKind.Default(notice.Kind)), ("actor", notice.ActorId), ("ch", notice.ChannelId),
             ("v", notice.VideoId), ("cm", notice.CommentId), ("title", Clip(notice.Title)), ("now", notice.At),
             ("mail", NotificationKind.IsDigested(notice.Kind) ? MailState.Digest : MailState.Due), ("u", userId), ("not", notice.ActorId ?? "")],
            cancellationToken).ConfigureAwait(false);
        if (id is null)
        {
            return false;
        }

        await db.ExecAsync(PushForOne, [("now", notice.At), ("id", id.Value)], cancellationToken).ConfigureAwait(false);
        return true;
    }

    public static string Clip(string title) => title.Length > 300 ? title[..300] : title;

    /// <summary>The account's in-app notifications, newest first.</summary>
    public async Task<Page<NotificationResponse>> MineAsync(string userId, long before, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectMine, [("u", userId), ("before", before), ("take", take + 1)], Read, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, Sort, r => (r.Id, r.Id), r => r);
    }

    private static NotificationResponse Read(DbDataReader r, Dialect d) => new(
        Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture), r.GetString(1), Text(r, 2), Text(r, 3), Text(r, 4), Text(r, 5),
        Text(r, 6), r.GetString(7), d.ReadTimestamp(r, 8), d.ReadNullableTimestamp(r, 9));

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public async Task<long> UnreadAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE user_id = @u AND (channels & 1) <> 0 AND read_at IS NULL",
            [("u", userId)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks one of the account's notifications read (keeping the first time); false when it has none with that id.</summary>
    public async Task<bool> MarkReadAsync(string userId, long id, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync("UPDATE notifications SET read_at = COALESCE(read_at, @now) WHERE id = @id AND user_id = @u AND (channels & 1) <> 0",
            [("now", time.GetUtcNow()), ("id", id), ("u", userId)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>Marks every unread notification of the account read; returns how many.</summary>
    public async Task<long> MarkAllReadAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync("UPDATE notifications SET read_at = @now WHERE user_id = @u AND read_at IS NULL AND (channels & 1) <> 0",
            [("now", time.GetUtcNow()), ("u", userId)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every kind's settings: the stored ones, the defaults for the rest; e-mail off for a kind the account unsubscribed from by link.</summary>
    public async Task<NotificationSettingsResponse> SettingsAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await SettingsInAsync(db, userId, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<NotificationSettingsResponse> SettingsInAsync(DbSession db, string userId, CancellationToken cancellationToken)
    {
        var stored = (await db.QueryAsync(SelectSettings, [("u", userId)], (r, _) => (r.GetString(0), (NotificationChannels)Convert.ToInt32(r.GetValue(1), CultureInfo.InvariantCulture)),
            cancellationToken).ConfigureAwait(false)).ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);
        var unsubscribed = (await db.QueryAsync("SELECT kind FROM mail_unsubscribes WHERE user_id = @u", [("u", userId)], (r, _) => r.GetString(0), cancellationToken)
            .ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        return new NotificationSettingsResponse([.. NotificationKind.All.Select(k =>
        {
            var c = stored.GetValueOrDefault(k.Kind, k.Default);
            return new NotificationSetting(k.Kind, c.HasFlag(NotificationChannels.InApp), c.HasFlag(NotificationChannels.Push),
                c.HasFlag(NotificationChannels.Email) && !unsubscribed.Contains(k.Kind));
        })]);
    }

    /// <summary>
    /// Applies <paramref name="changes"/> in one transaction and returns every kind's settings. Turning a kind's e-mail on
    /// again also lifts an unsubscribe by link for that kind (the account has now asked for it, signed in).
    /// </summary>
    public async Task<NotificationSettingsResponse> UpdateSettingsAsync(string userId, List<NotificationSettingChange> changes, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var current = (await SettingsInAsync(db, userId, cancellationToken).ConfigureAwait(false)).Settings.ToDictionary(s => s.Kind, StringComparer.Ordinal);
        foreach (var change in changes)
        {
            var was = current[change.Kind!];
            var c = ((change.InApp ?? was.InApp) ? NotificationChannels.InApp : 0)
                | ((change.Push ?? was.Push) ? NotificationChannels.Push : 0)
                | ((change.Email ?? was.Email) ? NotificationChannels.Email : 0);
            await db.ExecAsync(UpsertSetting, [("u", userId), ("k", change.Kind), ("c", (int)c)], cancellationToken).ConfigureAwait(false);
            if (change.Email == true)
            {
                await db.ExecAsync("DELETE FROM mail_unsubscribes WHERE user_id = @u AND kind = @k", [("u", userId), ("k", change.Kind)], cancellationToken).ConfigureAwait(false);
            }
        }

        var result = await SettingsInAsync(db, userId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }
}
