using System.Collections.Frozen;
using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Prometheus;
using StreamVerse.ControlPlane.Analytics;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Http.FastLane;
using StreamVerse.Origin.Limits;

namespace StreamVerse.Origin.Audience;

/// <summary>The four CMCD header values of a request (empty when absent), as bytes.</summary>
internal readonly ref struct CmcdHeaders(ReadOnlySpan<byte> request, ReadOnlySpan<byte> obj, ReadOnlySpan<byte> status, ReadOnlySpan<byte> session)
{
    public ReadOnlySpan<byte> Request { get; } = request;

    public ReadOnlySpan<byte> Object { get; } = obj;

    public ReadOnlySpan<byte> Status { get; } = status;

    public ReadOnlySpan<byte> Session { get; } = session;
}

/// <summary>
/// Turns every media response an origin or edge serves (a playlist, MPD, init segment, segment or part of a canonical
/// playback path, answered 2xx or 304) into what analytics keeps: a <see cref="DeliveryObservation"/> for the
/// <see cref="IDeliveryObservations"/> sink when one is registered, a viewer of the live stream
/// (<see cref="LiveViewers"/>), and the egress bytes per bandwidth tier. The viewer is the player's CMCD session id
/// (salted, <see cref="ViewerHash.OfSession"/>), else a salted hash of the client's address and user agent. Nothing else
/// of the request is kept: no address, no user agent, no token, no URL beyond the video id.
/// <para>
/// Called on the serving path, after the response is composed: by the fast lane (origin and edge) with the request
/// head's bytes, and once per routed request by <see cref="AudienceExtensions.UseDeliveryObservations"/>. Allocates
/// nothing but the first time it meets a video id (a bounded pool of names).
/// </para>
/// </summary>
internal sealed class DeliveryObserver
{
    private static readonly Counter EgressBytes = Metrics.CreateCounter(
        "streamverse_delivery_egress_bytes_total",
        "Body bytes of media responses (playlists, MPDs, init segments, segments, parts) sent to viewers, by bandwidth tier (StreamVerse:Limits:BandwidthTiers; \"none\" without one).",
        new CounterConfiguration { LabelNames = ["tier"] });

    private static readonly Counter Observed = Metrics.CreateCounter(
        "streamverse_delivery_observations_total",
        "Media responses observed for audience analytics, by where the viewer id came from: the player's CMCD session id, or the client address and user agent.",
        new CounterConfiguration { LabelNames = ["viewer"] });

    private static readonly Gauge Viewers = Metrics.CreateGauge(
        "streamverse_live_viewers",
        "Distinct viewers of all live streams within the last 20-30 seconds (per stream: GET /api/v1/channels/{id}/live/health).");

    private static readonly Counter.Child FromCmcd = Observed.WithLabels("cmcd");
    private static readonly Counter.Child FromClient = Observed.WithLabels("client");
    private static readonly Counter.Child NoTierBytes = EgressBytes.WithLabels("none");

    private readonly IDeliveryObservations? _sink;
    private readonly LiveViewers _viewers;
    private readonly TimeProvider _time;
    private readonly IDeliveryTierSelector _tiers;
    private readonly FrozenDictionary<string, Counter.Child> _tierBytes;
    private readonly AsciiStringPool _names = new(16 * 1024, 64);

