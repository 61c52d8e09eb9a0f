using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Prometheus;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// The bounded in-process buffer between the requests (beacons) and the media path (<see cref="IDeliveryObservations"/>) on
/// one side and the one <see cref="AnalyticsWriter"/> on the other. Both channels are bounded with
/// <see cref="BoundedChannelFullMode.DropWrite"/>: a full buffer drops the new item and counts it, and never blocks a request
/// or a segment response. <see cref="AnalyticsOptions.BufferCapacity"/> is shared: beacons get it as batches (a batch holds
/// up to <see cref="AnalyticsOptions.MaxEventsPerBeacon"/> events), observations as single responses.
/// </summary>
internal sealed class AnalyticsBuffer : IDeliveryObservations
{
    internal static readonly Counter Accepted = Metrics.CreateCounter("streamverse_analytics_events_accepted_total",
        "Analytics items offered to the buffer, by kind (beacon batches, delivery observations); the dropped ones are counted again in streamverse_analytics_events_dropped_total.", "kind");

    internal static readonly Counter Dropped = Metrics.CreateCounter("streamverse_analytics_events_dropped_total",
        "Analytics items dropped because the buffer was full, by kind.", "kind");

    internal static readonly Counter Filtered = Metrics.CreateCounter("streamverse_analytics_events_filtered_total",
        "Beacon events not stored or not counted, by reason (bot, flood, unknown-video).", "reason");

    internal static readonly Counter Flushed = Metrics.CreateCounter("streamverse_analytics_rows_flushed_total",
        "Rows the writer stored, by table.", "table");

    internal static readonly Gauge Depth = Metrics.CreateGauge("streamverse_analytics_queue_depth",
        "Items waiting in the analytics buffer, by kind.", "kind");

    private readonly Channel<BeaconBatch> _beacons;
    private readonly Channel<DeliveryObservation> _observations;

    public AnalyticsBuffer(IOptions<AnalyticsOptions> options)
    {
        var capacity = options.Value.BufferCapacity;

        // DropWrite: TryWrite still answers true, and the channel reports the item it dropped through the callback.
        _beacons = Channel.CreateBounded<BeaconBatch>(
            new BoundedChannelOptions(Math.Max(100, capacity / 10)) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Dropped.WithLabels("beacon").Inc());
        _observations = Channel.CreateBounded<DeliveryObservation>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Dropped.WithLabels("delivery").Inc());
    }

    public ChannelReader<BeaconBatch> Beacons => _beacons.Reader;

    public ChannelReader<DeliveryObservation> Observations => _observations.Reader;

    /// <summary>Queues a beacon, or drops it (counted) when the buffer is full; the caller answers 204 either way.</summary>
    public void Add(BeaconBatch batch)
    {
        _beacons.Writer.TryWrite(batch);
        Accepted.WithLabels("beacon").Inc();
    }

    /// <summary>From the media path: never blocks, never throws; a full buffer drops the observation (counted).</summary>
    public void Record(in DeliveryObservation observation)
    {
        _observations.Writer.TryWrite(observation);
        Accepted.WithLabels("delivery").Inc();
    }

    public void UpdateDepth()
    {
        Depth.WithLabels("beacon").Set(_beacons.Reader.Count);
        Depth.WithLabels("delivery").Set(_observations.Reader.Count);
    }
}
