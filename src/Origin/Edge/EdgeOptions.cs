using System.ComponentModel.DataAnnotations;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// Config section <c>StreamVerse:Edge</c> (the upstream itself is <c>StreamVerse:Upstream</c>, flag
/// <c>--upstream</c>): cache sizes and how long an edge waits for its origin.
/// </summary>
internal sealed class EdgeOptions : IValidatableObject
{
    public const string Section = "StreamVerse:Edge";
    public const string UpstreamKey = "StreamVerse:Upstream";

    /// <summary>The origin, an absolute http(s) URL; set by <c>StreamVerse:Upstream</c>. Null: not an edge.</summary>
    public string? Upstream { get; set; }

    /// <summary>Bytes of cached bodies kept in memory; older records move to the disk tier.</summary>
    [Range(1L << 20, long.MaxValue)]
    public long MemoryBytes { get; set; } = 256L << 20;

    /// <summary>Bytes of cached bodies kept in all (memory + disk); the oldest records are dropped past this.</summary>
    [Range(1L << 20, long.MaxValue)]
    public long DiskBytes { get; set; } = 4L << 30;

    /// <summary>Where the disk tier lives; defaults to <c>DATA/edge-cache</c>. Emptied at start.</summary>
    public string? CachePath { get; set; }

    /// <summary>Largest object the edge fetches and caches (bytes); a larger one is answered 502.</summary>
    [Range(1024, 1L << 31)]
    public long MaxObjectBytes { get; set; } = 64L << 20;

    /// <summary>TCP connect timeout to the origin.</summary>
    [Range(0.05, 60)]
    public double ConnectTimeoutSeconds { get; set; } = 2;

    /// <summary>Bound on one upstream fetch (headers and body) of a non-blocking request; then 504.</summary>
    [Range(0.1, 300)]
    public double UpstreamTimeoutSeconds { get; set; } = 5;

    /// <summary>Bound on an LL-HLS blocking playlist fetch (<c>_HLS_msn</c>), which the origin may hold.</summary>
    [Range(0.1, 300)]
    public double BlockingUpstreamTimeoutSeconds { get; set; } = 12;

    /// <summary>Pooled HTTP/1.1 connections to the origin.</summary>
    [Range(1, 10_000)]
    public int MaxConnectionsPerServer { get; set; } = 256;

    /// <summary>
    /// How often the edge asks its origin's invalidation feed which videos to drop (made private, deleted): the delay
    /// before a purge reaches this edge. Needs <c>StreamVerse:ControlPlane:Playback:SigningKey</c>, as tokens do.
    /// </summary>
    [Range(0.1, 300)]
    public double InvalidationPollSeconds { get; set; } = 1;

    /// <summary>
    /// The invalidation feed; default <c>{Upstream}/internal/v1/invalidations</c>. An edge whose upstream is another edge
    /// points this at an origin (any origin on the deployment's database).
    /// </summary>
    public string? InvalidationFeed { get; set; }

    public Uri InvalidationFeedUri => InvalidationFeed is { Length: > 0 } feed
        ? new Uri(feed, UriKind.Absolute)
        : new Uri(UpstreamUri, "internal/v1/invalidations");

    public Uri UpstreamUri => new(Upstream!.TrimEnd('/') + "/", UriKind.Absolute);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Upstream is not null
            && (!Uri.TryCreate(Upstream, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0))
        {
            yield return new ValidationResult($"{UpstreamKey}: '{Upstream}' is not an absolute http(s) URL such as http://127.0.0.1:8080");
        }

        if (InvalidationFeed is { Length: > 0 }
            && (!Uri.TryCreate(InvalidationFeed, UriKind.Absolute, out var feed) || feed.Scheme is not ("http" or "https") || feed.Query.Length > 0))
        {
            yield return new ValidationResult($"{Section}:InvalidationFeed: '{InvalidationFeed}' is not an absolute http(s) URL such as http://origin:8080/internal/v1/invalidations");
        }

        if (DiskBytes < MemoryBytes)
        {
            yield return new ValidationResult($"{Section}:DiskBytes must be >= {Section}:MemoryBytes (the disk tier holds what memory holds and more)");
        }
    }
}
