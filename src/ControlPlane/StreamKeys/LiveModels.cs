using Microsoft.Extensions.DependencyInjection.Extensions;

namespace StreamVerse.ControlPlane.StreamKeys;

/// <summary>One running publish of a channel, as the ingest measures it.</summary>
/// <param name="StreamKeyId">The key it publishes with.</param>
/// <param name="VideoId">Its live video; null while the publish waits for its tracks (see <c>Rtmp:TrackWaitMilliseconds</c>).</param>
/// <param name="UptimeSeconds">Since the publish was accepted.</param>
/// <param name="BitrateKbps">Media received over the last (up to five) complete seconds, in kbit/s.</param>
/// <param name="FrameRate">Video frames per second of media time over the last complete GOP.</param>
/// <param name="KeyframeIntervalSeconds">Between the last two keyframes; null before the second keyframe.</param>
/// <param name="MaxKeyframeIntervalSeconds">The longest keyframe interval of this publish.</param>
/// <param name="AvDriftMilliseconds">How far video timestamps run ahead of audio timestamps against their arrival; null without both tracks.</param>
/// <param name="VideoFrames">Video frames received.</param>
/// <param name="AudioFrames">Audio frames received.</param>
/// <param name="DroppedFrames">Frames the ingest could not use (before their track's configuration, or beyond the start buffer).</param>
/// <param name="Warnings">What the creator should change, e.g. a keyframe interval that does not fit the segment duration.</param>
/// <param name="Viewers">Distinct viewers of the live video on this daemon within the last 20-30 seconds (its requests: the
/// player's CMCD session id, else a salted hash of address and user agent). Viewers an edge serves from its cache count at that edge.</param>
/// <param name="Protocol">How it is published: <c>rtmp</c> (RTMP or RTMPS) or <c>srt</c>.</param>
/// <param name="Link">SRT only: the link's packet statistics from libsrt (loss, retransmissions); null for RTMP.</param>
internal sealed record LivePublishHealth(
    string StreamKeyId,
    string? VideoId,
    double UptimeSeconds,
    double BitrateKbps,
    double? FrameRate,
    double? KeyframeIntervalSeconds,
    double? MaxKeyframeIntervalSeconds,
    double? AvDriftMilliseconds,
    long VideoFrames,
    long AudioFrames,
    long DroppedFrames,
    List<string> Warnings,
    int Viewers,
    string Protocol = "rtmp",
    LiveLinkHealth? Link = null);

/// <summary>What SRT reports about a publisher's link.</summary>
/// <param name="PacketsReceived">Data packets received.</param>
/// <param name="PacketsLost">Packets detected lost and asked for again.</param>
/// <param name="PacketsRetransmitted">Retransmitted packets received.</param>
/// <param name="PacketsDropped">Packets that arrived too late for the latency and were skipped (the viewer sees a glitch).</param>
/// <param name="ReceiveRateMbps">Receive rate measured by libsrt, Mbit/s.</param>
/// <param name="ContinuityErrors">MPEG-TS continuity counter gaps in the delivered stream.</param>
internal sealed record LiveLinkHealth(long PacketsReceived, long PacketsLost, long PacketsRetransmitted, long PacketsDropped, double ReceiveRateMbps, long ContinuityErrors);

/// <param name="Publishes">The channel's running publishes (empty when it is not live).</param>
internal sealed record LiveHealthResponse(string ChannelId, List<LivePublishHealth> Publishes);

/// <param name="Disconnected">How many running publishes were ended.</param>
internal sealed record LiveEndResponse(int Disconnected);

/// <summary>Reads the health of running publishes; implemented by the host over the RTMP/RTMPS ingest.</summary>
internal interface ILiveHealth
{
    /// <summary>The running publishes made with one of these stream key ids.</summary>
    List<LivePublishHealth> Of(IReadOnlyCollection<string> streamKeyIds);
}

/// <summary>Without an ingest (a control plane hosted alone) nothing is ever live.</summary>
internal sealed class NoLiveIngest : ILivePublishers, ILiveHealth
{
    public int Disconnect(IReadOnlyCollection<string> streamKeyIds, string reason) => 0;

    public List<LivePublishHealth> Of(IReadOnlyCollection<string> streamKeyIds) => [];
}

internal static class StreamKeyServices
{
    /// <summary>The publish side of stream keys; the host replaces <see cref="ILivePublishers"/> and <see cref="ILiveHealth"/> with its ingest.</summary>
    public static IServiceCollection AddStreamKeys(this IServiceCollection services)
    {
        services.AddSingleton<LiveIngest>();
        services.TryAddSingleton<ILivePublishers, NoLiveIngest>();
        services.TryAddSingleton<ILiveHealth, NoLiveIngest>();
        return services;
    }
}
