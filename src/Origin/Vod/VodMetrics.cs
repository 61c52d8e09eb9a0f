using Prometheus;

namespace StreamVerse.Origin.Vod;

/// <summary>VOD delivery counters; label children resolved once, so serving allocates nothing for metrics.</summary>
internal static class VodMetrics
{
    internal enum Source
    {
        /// <summary>The memory cache of recent segments.</summary>
        Memory,

        /// <summary>sendfile from the local blob store.</summary>
        File,

        /// <summary>Streamed from a remote blob store (S3), range passed through.</summary>
        Stream,

        /// <summary>Manifests and media playlists (kept in memory once read).</summary>
        Manifest,
    }

    private static readonly Counter Responses = Metrics.CreateCounter(
        "streamverse_vod_responses_total", "VOD objects served by the origin, by where the body came from.", "source");

    private static readonly Counter SentBytes = Metrics.CreateCounter(
        "streamverse_vod_sent_bytes_total", "Body bytes of VOD objects served by the origin (whole objects or ranges), by source.", "source");

    private static readonly Counter Admitted = Metrics.CreateCounter(
        "streamverse_vod_memory_cache_admissions_total", "Segments copied into the VOD memory cache (on their second request).");

    private static readonly Counter Evicted = Metrics.CreateCounter(
        "streamverse_vod_memory_cache_evictions_total", "Segments evicted from the VOD memory cache.");

    private static readonly Gauge CachedBytes = Metrics.CreateGauge(
        "streamverse_vod_memory_cache_bytes", "Bytes of segments held by the VOD memory cache.");

    private static readonly Counter.Child[] ResponseChildren = Children(Responses);
    private static readonly Counter.Child[] ByteChildren = Children(SentBytes);

    public static void Served(Source source, long bytes)
    {
        ResponseChildren[(int)source].Inc();
        ByteChildren[(int)source].Inc(bytes);
    }

    public static void Admit(long cacheBytes)
    {
        Admitted.Inc();
        CachedBytes.Set(cacheBytes);
    }

    public static void Evict(long cacheBytes)
    {
        Evicted.Inc();
        CachedBytes.Set(cacheBytes);
    }

    private static Counter.Child[] Children(Counter counter) =>
        Enum.GetValues<Source>().Select(k => counter.WithLabels(k.ToString().ToLowerInvariant())).ToArray();
}
