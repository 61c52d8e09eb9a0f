using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;

namespace StreamVerse.Origin.Cluster;

/// <summary>
/// An origin's answer for a live stream another origin holds (<see cref="StreamDirectory"/>): fetched from the owner with the
/// edge's <see cref="UpstreamClient"/>, one fetch per object however many viewers ask at once (<see cref="RequestCoalescer{TKey,TResult}"/>,
/// LL-HLS blocking requests keyed by their directives and passed through), and written like the edge's (the player sees no
/// redirect). Nothing is kept: an edge in front caches, this node only relays.
/// </summary>
internal sealed class ClusterLiveProxy(StreamDirectory directory, UpstreamClient upstream, DeliveryLimits limits)
{
    private readonly RequestCoalescer<(Uri Owner, string Key), UpstreamResult> _coalescer = new();
    private readonly MpdUtcTiming _utcTiming = new();

    /// <summary>Whether this node asks the stream directory (Redis is configured).</summary>
    public bool Enabled => directory.Enabled;

    /// <summary>The owner to relay <paramref name="name"/> from, or null to answer from what this node holds: the directory is
    /// off, the name is not elsewhere, or the request came from another node already (<see cref="UpstreamClient.ClusterHopHeader"/>).</summary>
    public ValueTask<Uri?> OwnerAsync(HttpContext context, string name) =>
        !directory.Enabled || context.Request.Headers.ContainsKey(UpstreamClient.ClusterHopHeader)
            ? ValueTask.FromResult<Uri?>(null)
            : directory.OwnerAsync(name);

    public async Task RelayAsync(HttpContext context, Uri owner)
    {
        var key = EdgeDelivery.Handler.CacheKey(context.Request, out var blocking);
        if (key is null)
        {
            await TypedResults.Problem(detail: "no such object", statusCode: StatusCodes.Status404NotFound).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var forwardedFor = UpstreamClient.ForwardedFor(context.Request.Headers["X-Forwarded-For"].ToString(), context.Connection.RemoteIpAddress);
        var (result, _) = await _coalescer.RunAsync((owner, key), k => upstream.FetchAsync(k.Key[1..], blocking, null, forwardedFor, k.Owner), context.RequestAborted)
            .ConfigureAwait(false);
        if (result.Entry is { } entry)
        {
            var obj = entry.Object;
            var playlist = EdgeDelivery.Handler.IsPlaylist(entry.ContentType);
            if (EdgeDelivery.Handler.IsDynamicMpd(entry) && !MpdUtcTiming.IsFromEdge(context.Request))
            {
                // The owner left a live MPD's UTCTiming to its caller (Via): players are pointed at this node's /time.
                obj = _utcTiming.WithUtcTiming(obj, context.Request);
            }

            await StoredObjectWriter.WriteAsync(context, obj, entry.CacheControl, playlist ? DeliveryMetrics.Kind.Playlist : DeliveryMetrics.Kind.Segment,
                limits.PacerFor(context), playlist && limits.CompressPlaylists).ConfigureAwait(false);
            return;
        }

        await result.WriteNotOkAsync(context, context.RequestAborted).ConfigureAwait(false);
    }
}