    public DeliveryObserver(IServiceProvider services, LiveViewers viewers, TimeProvider time, IDeliveryTierSelector tiers, IOptions<LimitsOptions> limits)
    {
        _sink = services.GetService<IDeliveryObservations>();
        _viewers = viewers;
        _time = time;
        _tiers = tiers;
        DefaultTier = limits.Value.DefaultTier;
        _tierBytes = limits.Value.BandwidthTiers.Keys.ToFrozenDictionary(t => t, t => EgressBytes.WithLabels(t), StringComparer.Ordinal);
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => Viewers.Set(viewers.Total()));
    }

    /// <summary>The tier of a request the fast lane answers (it answers no tokenised request, so never a premium one).</summary>
    public string DefaultTier { get; }

    /// <summary>A response the fast lane composed (origin or edge): the head's path, query, CMCD headers and user agent as sent.</summary>
    public void Observe(ReadOnlySpan<byte> path, ReadOnlySpan<byte> query, scoped in CmcdHeaders headers, ReadOnlySpan<byte> userAgent, IPAddress? client, long bytesSent, string tier)
    {
        var parsed = PlaybackPath.Parse(path);
        if (!parsed.IsPlayback)
        {
            return;
        }

        var cmcd = new CmcdValues();
        Cmcd.ReadQuery(query, ref cmcd);
        Cmcd.ReadHeader(headers.Request, ref cmcd);
        Cmcd.ReadHeader(headers.Object, ref cmcd);
        Cmcd.ReadHeader(headers.Status, ref cmcd);
        Cmcd.ReadHeader(headers.Session, ref cmcd);

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var fromCmcd = cmcd.SessionId != 0;
        var viewer = fromCmcd ? ViewerHash.OfSession(cmcd.SessionId, now) : ViewerHash.OfClient(client, userAgent, now);
        var live = parsed.Kind == PlaybackKind.Live;
        var videoId = _names.Get(path[parsed.Name]);
        if (live)
        {
            _viewers.Saw(videoId, viewer);
        }

        (fromCmcd ? FromCmcd : FromClient).Inc();
        (tier.Length > 0 && _tierBytes.TryGetValue(tier, out var bytes) ? bytes : NoTierBytes).Inc(bytesSent);
        _sink?.Record(new DeliveryObservation(
            videoId,
            live,
            ObjectOf(path[parsed.Rest]),
            now,
            bytesSent,
            viewer,
            fromCmcd,
            cmcd.BufferLength,
            cmcd.BufferStarvation,
            cmcd.MeasuredThroughput,
            cmcd.Bitrate,
            cmcd.TopBitrate,
            cmcd.Startup,
            tier));
    }

    /// <summary>A routed response (origin or edge), after it was written: observed when a GET or HEAD of a playback path got 2xx or 304 (not a CORS preflight).</summary>
    public void Observe(HttpContext context)
    {
        var response = context.Response;
        if (response.StatusCode is not ((>= 200 and < 300) or StatusCodes.Status304NotModified)
            || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
        {
            return;
        }

        // UsePlaybackPaths ran before: a playback path here is exactly what the client sent, so its bytes are the lane's.
        var pathString = context.Request.Path.Value;
        if (pathString is null || pathString.Length > PlaybackPath.MaxLength || PlaybackPath.Parse(pathString).Kind is not (PlaybackKind.Live or PlaybackKind.Vod))
        {
            return;
        }

        var request = context.Request;
        Span<byte> path = stackalloc byte[PlaybackPath.MaxLength];
        path = path[..Encoding.Latin1.GetBytes(pathString, path)];
        Span<byte> query = stackalloc byte[Cmcd.MaxBytes * 3];
        query = query[..Latin1(request.QueryString.Value, query)];
        Span<byte> cmcdRequest = stackalloc byte[Cmcd.MaxBytes];
        Span<byte> cmcdObject = stackalloc byte[Cmcd.MaxBytes];
        Span<byte> cmcdStatus = stackalloc byte[Cmcd.MaxBytes];
        Span<byte> cmcdSession = stackalloc byte[Cmcd.MaxBytes];
        Span<byte> userAgent = stackalloc byte[ViewerHash.MaxUserAgentBytes];
        var headers = request.Headers;
        var cmcd = new CmcdHeaders(
            cmcdRequest[..Latin1(headers["CMCD-Request"].ToString(), cmcdRequest)],
            cmcdObject[..Latin1(headers["CMCD-Object"].ToString(), cmcdObject)],
            cmcdStatus[..Latin1(headers["CMCD-Status"].ToString(), cmcdStatus)],
            cmcdSession[..Latin1(headers["CMCD-Session"].ToString(), cmcdSession)]);
        var sent = HttpMethods.IsHead(request.Method) || response.StatusCode == StatusCodes.Status304NotModified ? 0 : response.ContentLength ?? 0;
        Observe(path, query, cmcd, userAgent[..Latin1(headers.UserAgent.ToString(), userAgent)], context.Connection.RemoteIpAddress, sent, _tiers.SelectTier(context) ?? string.Empty);
    }

    /// <summary>The Latin-1 bytes of what fits of <paramref name="value"/> (header values and queries are ASCII on the wire).</summary>
    private static int Latin1(string? value, Span<byte> destination)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        var chars = value.AsSpan(0, Math.Min(value.Length, destination.Length));
        return Encoding.Latin1.GetBytes(chars, destination);
    }

    /// <summary>
    /// What a file of a playback path is, by the names the segmenter gives (<c>*.m3u8</c>, <c>*.mpd</c>, <c>*_init.mp4</c>,
    /// <c>PREFIX_N.m4s</c>, parts <c>PREFIX_N.P.m4s</c>); the player's own <c>ot</c> is not trusted for this.
    /// </summary>
    internal static DeliveredObject ObjectOf(ReadOnlySpan<byte> rest)
    {
        var slash = rest.LastIndexOf((byte)'/');
        var file = slash < 0 ? rest : rest[(slash + 1)..];
        if (file.EndsWith(".m3u8"u8) || file.EndsWith(".mpd"u8))
        {
            return DeliveredObject.Manifest;
        }

        if (file.EndsWith("init.mp4"u8))
        {
            return DeliveredObject.InitSegment;
        }

        if (file.EndsWith(".m4s"u8) || file.EndsWith(".mp4"u8))
        {
            return file[..^4].Contains((byte)'.') ? DeliveredObject.Part : DeliveredObject.Segment;
        }

        return DeliveredObject.Other;
    }
}

internal static class AudienceExtensions
{
    /// <summary>The live viewer counts and the delivery observer (origin and edge alike).</summary>
    public static IServiceCollection AddAudience(this IServiceCollection services)
    {
        services.AddSingleton<LiveViewers>();
        services.AddSingleton<DeliveryObserver>();
        return services;
    }

    /// <summary>
    /// After the playback-path check and before everything that answers media (the live playlist shortcut, routing): each
    /// routed response to a playback path is observed once it is written. The fast lane observes what it answers itself.
    /// </summary>
    public static WebApplication UseDeliveryObservations(this WebApplication app)
    {
        var observer = app.Services.GetRequiredService<DeliveryObserver>();
        app.Use(async (context, next) =>
        {
            await next(context).ConfigureAwait(false);
            observer.Observe(context);
        });
        return app;
    }
}
