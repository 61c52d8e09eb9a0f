using System.Collections.Frozen;
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
    private readonly FrozenDictionary<string, Prometheus.Counter.Child> _requests = LimitsMetrics.TierRequests(options.Value.BandwidthTiers.Keys);

    public bool CompressPlaylists => _options.CompressPlaylists;

    /// <summary>
    /// A request without a playback token is never paced: its tier, the default one, is uncapped (and no other
    /// selector than the viewer's plan is installed). The fast lane, which answers only such requests, needs this.
    /// </summary>
    public bool PlainRequestsNeverPaced => selector is ViewerTierSelector && !IsCapped(_options.DefaultTier, out _);

    /// <summary>The pacer for this request's body, or null when its tier is uncapped. Counts the request under its tier.</summary>
    public BandwidthPacer? PacerFor(HttpContext context)
    {
        var tier = selector.SelectTier(context);
        if (!string.IsNullOrEmpty(tier) && _requests.TryGetValue(tier, out var counter))
        {
            counter.Inc();
        }

        if (!IsCapped(tier, out var rate))
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

    private bool IsCapped(string? tier, out long rate)
    {
        rate = 0;
        return !string.IsNullOrEmpty(tier) && _options.BandwidthTiers.TryGetValue(tier, out rate) && rate > 0;
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
