using Prometheus;

namespace StreamVerse.Origin.Rtmp;

/// <summary>Prometheus metrics of the RTMP ingest.</summary>
internal sealed class RtmpMetrics
{
    public RtmpMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Connections = factory.CreateCounter("streamverse_rtmp_connections_total", "RTMP connections accepted.");
        Publishers = factory.CreateGauge("streamverse_rtmp_publishers", "RTMP publishers currently live.");
        Publishes = factory.CreateCounter("streamverse_rtmp_publishes_total", "RTMP publishes started.");
        ReceivedBytes = factory.CreateCounter("streamverse_rtmp_received_bytes_total", "Bytes received on RTMP connections.");
        Rejected = factory.CreateCounter(
            "streamverse_rtmp_rejected_total",
            "RTMP connections or publishes refused, by reason (bad_key, duplicate, protocol, unsupported_codec, timeout).",
            new CounterConfiguration { LabelNames = ["reason"] });
    }

    public Counter Connections { get; }

    public Gauge Publishers { get; }

    public Counter Publishes { get; }

    public Counter ReceivedBytes { get; }

    public Counter Rejected { get; }

    public void Reject(string reason) => Rejected.WithLabels(reason).Inc();
}
