using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>What other features (ads, chat badges) may ask about what an account has paid for.</summary>
public interface IEntitlements
{
    /// <summary>Premium now: an admin's grant or an entitling Premium subscription (the account's <c>premium</c> flag).</summary>
    Task<bool> IsPremiumAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>An entitling membership of the channel now.</summary>
    Task<bool> IsMemberAsync(string accountId, string channelId, CancellationToken cancellationToken);
}

/// <summary>
/// Entitlements are derived from payment state only (never from what a client says). The rule, in one place:
/// an account is premium when an admin granted it (<c>users.premium_granted</c>, PUT /users/{id}/premium) OR it has an
/// entitling Premium subscription; a subscription entitles while it is not disputed and
/// <list type="bullet">
/// <item>active or trialing, and not cancelled at a period end that has passed;</item>
/// <item>or past due (a renewal failed) and still inside the grace period (<see cref="PaymentOptions.GracePeriod"/>).</item>
/// </list>
/// Paused, unpaid, cancelled and incomplete subscriptions entitle nothing. <c>users.premium</c> stores the result so every
/// reader (tokens, lists, comments) keeps one cheap rule; <see cref="RecomputeInAsync"/> rewrites it after every change,
/// and when it turns false the account's earlier playback tokens are withdrawn (<see cref="PlaybackRevocations"/>).
/// Time alone ends access too (a period end, a grace period): the payment worker sweeps for those.
/// </summary>
internal sealed class Entitlements(Database database, PlaybackRevocations revocations, TimeProvider time) : IEntitlements
{
    /// <summary>Entitling subscriptions of @u of product @p at @now (one statement both engines read alike).</summary>
    public const string EntitlingSql = """
        SELECT 1 FROM billing_subscriptions s
        WHERE s.user_id = @u AND s.product = @p AND (CAST(@ch AS VARCHAR(32)) IS NULL OR s.channel_id = @ch) AND NOT s.disputed
          AND ((s.status IN ('active', 'trialing') AND (NOT s.cancel_at_period_end OR s.current_period_end IS NULL OR s.current_period_end > @now))
            OR (s.status = 'past_due' AND s.grace_until IS NOT NULL AND s.grace_until > @now))
        """;

    public async Task<bool> IsPremiumAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<bool?>("SELECT premium FROM users WHERE id = @id AND deleted_at IS NULL", [("id", accountId)], cancellationToken).ConfigureAwait(false) == true;
    }

    public async Task<bool> IsMemberAsync(string accountId, string channelId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await IsMemberInAsync(db, accountId, channelId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }

    public static async Task<bool> IsMemberInAsync(DbSession db, string accountId, string channelId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>(EntitlingSql, [("u", accountId), ("p", Ledger.Product.Membership), ("ch", channelId), ("now", now)], cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Rewrites the account's premium flag from the rule, inside the caller's transaction; withdraws its earlier playback
    /// tokens when the flag turns false. Returns the new flag (null: no such account).
    /// </summary>
    public async Task<bool?> RecomputeInAsync(DbSession db, string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var row = await db.SingleAsync("SELECT premium, premium_granted FROM users WHERE id = @id AND deleted_at IS NULL", [("id", userId)],
            (r, _) => new[] { r.GetBoolean(0), r.GetBoolean(1) }, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var entitled = row[1] || await db.ScalarAsync<long?>(EntitlingSql, [("u", userId), ("p", Ledger.Product.Premium), ("ch", null), ("now", now)], cancellationToken)
            .ConfigureAwait(false) is not null;
        if (entitled != row[0])
        {
            await db.ExecAsync("UPDATE users SET premium = @p WHERE id = @id", [("p", entitled), ("id", userId)], cancellationToken).ConfigureAwait(false);
            if (!entitled)
            {
                // Tokens carry the premium flag for their lifetime: withdraw the earlier ones.
                await revocations.VoidViewerInAsync(db, userId, cancellationToken).ConfigureAwait(false);
            }
        }

        return entitled;
    }

    /// <summary>Accounts whose premium flag is set but whose only grounds ended with time (a period end, a grace period).</summary>
    public async Task<int> SweepExpiredAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var ids = await db.QueryAsync(
            $"""
            SELECT u.id FROM users u
            WHERE u.premium AND NOT u.premium_granted AND u.deleted_at IS NULL
              AND NOT EXISTS ({EntitlingSql.Replace("@u", "u.id", StringComparison.Ordinal)})
            """, [("p", Ledger.Product.Premium), ("ch", null), ("now", now)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        foreach (var id in ids)
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            await RecomputeInAsync(db, id, cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return ids.Count;
    }
}
