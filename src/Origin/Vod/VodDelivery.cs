using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Hls;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Vod;

/// <summary>
/// <c>/vod/{id}/index.m3u8</c>, <c>index.mpd</c>, <c>poster.jpg</c> (the current version, short-lived) and
/// <c>/vod/{id}/{version}/{file}</c> (never changing: immutable under a token, else bounded by
/// <see cref="DeliveryOptions.PublicMediaMaxAgeSeconds"/>), also under <c>/vod/t/{token}/{id}/...</c> with the same playback-token
/// rules as live. Manifests and media playlists are read once and kept in memory (compressed once per encoding); segments
/// come from the <see cref="VodMemoryCache"/> when hot, else with sendfile from local storage, else streamed from remote
/// storage with the byte range passed through.
/// <para>
/// A replaced version stays playable for as long as its files exist: a player that loaded the old index keeps reading
/// media playlists and segments of that version, and since they are immutable and named per version, serving them can
/// never mix versions. Removing the old files (the job runner's business, after the index max-age) ends it, with 404.
/// A video whose <c>vod_prefix</c> is cleared serves nothing at all, old versions included.
/// </para>
/// </summary>
internal static partial class VodDelivery
{
    /// <summary>Manifests and playlists larger than this are refused (a presentation's are a few KiB).</summary>
    internal const int MaxTextBytes = 8 << 20;

    public static IServiceCollection AddVodDelivery(this IServiceCollection services)
    {
        services.AddSingleton<VodMemoryCache>();
        services.AddSingleton<Handler>();
        return services;
    }

    public static IEndpointRouteBuilder MapVodDelivery(this IEndpointRouteBuilder endpoints)
    {
        var handler = endpoints.ServiceProvider.GetRequiredService<Handler>();
        // /vod/{id}/... and /vod/t/{token}/{id}/...: as for live, the token is a path prefix, so every relative URI of the
        // manifests stays under it. The handler reads the path with PlaybackPath, not with route parameters.
        endpoints.MapMethods("/vod/{**path}", ["GET", "HEAD"], handler.HandleAsync);
        return endpoints;
    }

