using Prometheus;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Hosting;

/// <summary>Metrics of the live presentations: how many are live, and how fast parts become fetchable.</summary>
internal static class LiveMetrics
{
    private static readonly Counter Parts = Metrics.CreateCounter(
        "streamverse_live_parts_published_total", "LL-HLS parts published, all tracks of all live streams.");

    private static readonly Histogram PartDelay = Metrics.CreateHistogram(
        "streamverse_live_part_publish_delay_seconds",
        "Seconds from the arrival of a part's first sample to the part being fetchable (includes the part's own duration).",
        new HistogramConfiguration { Buckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.75, 1, 1.5, 2, 3, 5] });

    private static readonly Gauge LiveStreams = Metrics.CreateGauge(
        "streamverse_live_streams", "Live streams being published now.");

    private static readonly Counter DroppedGops = Metrics.CreateCounter(
        "streamverse_live_transcode_dropped_gops_total",
        "GOPs (or their remainder) a live ladder's transcoder dropped for its rungs because it was behind; the source rendition drops nothing.");

    /// <summary>Counts one GOP a live ladder's transcoder dropped (called on the ingest thread).</summary>
    public static readonly Action DroppedGop = () => DroppedGops.Inc();

    private static readonly Action<double> OnPartPublished = seconds =>
    {
        Parts.Inc();
        PartDelay.Observe(seconds);
    };

    /// <summary>Reports the registry's live streams at every scrape.</summary>
    public static void Observe(LiveStreamRegistry registry) =>
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => LiveStreams.Set(registry.Active.Count));

    public static LiveStream Meter(LiveStream stream)
    {
        stream.PartPublished += OnPartPublished;
        return stream;
    }
}
