using Prometheus;

namespace StreamVerse.Origin.Limits;

internal static class LimitsMetrics
{
    private static readonly Counter RateLimited = Metrics.CreateCounter(
        "streamverse_http_rate_limited_requests_total", "Requests answered 429 by the per-IP rate limit.");

    public static void Rejected() => RateLimited.Inc();
}
