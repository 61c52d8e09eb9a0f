using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http;

/// <summary>
/// <c>/live/{name}/...</c>: master and media playlists (with LL-HLS blocking reload and delta updates), the
/// MPD, and the session's init segments, segments and parts. A live stream is served from memory; what the
/// memory no longer holds, and an ended stream's recording, come from the recording on disk.
/// </summary>
internal static class LiveDelivery
{
    internal const string Immutable = "public, max-age=31536000, immutable";
    internal const string NoCache = "no-cache";

    public static IServiceCollection AddLiveDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeliveryOptions>()
            .Bind(configuration.GetSection(DeliveryOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddCors();
        services.TryAddSingleton<IPlaybackAuthorizer, AllowAllPlaybackAuthorizer>();
        services.AddSingleton<Handler>();
        return services;
    }

    /// <summary>Response headers the delivery CORS policy lets players' scripts read (the fast lane sends the same).</summary>
    internal static readonly string[] ExposedHeaders = ["Content-Length", "Content-Range", "ETag", "Date", "Age"];

    public static WebApplication UseLiveDelivery(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value;
        app.UseCors(policy =>
        {
            if (options.CorsOrigins is ["*"])
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins(options.CorsOrigins);
            }

            policy.WithMethods("GET", "HEAD", "OPTIONS")
                // CTA-5004 §2.1: players in header mode (hls.js cmcd.useHeaders) send these cross-origin, after a preflight.
                .WithHeaders("Range", "If-None-Match", "If-Range", "CMCD-Request", "CMCD-Object", "CMCD-Status", "CMCD-Session")
                .WithExposedHeaders(ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromHours(1));
        });
        return app;
    }

