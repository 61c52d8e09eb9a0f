using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Origin.Limits;

/// <summary>
/// Picks the bandwidth tier (a key of <c>StreamVerse:Limits:BandwidthTiers</c>) of one request; null or empty =
/// uncapped. Asked only after the request was authorised, so a token it looks at has been verified.
/// </summary>
internal interface IDeliveryTierSelector
{
    string? SelectTier(HttpContext context);
}

/// <summary>
/// The viewer's plan, as the playback token states it: a request under <c>/live/t/{token}/</c> or
/// <c>/vod/t/{token}/</c> whose token was issued to a premium account plays at <c>PremiumTier</c>; every other
/// request (no token, or a plain account's) at <c>DefaultTier</c>. No database and no allocation: the plan is a
/// flag inside the token, under its MAC, which every handler has verified before it writes a body (an unverified
/// token is a 403 with nothing to pace).
/// </summary>
internal sealed class ViewerTierSelector(IOptions<LimitsOptions> options) : IDeliveryTierSelector
{
    private readonly string _default = options.Value.DefaultTier;
    private readonly string _premium = options.Value.PremiumTier.Length > 0 ? options.Value.PremiumTier : options.Value.DefaultTier;

    public string? SelectTier(HttpContext context) =>
        _premium == _default || !PlaybackTokens.ClaimsPremium(Http.TokenPaths.TokenOf(context.Request.Path.Value)) ? _default : _premium;
}
