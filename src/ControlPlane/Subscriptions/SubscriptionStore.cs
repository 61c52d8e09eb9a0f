using System.Data.Common;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Subscriptions;

/// <summary>
/// Every statement of subscriptions, once for both engines. The invariants:
/// <list type="bullet">
/// <item><c>channels.subscriber_count</c> equals the channel's rows in <c>subscriptions</c>: it changes only in the
/// transaction that adds or removes a row, and only when the conditional statement changed one (an
/// <c>INSERT ... ON CONFLICT DO NOTHING</c> that inserted, a <c>DELETE</c> that deleted). Two racing subscribes of one
/// account: the second waits on the first's key and inserts nothing; two racing unsubscribes: the second deletes
/// nothing. The increment itself is one <c>UPDATE ... SET n = n + 1</c> under the channel row's lock.</item>
/// <item>A new subscription writes <see cref="ChannelSubscribed"/> to the outbox in the same transaction.</item>
/// </list>
/// </summary>
internal sealed class SubscriptionStore(Database database, Outbox outbox, TimeProvider time)
{
    /// <summary>The first page's keyset bound: after every real (instant, id).</summary>
    private static readonly DateTimeOffset Start = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    private const string Insert =
        """
        INSERT INTO subscriptions (channel_id, user_id, bell, created_at) VALUES (@c, @u, @b, @now)
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """;

    private const string SelectOne =
        """
        SELECT s.channel_id, c.name, s.bell, s.created_at, c.subscriber_count
        FROM subscriptions s JOIN channels c ON c.id = s.channel_id
        WHERE s.channel_id = @c AND s.user_id = @u
        """;

    private const string SelectMine =
        """
        SELECT s.channel_id, c.name, s.bell, s.created_at, c.subscriber_count
        FROM subscriptions s JOIN channels c ON c.id = s.channel_id
        WHERE s.user_id = @u AND (s.created_at < @ck OR (s.created_at = @ck AND s.channel_id < @cid))
        ORDER BY s.created_at DESC, s.channel_id DESC
        LIMIT @take
        """;

    private const string SelectSubscribers =
        """
        SELECT s.user_id, u.handle, u.display_name, s.created_at
        FROM subscriptions s JOIN users u ON u.id = s.user_id
        WHERE s.channel_id = @c AND (s.created_at < @ck OR (s.created_at = @ck AND s.user_id < @cid))
        ORDER BY s.created_at DESC, s.user_id DESC
        LIMIT @take
        """;

    private static SubscriptionResponse ReadSubscription(DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3), r.GetInt64(4));

    private static SubscriberResponse ReadSubscriber(DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3));

    /// <summary>Subscribes (or changes the bell of) <paramref name="userId"/>; null when the channel does not exist.</summary>
    public async Task<SubscriptionResponse?> SubscribeAsync(string channelId, string userId, Subscribe command, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<string>("SELECT id FROM channels WHERE id = @c", [("c", channelId)], cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var bell = command.Bell ?? Bell.Highlights;
        if (await db.ExecAsync(Insert, [("c", channelId), ("u", userId), ("b", bell), ("now", now)], cancellationToken).ConfigureAwait(false) == 1)
        {
            await db.ExecAsync("UPDATE channels SET subscriber_count = subscriber_count + 1 WHERE id = @c", [("c", channelId)], cancellationToken).ConfigureAwait(false);
            await outbox.AddAsync(db, new ChannelSubscribed(channelId, userId, bell, now), cancellationToken).ConfigureAwait(false);
        }
        else if (command.Bell is not null)
        {
            await db.ExecAsync("UPDATE subscriptions SET bell = @b WHERE channel_id = @c AND user_id = @u",
                [("b", command.Bell), ("c", channelId), ("u", userId)], cancellationToken).ConfigureAwait(false);
        }

        var result = await db.SingleAsync(SelectOne, [("c", channelId), ("u", userId)], ReadSubscription, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Unsubscribes; nothing to do when there was no subscription (or no channel).</summary>
    public async Task UnsubscribeAsync(string channelId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ExecAsync("DELETE FROM subscriptions WHERE channel_id = @c AND user_id = @u", [("c", channelId), ("u", userId)], cancellationToken).ConfigureAwait(false) == 1)
        {
            await db.ExecAsync("UPDATE channels SET subscriber_count = subscriber_count - 1 WHERE id = @c", [("c", channelId)], cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> ChannelOwnerAsync(string channelId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<string>("SELECT owner_id FROM channels WHERE id = @c", [("c", channelId)], cancellationToken).ConfigureAwait(false);
    }

    public async Task<SubscriptionResponse?> FindAsync(string channelId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(SelectOne, [("c", channelId), ("u", userId)], ReadSubscription, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The account's subscriptions, newest first.</summary>
    public async Task<Page<SubscriptionResponse>> MineAsync(string userId, Keyset after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectMine, [("u", userId), ("ck", after.At ?? Start), ("cid", after.Id ?? ""), ("take", take + 1)],
            ReadSubscription, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, Keyset.Sort, r => (Keyset.Key(r.SubscribedAt), r.ChannelId), r => r);
    }

    /// <summary>The channel's subscribers, newest first.</summary>
    public async Task<Page<SubscriberResponse>> SubscribersAsync(string channelId, Keyset after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectSubscribers, [("c", channelId), ("ck", after.At ?? Start), ("cid", after.Id ?? ""), ("take", take + 1)],
            ReadSubscriber, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, Keyset.Sort, r => (Keyset.Key(r.SubscribedAt), r.UserId), r => r);
    }

    /// <summary>
    /// An account being deleted leaves every channel it followed, in the deletion's transaction: the counts drop by
    /// its rows, which are then deleted.
    /// </summary>
    public static async Task ForgetAccountInAsync(DbSession db, string userId, CancellationToken cancellationToken)
    {
        await db.ExecAsync(
            "UPDATE channels SET subscriber_count = subscriber_count - 1 WHERE id IN (SELECT channel_id FROM subscriptions WHERE user_id = @u)",
            [("u", userId)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM subscriptions WHERE user_id = @u", [("u", userId)], cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A "newest first" keyset position: (instant, id), or the start.</summary>
internal sealed record Keyset(DateTimeOffset? At, string? Id)
{
    public const string Sort = "newest";

    public static string Key(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static Keyset Parse(string? cursor, Validation v)
    {
        var (key, id) = Paging.After(cursor, Sort, v);
        if (key is null)
        {
            return new Keyset(null, null);
        }

        if (!DateTimeOffset.TryParse(key, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            v.Add("cursor", "is not a cursor of this listing");
            return new Keyset(null, null);
        }

        return new Keyset(at, id);
    }
}
