using System.Collections.Concurrent;

namespace StreamVerse.Origin.Rtmp;

/// <summary>One running publish, as the control plane sees it.</summary>
/// <param name="StreamKeyId">The control plane's key id (null for a configured key).</param>
/// <param name="StreamName">The stream it publishes to; null while the publish waits for its tracks.</param>
internal sealed record RtmpPublishInfo(string? StreamKeyId, string? StreamName, IngestHealthSnapshot Health);

/// <summary>
/// The publishes the RTMP and RTMPS ingest has accepted (a checked key; waiting for tracks or live): what the
/// control plane ends when it revokes a key or ends a broadcast, and where it reads a stream's health.
/// </summary>
internal sealed class RtmpPublishers
{
    private readonly ConcurrentDictionary<RtmpSession, byte> _sessions = new();

    public void Add(RtmpSession session) => _sessions.TryAdd(session, 0);

    public void Remove(RtmpSession session) => _sessions.TryRemove(session, out _);

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
                found.Add(new RtmpPublishInfo(id, session.StreamName, health.Snapshot()));
            }
        }

        return found;
    }
}
