using System.Collections.Concurrent;

namespace StreamVerse.Origin.Rtmp;

/// <summary>One running publish, as the control plane sees it.</summary>
/// <param name="StreamKeyId">The control plane's key id (null for a configured key).</param>
/// <param name="StreamName">The stream it publishes to; null while the publish waits for its tracks.</param>
/// <param name="Protocol"><c>rtmp</c> (RTMP and RTMPS) or <c>srt</c>.</param>
/// <param name="Link">The transport's own view of the link (SRT's packet statistics); null for RTMP.</param>
internal sealed record RtmpPublishInfo(string? StreamKeyId, string? StreamName, IngestHealthSnapshot Health, string Protocol = "rtmp", IngestLinkStats? Link = null);

/// <summary>What a transport with its own loss recovery reports about the link (SRT: <c>srt_bstats</c>).</summary>
/// <param name="PacketsReceived">Data packets received.</param>
/// <param name="PacketsLost">Packets detected lost (and asked for again).</param>
/// <param name="PacketsRetransmitted">Retransmitted packets received.</param>
/// <param name="PacketsDropped">Packets that came too late for the latency and were skipped.</param>
/// <param name="ReceiveRateMbps">The receive rate libsrt measures.</param>
/// <param name="ContinuityErrors">MPEG-TS continuity counter gaps in what was delivered.</param>
internal readonly record struct IngestLinkStats(long PacketsReceived, long PacketsLost, long PacketsRetransmitted, long PacketsDropped, double ReceiveRateMbps, long ContinuityErrors);

/// <summary>One accepted publish of any ingest protocol, as <see cref="RtmpPublishers"/> holds it.</summary>
internal interface IIngestPublish
{
    string? StreamKeyId { get; }

    string? StreamName { get; }

    IngestHealth? Health { get; }

    string Protocol { get; }

    /// <summary>Read on the caller's thread (the health endpoint); null when the transport has none.</summary>
    IngestLinkStats? Link { get; }

    /// <summary>Ends the publish from any thread, telling the publisher <paramref name="reason"/> where the protocol can.</summary>
    bool Disconnect(string reason);
}

/// <summary>
/// The publishes the RTMP, RTMPS and SRT ingests have accepted (a checked key; waiting for tracks or live): what the
/// control plane ends when it revokes a key or ends a broadcast, and where it reads a stream's health.
/// </summary>
internal sealed class RtmpPublishers
{
    private readonly ConcurrentDictionary<IIngestPublish, byte> _sessions = new();

    public void Add(IIngestPublish session) => _sessions.TryAdd(session, 0);

    public void Remove(IIngestPublish session) => _sessions.TryRemove(session, out _);

    /// <summary>
    /// Asks every publish made with one of <paramref name="streamKeyIds"/> to end: each tells its publisher
    /// <c>NetStream.Publish.Failed</c> with <paramref name="reason"/>, ends its stream and closes its connection at once
    /// (from its own read loop, which this wakes). Returns how many it asked.
    /// </summary>
    public int Disconnect(IReadOnlyCollection<string> streamKeyIds, string reason)
    {
        ArgumentNullException.ThrowIfNull(streamKeyIds);
        var ended = 0;
        foreach (var session in _sessions.Keys)
        {
            if (session.StreamKeyId is { } id && streamKeyIds.Contains(id) && session.Disconnect(reason))
            {
                ended++;
            }
        }

        return ended;
    }

    /// <summary>Asks every publish to <paramref name="streamName"/> to end, as <see cref="Disconnect"/> does (the cluster's stream
    /// directory: the stream was published again on another origin). Returns how many it asked.</summary>
    public int DisconnectStream(string streamName, string reason)
    {
        var ended = 0;
        foreach (var session in _sessions.Keys)
        {
            if (string.Equals(session.StreamName, streamName, StringComparison.Ordinal) && session.Disconnect(reason))
            {
                ended++;
            }
        }

        return ended;
    }

    /// <summary>The publishes made with one of <paramref name="streamKeyIds"/>.</summary>
    public List<RtmpPublishInfo> Find(IReadOnlyCollection<string> streamKeyIds)
    {
        ArgumentNullException.ThrowIfNull(streamKeyIds);
        var found = new List<RtmpPublishInfo>();
        foreach (var session in _sessions.Keys)
        {
            if (session.StreamKeyId is { } id && streamKeyIds.Contains(id) && session.Health is { } health)
            {
                found.Add(new RtmpPublishInfo(id, session.StreamName, health.Snapshot(), session.Protocol, session.Link));
            }
        }

        return found;
    }
}
