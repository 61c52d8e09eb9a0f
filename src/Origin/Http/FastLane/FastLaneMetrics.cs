using Prometheus;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>How much of the traffic the fast lane answers, and how often it gives a connection to Kestrel.</summary>
internal static class FastLaneMetrics
{
    private static readonly Counter Responses = Metrics.CreateCounter(
        "streamverse_http_fast_lane_responses_total", "Responses the HTTP/1.1 fast lane sent itself (ahead of Kestrel's HTTP layer).");

    private static readonly Counter HandOvers = Metrics.CreateCounter(
        "streamverse_http_fast_lane_handovers_total", "Connections the fast lane gave to Kestrel's HTTP/1.1 handling at a request it does not answer.");

    private static readonly Counter Passes = Metrics.CreateCounter(
        "streamverse_http_fast_lane_loop_passes_total", "Connections an event loop gave to Kestrel's socket transport at a request it did not answer at once.");

    public static void Answered() => Responses.Inc();

    public static void Passed() => Passes.Inc();

    public static void HandedOver() => HandOvers.Inc();
}
