namespace StreamVerse.Origin.Limits;

/// <summary>
/// Picks the bandwidth tier (a key of <c>StreamVerse:Limits:BandwidthTiers</c>) of one request. The narrow
/// hook through which the control plane can later cap a viewer by plan; null or empty = uncapped.
/// </summary>
internal interface IDeliveryTierSelector
{
    string? SelectTier(HttpContext context);
}

internal sealed class DefaultTierSelector(Microsoft.Extensions.Options.IOptions<LimitsOptions> options) : IDeliveryTierSelector
{
    private readonly string _tier = options.Value.DefaultTier;

    public string? SelectTier(HttpContext context) => _tier;
}
