using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Edge;

/// <summary>What one origin fetch produced: a 200 entry (cacheable or not), another status, or a failure.</summary>
internal sealed record UpstreamResult(int Status, CacheEntry? Entry, bool Storable, string? Problem, string? ContentType, byte[]? ErrorBody, bool Revalidated = false)
{
    public static UpstreamResult Failed(int status, string problem) => new(status, null, false, problem, null, null);

    /// <summary>
    /// Answers a result without an entry, uncached: a failure of the fetch as a problem, or the upstream's own non-200 answer
    /// (404, 400, 503) passed through as it was. The edge and a cluster node relaying a live stream answer alike.
    /// </summary>
    public async Task WriteNotOkAsync(HttpContext context, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (Problem is not null)
        {
            await TypedResults.Problem(detail: Problem, statusCode: Status).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = Status;
        if (ContentType is not null)
        {
            context.Response.ContentType = ContentType;
        }

        var body = ErrorBody ?? [];
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Fetches from the origin over pooled HTTP/1.1 connections (SocketsHttpHandler). Every fetch is bounded;
/// there is no circuit breaker: a refused connect on loopback or a LAN costs well under a millisecond, and
/// without one the edge is back the moment its origin is.
/// </summary>
internal sealed partial class UpstreamClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly EdgeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<UpstreamClient> _log;
    private int _down;

    public UpstreamClient(IOptions<EdgeOptions> options, TimeProvider time, ILogger<UpstreamClient> log)
        : this(options.Value, time, log, new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(options.Value.ConnectTimeoutSeconds),
            MaxConnectionsPerServer = options.Value.MaxConnectionsPerServer,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            // Re-resolve the origin's name now and then (a DNS-addressed origin may move).
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
        })
    {
    }

    /// <param name="handler">The connections to the origin (owned from here on); tests pass one without sockets.</param>
    internal UpstreamClient(EdgeOptions options, TimeProvider time, ILogger<UpstreamClient> log, HttpMessageHandler handler)
    {
        _options = options;
        _time = time;
        _log = log;
        _http = new HttpClient(handler)
        {
            // An origin of a cluster has no configured upstream: it names each owner (FetchAsync's origin).
            BaseAddress = _options.Upstream is null ? null : _options.UpstreamUri,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <param name="pathAndQuery">Relative to the upstream base, without the leading slash.</param>
    /// <param name="stale">An expired cached copy: the request is made conditional on its ETag, and a 304 gives back
    /// this body with the freshness of the 304 (RFC 9111 §4.3).</param>
    /// <param name="forwardedFor">The <c>X-Forwarded-For</c> to send: the viewer's chain with the viewer's address appended
    /// (<see cref="ForwardedFor"/>); null sends none.</param>
    /// <param name="origin">The origin to ask instead of the configured upstream: the owner of a live stream in the cluster's
    /// stream directory. Such a request carries <see cref="ClusterHopHeader"/>, so the owner never passes it on again.</param>
    public async Task<UpstreamResult> FetchAsync(string pathAndQuery, bool blocking, CacheEntry? stale = null, string? forwardedFor = null, Uri? origin = null)
    {
        var result = await SendAsync(pathAndQuery, blocking, stale, forwardedFor, origin).ConfigureAwait(false);
        if (origin is not null)
        {
            // A cluster owner's failure is that stream's, not the configured upstream's: no down/back transitions for it.
            return result;
        }

        // Logged on the transitions only: an origin that is down would otherwise log once per request.
        if (result.Problem is not null)
        {
            if (Interlocked.Exchange(ref _down, 1) == 0)
            {
                Log.OriginDown(_log, _options.Upstream!, result.Problem);
            }
        }
        else if (Interlocked.Exchange(ref _down, 0) == 1)
        {
            Log.OriginBack(_log, _options.Upstream!);
        }

        return result;
    }

    /// <summary>
    /// The <c>X-Forwarded-For</c> a proxy sends on: the request's own list (what this edge's trusted proxies, if any, left of
    /// it) with the address the request came from appended. An origin that lists its edges in <c>StreamVerse:TrustedProxies</c>
    /// takes the viewer's address from it (a playback token bound to an address is checked against that), and ignores it
    /// from anyone else.
    /// </summary>
    public static string? ForwardedFor(string? incoming, IPAddress? client)
    {
        // A list longer than any real chain is dropped rather than passed on: the origin reads it from the right, and stops
        // at the first address it does not trust, long before.
        incoming = incoming is { Length: > 512 } ? null : incoming;
        if (client is null)
        {
            return string.IsNullOrEmpty(incoming) ? null : incoming;
        }

        var address = (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString();
        return string.IsNullOrEmpty(incoming) ? address : incoming + ", " + address;
    }

    /// <summary>Marks a request one node of a cluster sent another for a stream the directory says it holds: it is answered from
    /// what the receiver holds, never fetched on (two nodes with stale directory answers cannot bounce a request between them).</summary>
    public const string ClusterHopHeader = "X-StreamVerse-Cluster-Hop";

    private async Task<UpstreamResult> SendAsync(string pathAndQuery, bool blocking, CacheEntry? stale, string? forwardedFor, Uri? origin)
    {
        var timeout = TimeSpan.FromSeconds(blocking ? _options.BlockingUpstreamTimeoutSeconds : _options.UpstreamTimeoutSeconds);
        using var cts = new CancellationTokenSource(timeout, _time);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, origin is null ? new Uri(pathAndQuery, UriKind.RelativeOrAbsolute) : new Uri(origin, pathAndQuery));
            request.Headers.TryAddWithoutValidation("Via", Http.MpdUtcTiming.EdgeVia);
            if (origin is not null)
            {
                request.Headers.TryAddWithoutValidation(ClusterHopHeader, "1");
            }

            if (forwardedFor is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
            }
            if (stale is not null && !blocking)
            {
                // RFC 9111 §4.3.1: validate the stored response instead of fetching the body again.
                request.Headers.TryAddWithoutValidation("If-None-Match", stale.ETag);
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            var length = response.Content.Headers.ContentLength;
            if (length > _options.MaxObjectBytes)
            {
                EdgeMetrics.Fetched("too_large", Stopwatch.GetElapsedTime(started), 0);
                return UpstreamResult.Failed(StatusCodes.Status502BadGateway, "the origin's object exceeds StreamVerse:Edge:MaxObjectBytes");
            }

            var body = await ReadBodyAsync(response.Content, length, cts.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            EdgeMetrics.Fetched(status.ToString(CultureInfo.InvariantCulture), Stopwatch.GetElapsedTime(started), body.Length);
            var contentType = response.Content.Headers.ContentType?.ToString();
            if (status == StatusCodes.Status304NotModified && stale is not null && !blocking)
            {
                return Revalidated(response, stale);
            }

            if (status != StatusCodes.Status200OK)
            {
                // 404, 400 (msn too far ahead), 503 (part late): passed through, never stored.
                return new UpstreamResult(status, null, false, null, contentType, body);
            }

            var cacheControl = OriginCacheControl(response);
            var age = response.Headers.Age ?? TimeSpan.Zero;
            var policy = CachePolicy.From(cacheControl, age);
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var entry = new CacheEntry
            {
                Body = body,
                ContentType = contentType ?? "application/octet-stream",
                ETag = response.Headers.ETag?.ToString()
                    ?? string.Create(CultureInfo.InvariantCulture, $"\"edge-{body.Length:x}-{now:x}\""),
                CacheControl = cacheControl is null ? "no-cache" : policy.Forwarded(cacheControl, age),
                FetchedAtMs = now - (long)age.TotalMilliseconds,
                FreshUntilMs = now + (long)policy.FreshFor.TotalMilliseconds,
                StaleUntilMs = now + (long)(policy.FreshFor + policy.StaleIfError).TotalMilliseconds,
            };
            return new UpstreamResult(status, entry, policy.Storable, null, entry.ContentType, null);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            EdgeMetrics.Fetched("timeout", Stopwatch.GetElapsedTime(started), 0);
            return UpstreamResult.Failed(StatusCodes.Status504GatewayTimeout,
                string.Create(CultureInfo.InvariantCulture, $"the origin did not answer within {timeout.TotalSeconds:0.###} s"));
        }
        catch (OperationCanceledException)
        {
            // SocketsHttpHandler's ConnectTimeout surfaces as a cancellation that is not ours.
            EdgeMetrics.Fetched("timeout", Stopwatch.GetElapsedTime(started), 0);
            return UpstreamResult.Failed(StatusCodes.Status504GatewayTimeout, "the origin did not accept a connection in time");
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            EdgeMetrics.Fetched("refused", Stopwatch.GetElapsedTime(started), 0);
            return UpstreamResult.Failed(StatusCodes.Status502BadGateway, "the origin refused the connection");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            EdgeMetrics.Fetched("error", Stopwatch.GetElapsedTime(started), 0);
            return UpstreamResult.Failed(StatusCodes.Status502BadGateway, "the origin failed: " + e.Message);
        }
        catch (Exception e)
        {
            // A bug here, or an answer nothing above foresaw: still a 502 problem for this fetch and every request that
            // joined it, never an exception into the routed handler (a plain 500) or the fast lane (a dropped connection).
            EdgeMetrics.Fetched("error", Stopwatch.GetElapsedTime(started), 0);
            Log.FetchFailed(_log, _options.Upstream!, pathAndQuery, e);
            return UpstreamResult.Failed(StatusCodes.Status502BadGateway, "the edge could not use the origin's answer");
        }
    }

    /// <summary>
    /// The Cache-Control as the origin sent it (several lines joined), or null. Not the typed header: .NET's parser drops
    /// the whole header for one delta-seconds beyond int.MaxValue, which RFC 9111 §1.2.2 says to take as 2^31.
    /// </summary>
    private static string? OriginCacheControl(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("Cache-Control", out var values) ? values.ToString() : null;

    /// <summary>
    /// A 304: the stored body is still current. Its stored headers are updated from the 304's (RFC 9111 §4.3.4):
    /// Cache-Control (absent: the stored one) and Age set the new freshness; type and validator stay.
    /// </summary>
    private UpstreamResult Revalidated(HttpResponseMessage response, CacheEntry stale)
    {
        var cacheControl = OriginCacheControl(response) ?? stale.CacheControl;
        var age = response.Headers.Age ?? TimeSpan.Zero;
        var policy = CachePolicy.From(cacheControl, age);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var entry = new CacheEntry
        {
            Body = stale.Body,
            ContentType = stale.ContentType,
            ETag = stale.ETag,
            CacheControl = policy.Forwarded(cacheControl, age),
            FetchedAtMs = now - (long)age.TotalMilliseconds,
            FreshUntilMs = now + (long)policy.FreshFor.TotalMilliseconds,
            StaleUntilMs = now + (long)(policy.FreshFor + policy.StaleIfError).TotalMilliseconds,
        };
        return new UpstreamResult(StatusCodes.Status200OK, entry, policy.Storable, null, entry.ContentType, null, Revalidated: true);
    }

    private async Task<byte[]> ReadBodyAsync(HttpContent content, long? length, CancellationToken ct)
    {
        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            if (length is { } known and <= ChunkBytes)
            {
                // The usual case (playlists, parts, most segments): one exact allocation, no intermediate copies.
                var body = new byte[known];
                await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
                return body;
            }

            return await ReadInChunksAsync(stream, length, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Above this a body is read in pooled chunks of this size.</summary>
    private const int ChunkBytes = 1 << 20;

    /// <summary>
    /// A large or unannounced body, kept in pooled chunks as it arrives and copied once, when whole, into the one array
    /// the cache keeps. A fetch holds what the origin has sent, not what it announced: 256 connections to an origin that
    /// announces 64 MiB and stalls would otherwise hold 16 GiB.
    /// </summary>
    private async Task<byte[]> ReadInChunksAsync(Stream stream, long? length, CancellationToken ct)
    {
        var chunks = new List<byte[]>();
        long total = 0;
        var filled = 0;
        try
        {
            // Up to the announced length, or to the end of an unannounced body.
            while (total != length)
            {
                if (chunks.Count == 0 || filled == chunks[^1].Length)
                {
                    chunks.Add(ArrayPool<byte>.Shared.Rent(ChunkBytes));
                    filled = 0;
                }

                var chunk = chunks[^1];
                var room = (int)Math.Min(chunk.Length - filled, (length ?? long.MaxValue) - total);
                var n = await stream.ReadAsync(chunk.AsMemory(filled, room), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    if (length is not null)
                    {
                        throw new EndOfStreamException("the origin's body ended before its Content-Length");
                    }

                    break;
                }

                filled += n;
                total += n;
                if (total > _options.MaxObjectBytes)
                {
                    throw new HttpRequestException("the origin's object exceeds StreamVerse:Edge:MaxObjectBytes");
                }
            }

            var body = GC.AllocateUninitializedArray<byte>(checked((int)total));
            var at = 0;
            foreach (var chunk in chunks)
            {
                var take = (int)Math.Min(chunk.Length, total - at);
                chunk.AsSpan(0, take).CopyTo(body.AsSpan(at));
                at += take;
            }

            return body;
        }
        finally
        {
            foreach (var chunk in chunks)
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1610, Level = LogLevel.Warning, Message = "Edge: origin {Upstream} failed: {Problem}; serving what the cache holds")]
        public static partial void OriginDown(ILogger logger, string upstream, string problem);

        [LoggerMessage(EventId = 1611, Level = LogLevel.Information, Message = "Edge: origin {Upstream} answers again")]
        public static partial void OriginBack(ILogger logger, string upstream);

        [LoggerMessage(EventId = 1612, Level = LogLevel.Error, Message = "Edge: fetching {Path} from origin {Upstream} failed unexpectedly; answered 502")]
        public static partial void FetchFailed(ILogger logger, string upstream, string path, Exception exception);
    }
}
