using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Limits;

/// <summary>
/// Per-request view of the limits the writers apply: the bandwidth pacer of the request's connection
/// (created on first use, shared by later requests on that keep-alive connection) and whether playlists
/// may be compressed.
/// </summary>
internal sealed class DeliveryLimits(IOptions<LimitsOptions> options, IDeliveryTierSelector selector, TimeProvider time)
{
    private readonly LimitsOptions _options = options.Value;

    public bool CompressPlaylists => _options.CompressPlaylists;

    /// <summary>No request is ever paced: the only tier selector is the default one and its tier is uncapped.</summary>
    public bool NeverPaces => selector is DefaultTierSelector
        && (string.IsNullOrEmpty(_options.DefaultTier) || !_options.BandwidthTiers.TryGetValue(_options.DefaultTier, out var rate) || rate <= 0);

    /// <summary>The pacer for this request's body, or null when its tier is uncapped.</summary>
    public BandwidthPacer? PacerFor(HttpContext context)
    {
        var tier = selector.SelectTier(context);
        if (string.IsNullOrEmpty(tier) || !_options.BandwidthTiers.TryGetValue(tier, out var rate) || rate <= 0)
        {
            return null;
        }

        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null)
        {
            return new BandwidthPacer(rate, time);
        }

        // Keyed by tier too: a later request on the same connection may belong to another plan.
        var key = (typeof(BandwidthPacer), tier);
        if (items.TryGetValue(key, out var existing) && existing is BandwidthPacer pacer)
        {
            return pacer;
        }

        pacer = new BandwidthPacer(rate, time);
        items[key] = pacer;
        return pacer;
    }

    /// <summary>Routes the response body (file responses) through the pacer, when the request has one.</summary>
    public void PaceResponseBody(HttpContext context)
    {
        var pacer = PacerFor(context);
        if (pacer is not null)
        {
            context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(new PacedStream(context.Response.Body, pacer)));
        }
    }
}
