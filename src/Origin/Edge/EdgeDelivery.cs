using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// Edge mode: <c>/live/**</c> and <c>/vod/**</c> served from the <see cref="EdgeCache"/>, filled from the
/// origin on a miss with one fetch per object however many viewers ask at once (<see cref="RequestCoalescer{TKey,TResult}"/>),
/// LL-HLS blocking playlist requests included (keyed by <c>_HLS_msn</c>/<c>_HLS_part</c>; their no-cache
/// answer is shared by the waiters of that one fetch and not kept). Bodies go out through the same
/// <see cref="StoredObjectWriter"/> as the origin's (ETag, Range, HEAD, limits, playlist compression).
/// </summary>
internal static class EdgeDelivery
{
    public static IServiceCollection AddEdge(this IServiceCollection services, IConfiguration configuration, string dataPath)
    {
        services.AddOptions<EdgeOptions>()
            .Bind(configuration.GetSection(EdgeOptions.Section))
            .Configure(o =>
            {
                o.Upstream = configuration[EdgeOptions.UpstreamKey];
                o.CachePath ??= Path.Combine(dataPath, "edge-cache");
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<EdgeCache>();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<EdgePlaybackCheck>();
        services.AddSingleton<Handler>();
        services.AddHostedService<EdgeInvalidationFeed>();
        return services;
    }

    public static IEndpointRouteBuilder MapEdge(this IEndpointRouteBuilder endpoints)
    {
        var handler = endpoints.ServiceProvider.GetRequiredService<Handler>();
        endpoints.MapMethods("/live/{**path}", ["GET", "HEAD"], handler.HandleAsync);
        endpoints.MapMethods("/vod/{**path}", ["GET", "HEAD"], handler.HandleAsync);
        return endpoints.MapClock();
    }

    /// <param name="directory">In a cluster: live paths are fetched from the origin the stream directory names (VOD from the upstream).</param>
    internal sealed class Handler(EdgeCache cache, UpstreamClient upstream, DeliveryLimits limits, TimeProvider time, EdgePlaybackCheck playback,
        Cluster.StreamDirectory? directory = null)
    {
        private readonly RequestCoalescer<string, UpstreamResult> _coalescer = new();
        private static readonly byte[] DynamicMpd = "type=\"dynamic\""u8.ToArray();
        private readonly MpdUtcTiming _utcTiming = new();

        public async Task HandleAsync(HttpContext context)
        {
            var key = CacheKey(context.Request, out var blocking);
            if (key is null)
            {
                await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                return;
            }

            if (playback.Admits(context.Request.Path.Value!, context.Connection.RemoteIpAddress) == false)
            {
                context.Response.Headers.CacheControl = "no-store";
                await Problem(context, StatusCodes.Status403Forbidden, "missing, expired or invalid playback token").ConfigureAwait(false);
                return;
            }

            var ct = context.RequestAborted;
            // The viewer's address (after this edge's own trusted proxies) goes on to the origin, as a proxy's should.
            var forwardedFor = UpstreamClient.ForwardedFor(context.Request.Headers["X-Forwarded-For"].ToString(), context.Connection.RemoteIpAddress);
            var resolution = await ResolveAsync(key, blocking, forwardedFor, ct).ConfigureAwait(false);
            if (resolution.Entry is { } entry)
            {
                await ServeAsync(context, entry, resolution.XCache, time.GetUtcNow().ToUnixTimeMilliseconds()).ConfigureAwait(false);
                return;
            }

            await resolution.Upstream!.WriteNotOkAsync(context, ct).ConfigureAwait(false);
        }

        /// <summary>The <c>X-Cache</c> values: how the edge came by the object it serves.</summary>
        internal static class XCache
        {
            public const string Hit = "HIT";
            public const string Miss = "MISS";
            public const string Coalesced = "COALESCED";
            public const string Revalidated = "REVALIDATED";
            public const string Stale = "STALE";
        }

        /// <summary>
        /// What the edge serves for <paramref name="key"/>: a fresh cached entry, else one fetched from the origin (one fetch
        /// per key however many ask at once), else a stale copy the origin's failure allows (RFC 5861), else the origin's
        /// failure or non-200 answer (<see cref="Resolution.Upstream"/>). Counted in the edge's request metrics.
        /// </summary>
        /// <param name="forwardedFor">The <c>X-Forwarded-For</c> a fetch sends (<see cref="UpstreamClient.ForwardedFor"/>): the
        /// viewer's, or the first viewer's of a coalesced fetch (for a tokenised key all of them passed the token's check).</param>
        internal async ValueTask<Resolution> ResolveAsync(string key, bool blocking, string? forwardedFor, CancellationToken ct)
        {
            var cached = blocking ? null : await cache.GetAsync(key, ct).ConfigureAwait(false);
            if (cached is not null && cached.IsFresh(time.GetUtcNow().ToUnixTimeMilliseconds()))
            {
                EdgeMetrics.Request(EdgeMetrics.Result.Hit);
                return new Resolution(cached, XCache.Hit, null);
            }

            return await FetchAsync(key, blocking, cached, forwardedFor, ct).ConfigureAwait(false);
        }

        /// <summary>The part of <see cref="ResolveAsync"/> after a lookup that found nothing fresh (<paramref name="cached"/>: an expired copy, or null).</summary>
        internal async ValueTask<Resolution> FetchAsync(string key, bool blocking, CacheEntry? cached, string? forwardedFor, CancellationToken ct)
        {
            (UpstreamResult Result, bool Coalesced) fetched;
            try
            {
                // An expired copy makes the fetch conditional (If-None-Match): a 304 refreshes it without a body.
                fetched = await _coalescer.RunAsync(key, k => FetchAndStoreAsync(k, blocking, cached, forwardedFor), ct).ConfigureAwait(false);
            }
            finally
            {
                EdgeMetrics.Observe(_coalescer.Waiters, cache);
            }

            var (result, coalesced) = fetched;
            if (coalesced)
            {
                EdgeMetrics.Coalesced();
            }

            if (result.Entry is not null)
            {
                var outcome = coalesced ? EdgeMetrics.Result.Coalesced : result.Revalidated ? EdgeMetrics.Result.Revalidated : EdgeMetrics.Result.Miss;
                EdgeMetrics.Request(outcome);
                return new Resolution(result.Entry, outcome switch
                {
                    EdgeMetrics.Result.Coalesced => XCache.Coalesced,
                    EdgeMetrics.Result.Revalidated => XCache.Revalidated,
                    _ => XCache.Miss,
                }, null);
            }

            // The origin failed (or answered 5xx): RFC 5861 stale-if-error, for objects that allow it.
            if (result.Status >= 500 && cached is not null && cached.MayServeStale(time.GetUtcNow().ToUnixTimeMilliseconds()))
            {
                EdgeMetrics.Request(EdgeMetrics.Result.Stale);
                return new Resolution(cached, XCache.Stale, null);
            }

            EdgeMetrics.Request(result.Problem is not null ? EdgeMetrics.Result.Error : coalesced ? EdgeMetrics.Result.Coalesced : EdgeMetrics.Result.Miss);
            return new Resolution(null, XCache.Miss, result);
        }

        private async Task<UpstreamResult> FetchAndStoreAsync(string key, bool blocking, CacheEntry? stale, string? forwardedFor)
        {
            // A purge of this object's video while the fetch runs (or its hold, while origins learn the change) keeps it out.
            var started = time.GetUtcNow().ToUnixTimeMilliseconds();
            var owner = directory is { Enabled: true } && LiveName(key) is { } name ? await directory.OwnerAsync(name).ConfigureAwait(false) : null;
            var result = await upstream.FetchAsync(key[1..], blocking, stale, forwardedFor, owner).ConfigureAwait(false);
            if (result.Entry is not null && result.Storable && !blocking)
            {
                // Stored before the coalesced waiters wake and the in-flight slot frees: the next request is a hit.
                if (result.Revalidated && stale is not null)
                {
                    cache.Replace(key, stale, result.Entry, started);
                }
                else
                {
                    cache.Put(key, result.Entry, started);
                }
            }

            return result;
        }

        /// <summary>The stream name of a <c>/live/</c> key (tokenised or not), null for any other.</summary>
        private static string? LiveName(string key)
        {
            var query = key.IndexOf('?', StringComparison.Ordinal);
            var path = query < 0 ? key.AsSpan() : key.AsSpan(0, query);
            var parsed = PlaybackPath.Parse(path);
            return parsed.Kind == PlaybackKind.Live ? path[parsed.Name].ToString() : null;
        }

                private Task ServeAsync(HttpContext context, CacheEntry entry, string status, long nowMs)
        {
            var headers = context.Response.Headers;
            headers.Age = AgeSeconds(entry, nowMs).ToString(CultureInfo.InvariantCulture);
            headers["X-Cache"] = status;
            var obj = entry.Object;
            var playlist = IsPlaylist(entry.ContentType);
            if (IsDynamicMpd(entry) && !MpdUtcTiming.IsFromEdge(context.Request))
            {
                // The origin left a live MPD's UTCTiming to us (Via): point players at this edge's /time, unless the
                // request comes from a further edge, which does the same for its own viewers. Composed once per
                // cached MPD and host (the memory tier keeps the same entry object).
                obj = _utcTiming.WithUtcTiming(obj, context.Request);
            }

            var kind = playlist ? DeliveryMetrics.Kind.Playlist : DeliveryMetrics.Kind.Segment;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                EdgeMetrics.Sent(obj.Length);
            }

            return StoredObjectWriter.WriteAsync(context, obj, entry.CacheControl, kind, limits.PacerFor(context), playlist && limits.CompressPlaylists);
        }

        /// <summary>RFC 9111 §5.1: seconds since the edge fetched (or revalidated) the object.</summary>
        internal static long AgeSeconds(CacheEntry entry, long nowMs) => Math.Max(0, (nowMs - entry.FetchedAtMs) / 1000);

        /// <summary>A live MPD whose UTCTiming the origin left to the edge (it answered an edge's Via).</summary>
        internal static bool IsDynamicMpd(CacheEntry entry) =>
            entry.ContentType.StartsWith("application/dash+xml", StringComparison.OrdinalIgnoreCase) && entry.Body.AsSpan().IndexOf(DynamicMpd) >= 0;

        internal MpdUtcTiming UtcTiming => _utcTiming;

        internal static bool IsPlaylist(string contentType) =>
            contentType.StartsWith("application/vnd.apple.mpegurl", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/dash+xml", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// <c>/live/a/b.m4s</c>, or for a playlist the path plus the LL-HLS directives in a fixed order
        /// (RFC 8216bis §6.2.5): other query parameters, CMCD's among them (CTA-5004 data differs per viewer and request,
        /// and would make every request a miss), are neither keyed nor sent to the origin. Null for a path that is not a canonical
        /// playback path (<see cref="PlaybackPath"/>), which no origin serves.
        /// </summary>
        internal static string? CacheKey(HttpRequest request, out bool blocking)
        {
            blocking = false;
            var path = request.Path.Value;
            if (path is null || !PlaybackPath.Parse(path).IsPlayback)
            {
                // UsePlaybackPaths refused any other spelling of a playback path before routing; this keeps the key canonical regardless.
                return null;
            }

            if (!path.EndsWith(".m3u8", StringComparison.Ordinal) || request.QueryString.Value is not { Length: > 1 })
            {
                return path;
            }

            var query = request.Query;
            var key = new StringBuilder(path);
            var sep = '?';
            foreach (var name in (ReadOnlySpan<string>)["_HLS_msn", "_HLS_part", Http.HlsSkipDirective.Name])
            {
                if (query.TryGetValue(name, out var value) && value.Count == 1)
                {
                    var v = value.ToString();
                    if (v.Length > 20 || !v.All(char.IsAsciiLetterOrDigit))
                    {
                        return null;
                    }

                    if (name == Http.HlsSkipDirective.Name)
                    {
                        // One key per answer: YES and v2 ask for the same delta update, anything else for the full playlist.
                        if (!Http.HlsSkipDirective.IsRequested(v))
                        {
                            continue;
                        }

                        v = "YES";
                    }

                    key.Append(sep).Append(name).Append('=').Append(v);
                    sep = '&';
                    blocking |= name != Http.HlsSkipDirective.Name;
                }
            }

            return key.ToString();
        }

        /// <summary>What <see cref="ResolveAsync"/> found: an entry to serve and how (<see cref="XCache"/>), or the origin's answer when there is none.</summary>
        internal readonly record struct Resolution(CacheEntry? Entry, string XCache, UpstreamResult? Upstream);

        private static Task Problem(HttpContext context, int status, string detail) =>
            TypedResults.Problem(detail: detail, statusCode: status).ExecuteAsync(context);
    }
}
