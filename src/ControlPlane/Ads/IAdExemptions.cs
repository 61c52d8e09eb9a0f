using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Payments;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>Who gets no ads: all that the ad decision knows about entitlements.</summary>
internal interface IAdExemptions
{
    /// <summary>Whether <paramref name="accountId"/> (null: anonymous) watches <paramref name="videoId"/> without ads.</summary>
    Task<bool> IsExemptAsync(string? accountId, string videoId, CancellationToken cancellationToken);
}

/// <summary>
/// Premium accounts and members of the video's channel watch without ads, as Payments' <see cref="IEntitlements"/> decides them
/// (from payment state and admin grants only, never from what a client says).
/// </summary>
internal sealed class EntitledAdExemptions(Database database, IEntitlements entitlements) : IAdExemptions
{
    public async Task<bool> IsExemptAsync(string? accountId, string videoId, CancellationToken cancellationToken)
    {
        if (accountId is null)
        {
            return false;
        }

        if (await entitlements.IsPremiumAsync(accountId, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        string? channelId;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            channelId = await db.ScalarAsync<string>("SELECT channel_id FROM videos WHERE id = @v", [("v", videoId)], cancellationToken).ConfigureAwait(false);
        }

        return channelId is not null && await entitlements.IsMemberAsync(accountId, channelId, cancellationToken).ConfigureAwait(false);
    }
}
