using System.Collections.Frozen;
using Prometheus;

namespace StreamVerse.Origin.Limits;

internal static class LimitsMetrics
{
    private static readonly Counter RateLimited = Metrics.CreateCounter(
        "streamverse_http_rate_limited_requests_total", "Requests answered 429 by the per-IP rate limit.");

    private static readonly Counter TierRequestCount = Metrics.CreateCounter(
        "streamverse_http_tier_requests_total", "Responses answered under each bandwidth tier (StreamVerse:Limits:BandwidthTiers), capped or not.",
        new CounterConfiguration { LabelNames = ["tier"] });

    public static void Rejected() => RateLimited.Inc();

    /// <summary>One counter child per configured tier, looked up once so that counting a request allocates nothing.</summary>
    public static FrozenDictionary<string, Counter.Child> TierRequests(IEnumerable<string> tiers) =>
        tiers.ToFrozenDictionary(t => t, t => TierRequestCount.WithLabels(t), StringComparer.Ordinal);
}
