using Prometheus;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http;

/// <summary>Delivery counters. Label children are resolved once so serving allocates nothing for metrics.</summary>
internal static class DeliveryMetrics
{
    internal enum Kind
    {
        Playlist,
        Mpd,
        Init,
        Segment,
        Part,
        Recording,
    }

    private static readonly Counter Responses = Metrics.CreateCounter(
        "streamverse_http_media_responses_total", "Media objects served by the origin, by kind.", "kind");

    private static readonly Counter SentBytes = Metrics.CreateCounter(
        "streamverse_http_media_sent_bytes_total", "Body bytes of media objects served by the origin, by kind.", "kind");

    private static readonly Counter BlockingReloads = Metrics.CreateCounter(
        "streamverse_hls_blocking_reloads_total", "LL-HLS blocking playlist requests, by outcome.", "outcome");

    private static readonly Counter PlaybackDenied = Metrics.CreateCounter(
        "streamverse_http_playback_denied_total", "Media requests refused for a missing, invalid or expired playback token.");

    private static readonly Counter.Child[] ResponseChildren = Children(Responses);
    private static readonly Counter.Child[] ByteChildren = Children(SentBytes);
    private static readonly Counter.Child[] BlockingChildren =
        Enum.GetValues<PlaylistStatus>().Select(s => BlockingReloads.WithLabels(s.ToString().ToLowerInvariant())).ToArray();

    public static void Served(Kind kind, long bytes)
    {
        ResponseChildren[(int)kind].Inc();
        ByteChildren[(int)kind].Inc(bytes);
    }

    public static void Denied() => PlaybackDenied.Inc();

    /// <summary>One LL-HLS blocking playlist request answered with <paramref name="outcome"/>.</summary>
    public static void Blocking(PlaylistStatus outcome) => BlockingChildren[(int)outcome].Inc();

    private static Counter.Child[] Children(Counter counter) =>
        Enum.GetValues<Kind>().Select(k => counter.WithLabels(k.ToString().ToLowerInvariant())).ToArray();
}
