using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>
/// Who gets no ads: all that the ad decision knows about entitlements. Premium accounts (<c>users.premium</c>) here;
/// channel members are to be added by the memberships feature (its <c>IEntitlements</c>) behind this same interface.
/// </summary>
internal interface IAdExemptions
{
    /// <summary>Whether <paramref name="accountId"/> (null: anonymous) watches <paramref name="videoId"/> without ads.</summary>
    Task<bool> IsExemptAsync(string? accountId, string videoId, CancellationToken cancellationToken);
}

internal sealed class PremiumAdExemptions(Database database) : IAdExemptions
{
    public async Task<bool> IsExemptAsync(string? accountId, string videoId, CancellationToken cancellationToken)
    {
        if (accountId is null)
        {
            return false;
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ScalarAsync<long?>("SELECT CASE WHEN premium THEN 1 ELSE 0 END FROM users WHERE id = @u AND deleted_at IS NULL",
            [("u", accountId)], cancellationToken).ConfigureAwait(false) == 1;
    }
}