    internal sealed partial class Handler(IVodCatalog catalog, IPlaybackAuthorizer authorizer, DeliveryLimits limits, VodMemoryCache memory,
        IOptions<DeliveryOptions> options, ILogger<Handler> log)
    {
        private const int MaxTexts = 4096;

        // stale-if-error (RFC 5861 §4): an edge keeps serving the index while this origin is down.
        private readonly string _indexCache = "public, max-age=" + options.Value.VodIndexMaxAgeSeconds.ToString(CultureInfo.InvariantCulture) + ", stale-if-error=86400";

        // Versioned objects never change, but the video may become private or be deleted: immutable only under a token
        // (whose expiry caps every lifetime, TokenPaths), else for StreamVerse:Delivery:PublicMediaMaxAgeSeconds.
        private readonly string _publicMedia = options.Value.PublicMediaCacheControl;

        /// <summary>Rewritten indexes keyed by (prefix, path) and versioned playlists keyed by (id, path): both never change.</summary>
        private readonly ConcurrentDictionary<(string, string), StoredObject> _texts = new();

        public async Task HandleAsync(HttpContext context)
        {
            var requestPath = context.Request.Path.Value;
            var parsed = PlaybackPath.Parse(requestPath);
            if (parsed.Kind != PlaybackKind.Vod)
            {
                await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                return;
            }

            var id = requestPath![parsed.Name];
            var path = requestPath[parsed.Rest];
            var token = parsed.IsTokenised ? requestPath[parsed.Token] : null;
            if (!authorizer.Allows(id, token, context.Connection.RemoteIpAddress))
            {
                DeliveryMetrics.Denied();
                context.Response.Headers.CacheControl = LiveDelivery.NoCache;
                await Problem(context, StatusCodes.Status403Forbidden, string.IsNullOrEmpty(token)
                    ? "this video needs a playback token" : "the playback token is invalid or expired").ConfigureAwait(false);
                return;
            }

            var presentation = await catalog.ResolveAsync(id, context.RequestAborted).ConfigureAwait(false);
            if (presentation is null)
            {
                await Problem(context, StatusCodes.Status404NotFound, "this video has nothing to play (yet)").ConfigureAwait(false);
                return;
            }

            var prefix = presentation.Prefix;
            switch (path)
            {
                case "index.m3u8":
                    await IndexAsync(context, presentation, path, "master.m3u8", DeliveryMetrics.Kind.Playlist).ConfigureAwait(false);
                    return;
                case "index.mpd":
                    await IndexAsync(context, presentation, path, "manifest.mpd", DeliveryMetrics.Kind.Mpd).ConfigureAwait(false);
                    return;
                case "poster.jpg":
                    await FileAsync(context, prefix + "/poster.jpg", _indexCache, memoryKeyLength: 0).ConfigureAwait(false);
                    return;
            }

            // {version}/{file}: two segments (PlaybackPath allows no more, each a safe file name).
            if (!path.Contains('/', StringComparison.Ordinal))
            {
                await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                return;
            }

            if (path.StartsWith(VodManifests.CaptionFolder + "/", StringComparison.Ordinal))
            {
                await CaptionAsync(context, presentation, id, path, string.IsNullOrEmpty(token) ? _publicMedia : LiveDelivery.Immutable).ConfigureAwait(false);
                return;
            }

            if (path.EndsWith(".m3u8", StringComparison.Ordinal) || path.EndsWith(".vtt", StringComparison.Ordinal))
            {
                await VersionedTextAsync(context, prefix, id, path, string.IsNullOrEmpty(token) ? _publicMedia : LiveDelivery.Immutable).ConfigureAwait(false);
                return;
            }

            // The memory cache is keyed by "{id}/{version}/{file}", the tail of the request path: looked up without allocating.
            var keyLength = id.Length + 1 + path.Length;
            var media = string.IsNullOrEmpty(token) ? _publicMedia : LiveDelivery.Immutable;
            var hot = memory.TryGet(MemoryKey(context, keyLength));
            if (hot is not null)
            {
                VodMetrics.Served(VodMetrics.Source.Memory, hot.Length);
                await StoredObjectWriter.WriteAsync(context, hot, media, KindOf(path), limits.PacerFor(context), compress: false).ConfigureAwait(false);
                return;
            }

            await FileAsync(context, BlobKey(prefix, path), media, keyLength).ConfigureAwait(false);
        }

        private static ReadOnlySpan<char> MemoryKey(HttpContext context, int keyLength)
        {
            var requestPath = context.Request.Path.Value!;
            return requestPath.AsSpan(requestPath.Length - keyLength);
        }

        /// <summary>The storage key of <c>{version}/{file}</c>: a sibling of the current version under the video's folder.</summary>
        private static string BlobKey(string prefix, string versionAndFile)
        {
            var parent = prefix.LastIndexOf('/');
            return parent < 0 ? versionAndFile : string.Concat(prefix.AsSpan(0, parent + 1), versionAndFile);
        }

        private static DeliveryMetrics.Kind KindOf(string path) =>
            path.EndsWith("_init.mp4", StringComparison.Ordinal) ? DeliveryMetrics.Kind.Init : DeliveryMetrics.Kind.Segment;

        private async Task IndexAsync(HttpContext context, VodPresentation presentation, string path, string file, DeliveryMetrics.Kind kind)
        {
            var prefix = presentation.Prefix;
            // Keyed by the caption tracks too: adding or removing one changes the index, not the version's stored manifests.
            var textKey = presentation.CaptionsTag.Length == 0 ? prefix : prefix + "\n" + presentation.CaptionsTag;
            if (!_texts.TryGetValue((textKey, path), out var obj))
            {
                var bytes = await ReadTextAsync(prefix + "/" + file, context.RequestAborted).ConfigureAwait(false);
                if (bytes is null)
                {
                    await Problem(context, StatusCodes.Status404NotFound, "the video's presentation has no " + file).ConfigureAwait(false);
                    return;
                }

                var version = prefix[(prefix.LastIndexOf('/') + 1)..];
                var text = Encoding.UTF8.GetString(bytes);
                string rewritten;
                try
                {
                    rewritten = kind == DeliveryMetrics.Kind.Mpd
                        ? VodManifests.AddCaptionsToMpd(VodManifests.RewriteMpd(text, version), presentation.Captions)
                        : VodManifests.AddCaptionsToMaster(VodManifests.RewriteMaster(text, version), HlsCaptions(presentation));
                }
                catch (FormatException e)
                {
                    Log.BadManifest(log, prefix + "/" + file, e.Message);
                    await Problem(context, StatusCodes.Status500InternalServerError, "the video's stored manifest is damaged").ConfigureAwait(false);
                    return;
                }

                var body = Encoding.UTF8.GetBytes(rewritten);
                // A content hash: every origin process gives one index the same validator, so edges revalidate with 304.
                var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12)) + "\"";
                obj = Remember((textKey, path), new StoredObject(body, etag, MediaContentTypeOf(file)));
            }

