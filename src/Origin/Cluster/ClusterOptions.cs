using System.Globalization;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Cluster;

/// <summary>
/// Config section <c>StreamVerse:Cluster</c>: this node in a cluster of daemons sharing PostgreSQL, S3 and Redis
/// (<c>StreamVerse:ControlPlane:Redis:Configuration</c>). The stream directory is on for an origin when Redis is configured
/// and <see cref="AdvertisedUrl"/> is set; an edge with Redis reads it to fetch live paths from their owning origin.
/// </summary>
internal sealed class ClusterOptions
{
    public const string Section = "StreamVerse:Cluster";

    /// <summary>This node's name in logs. Default: the host name and the process id.</summary>
    public string? NodeId { get; set; }

    /// <summary>
    /// The URL other nodes fetch this origin's live streams from (<c>http://10.0.0.5:8080</c>: an internal address, not the
    /// public one). Unset (the default): this origin registers nothing and serves only what it holds.
    /// </summary>
    public string? AdvertisedUrl { get; set; }

    /// <summary>
    /// Seconds a directory entry lives without renewal, 2-300, default 10. A live stream's entry is renewed every third of it;
    /// a killed origin's entries expire within it, after which its streams' paths answer 404 until their publishers come
    /// back on another origin.
    /// </summary>
    public int LeaseSeconds { get; set; } = 10;

    /// <summary>Milliseconds a node remembers a directory answer (found or not), 0-5000, default 500: one Redis round trip per
    /// stream name and node this often, however many viewers ask.</summary>
    public int LookupCacheMilliseconds { get; set; } = 500;

    public string Node => string.IsNullOrWhiteSpace(NodeId) ? Environment.MachineName + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) : NodeId;

    public Uri? AdvertisedUri => string.IsNullOrEmpty(AdvertisedUrl) ? null : new Uri(AdvertisedUrl.TrimEnd('/') + "/", UriKind.Absolute);
}

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions o)
    {
        if (o.AdvertisedUrl is { Length: > 0 } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0))
        {
            return ValidateOptionsResult.Fail(ClusterOptions.Section + ":AdvertisedUrl must be an absolute http or https URL without a query");
        }

        if (o.LeaseSeconds is < 2 or > 300)
        {
            return ValidateOptionsResult.Fail(ClusterOptions.Section + ":LeaseSeconds must be between 2 and 300");
        }

        if (o.LookupCacheMilliseconds is < 0 or > 5000)
        {
            return ValidateOptionsResult.Fail(ClusterOptions.Section + ":LookupCacheMilliseconds must be between 0 and 5000");
        }

        return o.NodeId is { Length: > 100 }
            ? ValidateOptionsResult.Fail(ClusterOptions.Section + ":NodeId must be at most 100 characters")
            : ValidateOptionsResult.Success;
    }
}
