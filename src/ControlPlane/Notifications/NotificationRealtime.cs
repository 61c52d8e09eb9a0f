using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Realtime;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// Tells the signed-in app's sockets of new in-app notifications after the commit that made them: client method
/// <c>notification.created</c> with the notification as the list returns it, to every socket of its account on every
/// daemon. The list stays the truth: a socket that was closed meanwhile reads it on reconnect; nothing is replayed.
/// </summary>
internal sealed partial class NotificationRealtime(Database database, IRealtimePush push, ILogger<NotificationRealtime> logger)
{
    public const string Created = "notification.created";

    /// <summary>The in-app notifications of one event (a rule's few recipients).</summary>
    private const string SelectOfSource =
        """
        SELECT n.user_id, n.id, n.kind, n.actor_id, a.handle, n.channel_id, n.video_id, n.comment_id, n.title, n.created_at, n.read_at
        FROM notifications n LEFT JOIN users a ON a.id = n.actor_id
        WHERE n.source = @src AND (n.channels & 1) <> 0
        """;

    /// <summary>The in-app notifications of one fan-out batch: its range of accounts, in the fan-out's own key order.</summary>
    private const string SelectOfBatch = SelectOfSource + " AND n.user_id > @lo AND n.user_id <= @hi";

    /// <summary>Pushes, in the background, the notifications of <paramref name="source"/> (one rule's recipients).</summary>
    public void Announce(string source) =>
        _ = AnnounceAsync(SelectOfSource, [("src", source)], source);

    /// <summary>Pushes, in the background, a fan-out batch: the notifications of <paramref name="source"/> for accounts after <paramref name="afterUser"/> up to <paramref name="uptoUser"/>.</summary>
    public void Announce(string source, string afterUser, string uptoUser) =>
        _ = AnnounceAsync(SelectOfBatch, [("src", source), ("lo", afterUser), ("hi", uptoUser)], source);

    private async Task AnnounceAsync(string sql, (string, object?)[] args, string source)
    {
        try
        {
            List<(string User, NotificationResponse Notification)> rows;
            await using (var db = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false))
            {
                rows = await db.QueryAsync(sql, args, Read, CancellationToken.None).ConfigureAwait(false);
            }

            foreach (var (user, notification) in rows)
            {
                await push.ToAccountAsync(user, Created, notification).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or ObjectDisposedException or OperationCanceledException
                                      or StackExchange.Redis.RedisException)
        {
            Log.AnnounceFailed(logger, source, e.Message); // the list still has them
        }
    }

    private static (string, NotificationResponse) Read(DbDataReader r, Dialect d) => (r.GetString(0), new NotificationResponse(
        Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture), r.GetString(2), Text(r, 3), Text(r, 4), Text(r, 5),
        Text(r, 6), Text(r, 7), r.GetString(8), d.ReadTimestamp(r, 9), d.ReadNullableTimestamp(r, 10)));

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6150, Level = LogLevel.Warning, Message = "Notifications of {Source} were stored but not pushed to open sockets: {Error}")]
        public static partial void AnnounceFailed(ILogger logger, string source, string error);
    }
}