    /// <summary>
    /// Playlists and MPDs without a token (<c>/live/{name}/{file}</c>: one slash after the name) are answered here,
    /// ahead of routing and the control plane's middleware (authentication, status-code pages), which a public
    /// 1.6 KB playlist polled by every player every part does not need: per-request overhead is most of the cost
    /// of small responses (bench/RESULTS.md, plain-Kestrel rows). The limits run before this. Everything
    /// else (session files, tokenised paths) goes through the routed endpoints below, to the same handler, and so
    /// does any request with an <c>Origin</c> header: browsers' cross-origin requests get their CORS headers from
    /// the CORS middleware, which runs after routing. Native players, ffmpeg and edges send no Origin.
    /// </summary>
    public static WebApplication UseLivePlaylistFastPath(this WebApplication app)
    {
        var handler = app.Services.GetRequiredService<Handler>();
        app.Use((context, next) =>
        {
            var request = context.Request;
            var path = request.Path.Value;
            if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                && !request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Origin))
            {
                // UsePlaybackPaths ran before: a path that parses here is exactly what the client sent.
                var parsed = PlaybackPath.Parse(path);
                if (parsed.Kind == PlaybackKind.Live && !parsed.IsTokenised && path.AsSpan()[parsed.Rest].IndexOf('/') < 0)
                {
                    return handler.ServeAsync(context, path![parsed.Name], path[parsed.Rest], null);
                }
            }

            return next(context);
        });
        return app;
    }

    public static IEndpointRouteBuilder MapLiveDelivery(this IEndpointRouteBuilder endpoints)
    {
        var handler = endpoints.ServiceProvider.GetRequiredService<Handler>();
        // /live/{name}/..., and the tokenised form for private and premium streams, /live/t/{token}/{name}/...: the
        // token is a path prefix, so every relative URI in the playlists and the MPD resolves under it and players
        // need no change; each object stays immutable and cacheable under its own URL. The handler reads the path
        // with PlaybackPath, not with route parameters (routing matches literals in any case).
        endpoints.MapMethods("/live/{**path}", ["GET", "HEAD"], handler.HandleAsync);
        return endpoints.MapClock();
    }

    /// <summary>The clock DASH players synchronise with (the MPD's UTCTiming, urn:mpeg:dash:utc:http-xsdate:2014); origins and edges both serve it.</summary>
    public static IEndpointRouteBuilder MapClock(this IEndpointRouteBuilder endpoints)
    {
        var time = endpoints.ServiceProvider.GetRequiredService<TimeProvider>();
        endpoints.MapMethods("/time", ["GET", "HEAD"], (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return TypedResults.Text(time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), "text/plain");
        });
        return endpoints;
    }

    /// <param name="cluster">In a cluster with a stream directory: the relay from the origin a stream is live on, when not here.</param>
    internal sealed class Handler(LiveStreamRegistry registry, IOptions<DeliveryOptions> options, IPlaybackAuthorizer authorizer, DeliveryLimits limits,
        Cluster.ClusterLiveProxy? cluster = null)
    {
        /// <summary>Recording playlists read once from disk (they no longer change), keyed by path, checked by size and mtime.</summary>
        private readonly ConcurrentDictionary<string, (long Length, long Ticks, StoredObject Body)> _recordingPlaylists = new(StringComparer.Ordinal);

        private readonly string _livePlaylistCache = "public, max-age=" + options.Value.LivePlaylistMaxAgeSeconds.ToString(CultureInfo.InvariantCulture);
        // stale-if-error (RFC 5861 §4): an ended stream's playlists no longer change, so an edge may keep
        // serving them while this origin is down.
        private readonly string _recordingPlaylistCache = "public, max-age=" + options.Value.RecordingPlaylistMaxAgeSeconds.ToString(CultureInfo.InvariantCulture) + ", stale-if-error=86400";
        private readonly string _publicMedia = options.Value.PublicMediaCacheControl;
        private readonly MpdUtcTiming _utcTiming = new();

        internal string LivePlaylistCacheControl => _livePlaylistCache;

        /// <summary>The Cache-Control of an untokenised segment, part or init segment (the fast lane sends the same).</summary>
        internal string PublicMediaCacheControl => _publicMedia;

        internal string RecordingPlaylistCacheControl => _recordingPlaylistCache;

        /// <summary>A name not live here may be live on another origin of the cluster: only this handler answers it (the fast lane hands it over).</summary>
        internal bool AsksTheCluster => cluster is not null && cluster.Enabled;

        /// <summary>The MPDs composed per host, shared with the fast lane so both serve the same objects.</summary>
        internal MpdUtcTiming UtcTiming => _utcTiming;

        /// <summary>
        /// An ended stream's playlists are final even while memory still serves them: cached like the
        /// recording's (and stale-if-error), so what an edge holds does not depend on when it last asked.
        /// </summary>
        private string PlaylistCache(LiveStream live) => live.IsEnded ? _recordingPlaylistCache : _livePlaylistCache;

        /// <summary>
        /// A segment, part or init segment: immutable under a token (and cut to its expiry by <see cref="TokenPaths"/>);
        /// without one, for <see cref="DeliveryOptions.PublicMediaMaxAgeSeconds"/>, since the stream may become private or
        /// be deleted. Decided by the canonical parse of the path (<see cref="PlaybackPath"/>; other spellings never get here).
        /// </summary>
        private string MediaCache(HttpContext context) => TokenPaths.TokenOf(context.Request.Path.Value).IsEmpty ? _publicMedia : Immutable;

        public Task HandleAsync(HttpContext context)
        {
            var path = context.Request.Path.Value;
            var parsed = PlaybackPath.Parse(path);
            return parsed.Kind != PlaybackKind.Live
                ? NotFound(context)
                : ServeAsync(context, path![parsed.Name], path[parsed.Rest], parsed.IsTokenised ? path[parsed.Token] : null);
        }

        public Task ServeAsync(HttpContext context, string? name, string? path, string? token)
        {
            if (!IsSafeName(name) || string.IsNullOrEmpty(path))
            {
                return NotFound(context);
            }

            if (!authorizer.Allows(name!, token, context.Connection.RemoteIpAddress))
            {
                DeliveryMetrics.Denied();
                context.Response.Headers.CacheControl = NoCache;
                return Problem(context, StatusCodes.Status403Forbidden, string.IsNullOrEmpty(token)
                    ? "this stream needs a playback token" : "the playback token is invalid or expired");
            }

            var live = registry.FindLive(name!);
            // An ended session here may have moved to another origin (its publisher went there): the directory decides.
            return (live is null || live.IsEnded) && AsksTheCluster ? ServeFromClusterAsync(context, name!, path) : Serve(context, live, name!, path);
        }

        /// <summary>Not live here: relayed from the origin the stream directory names, else answered from what this node holds
        /// (an ended session, a recording, or 404).</summary>
        private async Task ServeFromClusterAsync(HttpContext context, string name, string path)
        {
            if (await cluster!.OwnerAsync(context, name).ConfigureAwait(false) is { } owner)
            {
                await cluster.RelayAsync(context, owner).ConfigureAwait(false);
                return;
            }

            await Serve(context, registry.FindLive(name), name, path).ConfigureAwait(false);
        }

        private Task Serve(HttpContext context, LiveStream? live, string name, string path) => path switch
        {
            "index.m3u8" => MasterAsync(context, live, name, path),
            // video.m3u8, audio.m3u8, and a live ladder's rungs (video360.m3u8, ...).
            _ when path.EndsWith(".m3u8", StringComparison.Ordinal) && !path.Contains('/', StringComparison.Ordinal) => MediaPlaylistAsync(context, live, name, path),
            "index.mpd" => MpdAsync(context, live, name, path),
            _ => SessionFileAsync(context, live, name, path),
        };

        private async Task MasterAsync(HttpContext context, LiveStream? live, string name, string path)
        {
            var body = live is null ? null : await live.GetMasterPlaylistAsync(context.RequestAborted).ConfigureAwait(false);
            if (body is not null)
            {
                await StoredObjectWriter.WriteAsync(context, body, PlaylistCache(live!), DeliveryMetrics.Kind.Playlist, limits.PacerFor(context), limits.CompressPlaylists).ConfigureAwait(false);
                return;
            }

            await RecordingAsync(context, name, path).ConfigureAwait(false);
        }

        private async Task MpdAsync(HttpContext context, LiveStream? live, string name, string path)
        {
            var body = live is null ? null : await live.GetMpdAsync(context.RequestAborted).ConfigureAwait(false);
            if (body is not null)
            {
                // A StreamVerse edge composes UTCTiming itself, with the host its viewers reach it by.
                if (!MpdUtcTiming.IsFromEdge(context.Request))
                {
                    body = _utcTiming.WithUtcTiming(body, context.Request);
                }

                await StoredObjectWriter.WriteAsync(context, body, PlaylistCache(live!), DeliveryMetrics.Kind.Mpd, limits.PacerFor(context), limits.CompressPlaylists).ConfigureAwait(false);
                return;
            }

            await RecordingAsync(context, name, path).ConfigureAwait(false);
        }

        private async Task MediaPlaylistAsync(HttpContext context, LiveStream? live, string name, string path)
        {
            var query = context.Request.Query;
            long? msn = null;
            int? part = null;
            if (query.TryGetValue("_HLS_msn", out var msnValue))
            {
                if (!long.TryParse(msnValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var m))
                {
                    await Problem(context, StatusCodes.Status400BadRequest, "_HLS_msn must be a non-negative integer").ConfigureAwait(false);
                    return;
                }

                msn = m;
            }

            if (query.TryGetValue("_HLS_part", out var partValue))
            {
                // RFC 8216bis §6.2.5.2: _HLS_part without _HLS_msn is an error.
                if (msn is null || !int.TryParse(partValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                {
                    await Problem(context, StatusCodes.Status400BadRequest, "_HLS_part must be a non-negative integer and needs _HLS_msn").ConfigureAwait(false);
                    return;
                }

                part = p;
            }

            var skip = query.TryGetValue(HlsSkipDirective.Name, out var skipValue) && skipValue.Count == 1 && HlsSkipDirective.IsRequested(skipValue.ToString());

            if (live is null)
            {
                await RecordingAsync(context, name, path).ConfigureAwait(false);
                return;
            }

            var result = await live.GetMediaPlaylistAsync(path, msn, part, skip, context.RequestAborted).ConfigureAwait(false);
            if (msn is not null)
            {
                DeliveryMetrics.Blocking(result.Status);
            }

            switch (result.Status)
            {
                case PlaylistStatus.Ok when result.Body is not null:
                    // Blocking responses name a future state of the playlist: never let a cache keep them.
                    await StoredObjectWriter.WriteAsync(context, result.Body, msn is null ? PlaylistCache(live) : NoCache, DeliveryMetrics.Kind.Playlist, limits.PacerFor(context), limits.CompressPlaylists).ConfigureAwait(false);
                    break;
                case PlaylistStatus.BadRequest:
                    await Problem(context, StatusCodes.Status400BadRequest, "_HLS_msn/_HLS_part is too far ahead of the live edge").ConfigureAwait(false);
                    break;
                case PlaylistStatus.Unavailable:
                    context.Response.Headers.CacheControl = NoCache;
                    await Problem(context, StatusCodes.Status503ServiceUnavailable, "the requested part did not become available in time").ConfigureAwait(false);
                    break;
                default:
                    await RecordingAsync(context, name, path).ConfigureAwait(false);
                    break;
            }
        }

        private async Task SessionFileAsync(HttpContext context, LiveStream? live, string name, string path)
        {
            var slash = path.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || path.IndexOf('/', slash + 1) >= 0)
            {
                await NotFound(context).ConfigureAwait(false);
                return;
            }

            var file = path[(slash + 1)..];
            if (live is not null && path.AsSpan(0, slash).SequenceEqual(live.SessionId))
            {
                var obj = await live.GetSessionFileAsync(file, context.RequestAborted).ConfigureAwait(false);
                if (obj is not null)
                {
                    var kind = file.EndsWith("_init.mp4", StringComparison.Ordinal) ? DeliveryMetrics.Kind.Init
                        : file.AsSpan().Count('.') > 1 ? DeliveryMetrics.Kind.Part
                        : DeliveryMetrics.Kind.Segment;
                    await StoredObjectWriter.WriteAsync(context, obj, MediaCache(context), kind, limits.PacerFor(context), compress: false).ConfigureAwait(false);
                    return;
                }
            }

            await RecordingAsync(context, name, path).ConfigureAwait(false);
        }

        /// <summary>Serves a file of a recording from disk (sendfile through Kestrel; playlists from memory, compressed), or 404.</summary>
        private Task RecordingAsync(HttpContext context, string name, string path)
        {
            foreach (var segment in path.Split('/'))
            {
                if (!IsSafeFileName(segment))
                {
                    return NotFound(context);
                }
            }

            if (RecordingPath(registry.RecordingsPath, name, path) is not { } full || !File.Exists(full))
            {
                return NotFound(context);
            }

            string contentType;
            string cache;
            if (path.EndsWith(".m3u8", StringComparison.Ordinal))
            {
                (contentType, cache) = ("application/vnd.apple.mpegurl", _recordingPlaylistCache);
            }
            else if (path.EndsWith(".mpd", StringComparison.Ordinal))
            {
                (contentType, cache) = ("application/dash+xml", _recordingPlaylistCache);
            }
            else if (path.EndsWith(".mp4", StringComparison.Ordinal) || path.EndsWith(".m4s", StringComparison.Ordinal))
            {
                contentType = RecordingMediaType(path.AsSpan(path.IndexOf('/', StringComparison.Ordinal) + 1));
                cache = MediaCache(context);
            }
            else
            {
                return NotFound(context);
            }

            var info = new FileInfo(full);
            if (cache == _recordingPlaylistCache)
            {
                return RecordingPlaylistAsync(context, full, info, contentType);
            }

            limits.PaceResponseBody(context);
            context.Response.Headers.CacheControl = TokenPaths.CacheControl(context, cache, TimeProvider.System);
            DeliveryMetrics.Served(DeliveryMetrics.Kind.Recording, info.Length);
            var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue(RecordingETag(info.Length, info.LastWriteTimeUtc.Ticks));
            return TypedResults.PhysicalFile(full, contentType, lastModified: info.LastWriteTimeUtc, entityTag: etag, enableRangeProcessing: true)
                .ExecuteAsync(context);
        }

        /// <summary>
        /// <c>ROOT/NAME/PATH</c> as a full path, or null if it would leave the recordings root (the segments are checked
        /// against <see cref="IsSafeFileName"/> by the caller; this is the second fence). Shared with the fast lane.
        /// </summary>
        internal static string? RecordingPath(string root, string name, string path)
        {
            var fullRoot = Path.GetFullPath(root);
            var full = Path.GetFullPath(Path.Combine(fullRoot, name, path));
            return full.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
        }

        /// <summary>A recording's media file's content type by its name (audio_*: audio/mp4, the rest video/mp4).</summary>
        internal static string RecordingMediaType(ReadOnlySpan<char> fileName) =>
            fileName.StartsWith("audio", StringComparison.Ordinal) ? "audio/mp4" : "video/mp4";

        /// <summary>The ETag of a file of a recording: its size and modification ticks, in hex (strong).</summary>
        internal static string RecordingETag(long length, long ticks) =>
            "\"" + length.ToString("x", CultureInfo.InvariantCulture) + "-" + ticks.ToString("x", CultureInfo.InvariantCulture) + "\"";

        /// <summary>
        /// The recording playlist at <paramref name="full"/> as this handler last read it, if the file still has that size
        /// and modification time; null if it was not read yet (the fast lane hands such a request here) or changed.
        /// </summary>
        internal StoredObject? CachedRecordingPlaylist(string full, long length, long ticks) =>
            _recordingPlaylists.TryGetValue(full, out var cached) && cached.Length == length && cached.Ticks == ticks ? cached.Body : null;

        private async Task RecordingPlaylistAsync(HttpContext context, string full, FileInfo info, string contentType)
        {
            var ticks = info.LastWriteTimeUtc.Ticks;
            if (!_recordingPlaylists.TryGetValue(full, out var cached) || cached.Length != info.Length || cached.Ticks != ticks)
            {
                var bytes = await File.ReadAllBytesAsync(full, context.RequestAborted).ConfigureAwait(false);
                cached = (bytes.Length, ticks, new StoredObject(bytes, RecordingETag(bytes.Length, ticks), contentType));
                if (_recordingPlaylists.Count > 4096)
                {
                    _recordingPlaylists.Clear();
                }

                _recordingPlaylists[full] = cached;
            }

            await StoredObjectWriter.WriteAsync(context, cached.Body, _recordingPlaylistCache, DeliveryMetrics.Kind.Recording, limits.PacerFor(context), limits.CompressPlaylists).ConfigureAwait(false);
        }

        private static Task NotFound(HttpContext context) =>
            Problem(context, StatusCodes.Status404NotFound, "no such stream or object");

        private static Task Problem(HttpContext context, int status, string detail) =>
            TypedResults.Problem(detail: detail, statusCode: status).ExecuteAsync(context);

        /// <summary>The alphabet of names in playback paths (<see cref="PlaybackPath.IsName(ReadOnlySpan{char})"/>).</summary>
        internal static bool IsSafeName(ReadOnlySpan<char> name) => PlaybackPath.IsName(name);

        /// <summary>The alphabet of file segments in playback paths (<see cref="PlaybackPath.IsFileName"/>).</summary>
        internal static bool IsSafeFileName(ReadOnlySpan<char> segment) => PlaybackPath.IsFileName(segment);
    }
}