            VodMetrics.Served(VodMetrics.Source.Manifest, obj.Length);
            await StoredObjectWriter.WriteAsync(context, obj, _indexCache, kind, limits.PacerFor(context), limits.CompressPlaylists).ConfigureAwait(false);
        }

        /// <summary>HLS subtitle playlists state the presentation's duration: without it known, the HLS index lists no captions.</summary>
        private static IReadOnlyList<VodCaption> HlsCaptions(VodPresentation presentation) =>
            presentation.DurationSeconds is > 0 ? presentation.Captions : [];

        /// <summary>
        /// <c>captions/{language}-{revision}.vtt</c> and its subtitle playlist <c>.m3u8</c>: only the tracks the video has now
        /// (a removed track is gone at once, even from this process's memory). The WebVTT file never changes under its
        /// name; the playlist states the current duration, so it is short-lived like the index.
        /// </summary>
        private async Task CaptionAsync(HttpContext context, VodPresentation presentation, string id, string path, string cacheControl)
        {
            var file = path[(VodManifests.CaptionFolder.Length + 1)..];
            foreach (var caption in presentation.Captions)
            {
                if (file == caption.File)
                {
                    await VersionedTextAsync(context, presentation.Prefix, id, path, cacheControl).ConfigureAwait(false);
                    return;
                }

                if (file == caption.Playlist && presentation.DurationSeconds is > 0 and var duration)
                {
                    var body = HlsPlaylistWriter.WriteSubtitles(new StringBuilder(256), caption.File, duration);
                    var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12)) + "\"";
                    VodMetrics.Served(VodMetrics.Source.Manifest, body.Length);
                    await StoredObjectWriter.WriteAsync(context, new StoredObject(body, etag, MediaContentTypeOf(file)), _indexCache,
                        DeliveryMetrics.Kind.Playlist, limits.PacerFor(context), limits.CompressPlaylists).ConfigureAwait(false);
                    return;
                }
            }

            await Problem(context, StatusCodes.Status404NotFound, "no such caption track").ConfigureAwait(false);
        }

        private async Task VersionedTextAsync(HttpContext context, string prefix, string id, string path, string cacheControl)
        {
            if (!_texts.TryGetValue((id, path), out var obj))
            {
                var key = BlobKey(prefix, path);
                var info = await catalog.StatAsync(key, context.RequestAborted).ConfigureAwait(false);
                var bytes = info is null ? null : await ReadTextAsync(key, context.RequestAborted).ConfigureAwait(false);
                if (bytes is null)
                {
                    await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                    return;
                }

                obj = Remember((id, path), new StoredObject(bytes, info!.ETag, MediaContentTypeOf(path)));
            }

            var playlist = path.EndsWith(".m3u8", StringComparison.Ordinal);
            VodMetrics.Served(VodMetrics.Source.Manifest, obj.Length);
            await StoredObjectWriter.WriteAsync(context, obj, cacheControl, DeliveryMetrics.Kind.Playlist, limits.PacerFor(context), playlist && limits.CompressPlaylists).ConfigureAwait(false);
        }

        private StoredObject Remember((string, string) key, StoredObject obj)
        {
            if (_texts.Count >= MaxTexts)
            {
                _texts.Clear();
            }

            return _texts.GetOrAdd(key, obj);
        }

        private async Task<byte[]?> ReadTextAsync(string key, CancellationToken ct)
        {
            var read = await catalog.OpenReadAsync(key, 0, MaxTextBytes + 1L, ct).ConfigureAwait(false);
            if (read is not { } r)
            {
                return null;
            }

            await using (r.Content.ConfigureAwait(false))
            {
                if (r.Info.Length > MaxTextBytes)
                {
                    throw new InvalidOperationException($"{key} is larger than {MaxTextBytes} bytes");
                }

                var bytes = new byte[r.Info.Length];
                await r.Content.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
                return bytes;
            }
        }

        /// <summary>
        /// A stored file: into the memory cache on its second request (then from memory), else sendfile from local
        /// storage, else streamed from remote storage. <paramref name="memoryKeyLength"/> 0: never cached in memory.
        /// </summary>
        private async Task FileAsync(HttpContext context, string key, string cacheControl, int memoryKeyLength)
        {
            var ct = context.RequestAborted;
            var info = await catalog.StatAsync(key, ct).ConfigureAwait(false);
            if (info is null)
            {
                await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                return;
            }

            var local = catalog.LocalPathOf(key);
            if (memoryKeyLength > 0 && memory.ShouldAdmit(MemoryKey(context, memoryKeyLength), info.Length))
            {
                var bytes = await ReadWholeAsync(key, local, info, ct).ConfigureAwait(false);
                if (bytes is not null)
                {
                    var obj = new StoredObject(bytes, info.ETag, info.ContentType);
                    memory.Add(MemoryKey(context, memoryKeyLength).ToString(), obj);
                    VodMetrics.Served(VodMetrics.Source.Memory, obj.Length);
                    await StoredObjectWriter.WriteAsync(context, obj, cacheControl, KindOf(key), limits.PacerFor(context), compress: false).ConfigureAwait(false);
                    return;
                }
            }

            context.Response.Headers.CacheControl = TokenPaths.CacheControl(context, cacheControl, TimeProvider.System);
            if (local is not null)
            {
                // sendfile through Kestrel (zero copy); the result does ETag/If-None-Match, Range/If-Range and HEAD (RFC 9110 §13, §14).
                limits.PaceResponseBody(context);
                VodMetrics.Served(VodMetrics.Source.File, info.Length);
                try
                {
                    await TypedResults.PhysicalFile(local, info.ContentType, lastModified: info.LastModified,
                        entityTag: EntityTagHeaderValue.Parse(info.ETag), enableRangeProcessing: true).ExecuteAsync(context).ConfigureAwait(false);
                }
                catch (FileNotFoundException) when (!context.Response.HasStarted)
                {
                    // Removed between the stat and the send (an old version being deleted).
                    context.Response.Headers.CacheControl = LiveDelivery.NoCache;
                    await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                }

                return;
            }

            await StreamAsync(context, key, info).ConfigureAwait(false);
        }

        private async Task<byte[]?> ReadWholeAsync(string key, string? local, VodFileInfo info, CancellationToken ct)
        {
            if (local is not null)
            {
                try
                {
                    return await File.ReadAllBytesAsync(local, ct).ConfigureAwait(false);
                }
                catch (FileNotFoundException)
                {
                    return null;
                }
            }

            var read = await catalog.OpenReadAsync(key, 0, info.Length, ct).ConfigureAwait(false);
            if (read is not { } r)
            {
                return null;
            }

            await using (r.Content.ConfigureAwait(false))
            {
                var bytes = new byte[r.Info.Length];
                await r.Content.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
                return bytes;
            }
        }

        /// <summary>Remote storage: validators and the range handled here, the range read from storage, copied through one pooled buffer.</summary>
        private async Task StreamAsync(HttpContext context, string key, VodFileInfo info)
        {
            var request = context.Request;
            var response = context.Response;
            var headers = response.Headers;
            headers.ETag = info.ETag;
            headers.AcceptRanges = "bytes";
            headers.LastModified = info.LastModified.ToString("R", CultureInfo.InvariantCulture);
            response.ContentType = info.ContentType;
            if (StoredObjectWriter.IfNoneMatchHits(request, info.ETag))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            long start = 0, length = info.Length;
            if (request.Headers.Range.Count > 0 && StoredObjectWriter.IfRangeAllows(request, info.ETag))
            {
                switch (StoredObjectWriter.TryParseRange(request.Headers.Range.ToString(), info.Length, out start, out length))
                {
                    case StoredObjectWriter.RangeResult.Satisfiable:
                        break;
                    case StoredObjectWriter.RangeResult.Unsatisfiable:
                        response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                        headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{info.Length}");
                        response.ContentLength = 0;
                        return;
                    default:
                        (start, length) = (0, info.Length);
                        break;
                }
            }

            var partial = length != info.Length;
            if (HttpMethods.IsHead(request.Method))
            {
                SetLength(response, partial, start, length, info.Length);
                return;
            }

            var ct = context.RequestAborted;
            var read = await catalog.OpenReadAsync(key, start, length, ct).ConfigureAwait(false);
            if (read is not { } r)
            {
                await Problem(context, StatusCodes.Status404NotFound, "no such object").ConfigureAwait(false);
                return;
            }

            SetLength(response, partial, start, length, info.Length);
            var pacer = limits.PacerFor(context);
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                await using (r.Content.ConfigureAwait(false))
                {
                    int n;
                    while ((n = await r.Content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        if (pacer is not null)
                        {
                            await pacer.PaceAsync(n, ct).ConfigureAwait(false);
                        }

                        await response.Body.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            VodMetrics.Served(VodMetrics.Source.Stream, length);
        }

        private static void SetLength(HttpResponse response, bool partial, long start, long length, long total)
        {
            if (partial)
            {
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{start + length - 1}/{total}");
            }

            response.ContentLength = length;
        }

        private static string MediaContentTypeOf(string file) =>
            file.EndsWith(".m3u8", StringComparison.Ordinal) ? "application/vnd.apple.mpegurl"
            : file.EndsWith(".mpd", StringComparison.Ordinal) ? "application/dash+xml"
            : file.EndsWith(".vtt", StringComparison.Ordinal) ? "text/vtt"
            : "application/octet-stream";

        private static Task Problem(HttpContext context, int status, string detail) =>
            TypedResults.Problem(detail: detail, statusCode: status).ExecuteAsync(context);

        private static partial class Log
        {
            [LoggerMessage(EventId = 1700, Level = LogLevel.Error, Message = "VOD manifest {Key} cannot be rewritten: {Reason}")]
            public static partial void BadManifest(ILogger logger, string key, string reason);
        }
    }
}
