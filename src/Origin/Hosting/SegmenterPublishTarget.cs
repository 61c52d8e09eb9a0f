using Prometheus;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Hosting;

/// <summary>Connects an accepted RTMP publish to a new live presentation in the segmenter, and meters it.</summary>
internal sealed class SegmenterPublishTarget : ILivePublishTarget
{
    private static readonly Counter Parts = Metrics.CreateCounter(
        "streamverse_live_parts_published_total", "LL-HLS parts published, all tracks of all live streams.");

    private static readonly Histogram PartDelay = Metrics.CreateHistogram(
        "streamverse_live_part_publish_delay_seconds",
        "Seconds from the arrival of a part's first sample to the part being fetchable (includes the part's own duration).",
        new HistogramConfiguration { Buckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.75, 1, 1.5, 2, 3, 5] });

    private static readonly Action<double> OnPartPublished = seconds =>
    {
        Parts.Inc();
        PartDelay.Observe(seconds);
    };

    private static readonly Gauge LiveStreams = Metrics.CreateGauge(
        "streamverse_live_streams", "Live streams being published now.");

    private readonly LiveStreamRegistry _registry;

    public SegmenterPublishTarget(LiveStreamRegistry registry)
    {
        _registry = registry;
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => LiveStreams.Set(_registry.Active.Count));
    }

    public IMediaSink? TryBeginPublish(string streamName)
    {
        var stream = _registry.TryStartPublishing(streamName);
        if (stream is not null)
        {
            stream.PartPublished += OnPartPublished;
        }

        return stream;
    }
}
