using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace StreamVerse.Origin.Tests.Http.FastLane;

/// <summary>
/// The runtime's GC AllocationTick events (one per ~100 KB allocated, naming the type that crossed the line), so a
/// test can tell which allocations happened while it ran: the process-wide byte count alone cannot say whose they were.
/// </summary>
internal sealed class AllocationTicks : EventListener
{
    private volatile bool _recording;

    public ConcurrentBag<(string Type, int Kind)> Ticks { get; } = [];

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            // GC keyword, verbose: AllocationTick.
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (_recording && e.EventName is { } name && name.StartsWith("GCAllocationTick", StringComparison.Ordinal) && e.PayloadNames is { } names)
        {
            var type = e.Payload![names.IndexOf("TypeName")]?.ToString() ?? "?";
            var kind = names.IndexOf("AllocationKind") is var k and >= 0 ? Convert.ToInt32(e.Payload[k], System.Globalization.CultureInfo.InvariantCulture) : -1;
            Ticks.Add((type, kind));
        }
    }
}
