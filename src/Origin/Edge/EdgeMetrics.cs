using Prometheus;

namespace StreamVerse.Origin.Edge;

/// <summary>Edge counters: hit ratio = (hit + revalidated) / all but error, upstream load, bytes out.</summary>
internal static class EdgeMetrics
{
    internal enum Result
    {
        Hit,
        Miss,
        Stale,
        Coalesced,
        Error,
        Revalidated,
    }

    private static readonly Counter Requests = Metrics.CreateCounter(
        "streamverse_edge_requests_total", "Edge requests by cache result (revalidated: an expired copy the origin confirmed with 304; error: no cached copy and the origin failed).", "result");

    private static readonly Counter Upstream = Metrics.CreateCounter(
        "streamverse_edge_upstream_requests_total", "Requests the edge sent to its origin, by outcome (HTTP status, refused, timeout, error).", "outcome");

    private static readonly Histogram UpstreamDuration = Metrics.CreateHistogram(
        "streamverse_edge_upstream_request_duration_seconds", "Time of one origin fetch, headers and body.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) });

    private static readonly Counter SentBytes = Metrics.CreateCounter(
        "streamverse_edge_sent_bytes_total", "Body bytes the edge sent to viewers.");

    private static readonly Counter FetchedBytes = Metrics.CreateCounter(
        "streamverse_edge_upstream_received_bytes_total", "Body bytes the edge fetched from its origin.");

    private static readonly Gauge Waiters = Metrics.CreateGauge(
        "streamverse_edge_coalesced_waiters", "Requests now waiting on another request's origin fetch.");

    private static readonly Counter CoalescedWaiters = Metrics.CreateCounter(
        "streamverse_edge_coalesced_waiters_total", "Requests that waited on another request's origin fetch instead of fetching.");

    private static readonly Gauge MemoryBytes = Metrics.CreateGauge(
        "streamverse_edge_cache_memory_bytes", "Bytes of cached objects in the memory tier (ledger estimate).");

    private static readonly Gauge TotalBytes = Metrics.CreateGauge(
        "streamverse_edge_cache_bytes", "Bytes of cached objects in memory and on disk (ledger estimate).");

    private static readonly Counter Purged = Metrics.CreateCounter(
        "streamverse_edge_purged_objects_total", "Cached objects dropped because their video was invalidated (made private, deleted) or the feed was reset.");

    private static readonly Counter FeedPolls = Metrics.CreateCounter(
        "streamverse_edge_invalidation_polls_total", "Polls of the origin's invalidation feed, by outcome (ok, reset, refused, error).", "outcome");

    private static readonly Counter.Child[] RequestChildren =
        Enum.GetValues<Result>().Select(r => Requests.WithLabels(r.ToString().ToLowerInvariant())).ToArray();

    public static void Request(Result result) => RequestChildren[(int)result].Inc();

    public static void Sent(long bytes) => SentBytes.Inc(bytes);

    public static void Fetched(string outcome, TimeSpan duration, long bytes)
    {
        Upstream.WithLabels(outcome).Inc();
        UpstreamDuration.Observe(duration.TotalSeconds);
        if (bytes > 0)
        {
            FetchedBytes.Inc(bytes);
        }
    }

    public static void Coalesced() => CoalescedWaiters.Inc();

    public static void PurgedObjects(int count) => Purged.Inc(count);

    public static void FeedPolled(string outcome) => FeedPolls.WithLabels(outcome).Inc();

    public static void Observe(int waiters, EdgeCache cache)
    {
        Waiters.Set(waiters);
        MemoryBytes.Set(cache.MemoryBytes);
        TotalBytes.Set(cache.TotalBytes);
    }
}
