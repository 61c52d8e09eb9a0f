using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Edge;
using StreamVerse.Origin.Hosting;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

internal static partial class FastLaneExtensions
{
    /// <summary>
    /// Puts the <see cref="Http1FastLane"/> in front of Kestrel's HTTP layer on a cleartext HTTP/1.1 endpoint, with the
    /// live router on an origin and the cache's on an edge (<paramref name="edge"/>), unless <c>StreamVerse:Delivery:FastLane</c> is off or a limit that needs the routed path (a per-IP rate limit, a
    /// capped default bandwidth tier) could apply to a request it answers (it answers none with a playback token). Decided once, when the endpoint is bound.
    /// </summary>
    public static ListenOptions UseFastLane(this ListenOptions listen, bool edge)
    {
        listen.Use(next =>
        {
            var services = listen.ApplicationServices;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("StreamVerse.Origin.FastLane");
            var delivery = services.GetRequiredService<IOptions<DeliveryOptions>>().Value;
            var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value;
            var deliveryLimits = services.GetRequiredService<DeliveryLimits>();
            var off = !delivery.FastLane ? "StreamVerse:Delivery:FastLane is false"
                : limits.RequestsPerSecondPerIp > 0 ? "StreamVerse:Limits:RequestsPerSecondPerIp is set"
                : !deliveryLimits.PlainRequestsNeverPaced ? "StreamVerse:Limits:DefaultTier is a capped bandwidth tier"
                : null;
            var origin = services.GetRequiredService<IOptions<OriginOptions>>().Value;
            if (off is not null)
            {
                Log.Off(logger, listen.ToString() ?? string.Empty, off);
                return origin.InlineScheduling ? ThreadPoolInput.Middleware(next) : next;
            }

            var time = services.GetRequiredService<TimeProvider>();
            IFastLaneRouter router = edge
                ? new EdgeFastLaneRouter(
                    services.GetRequiredService<EdgeCache>(),
                    services.GetRequiredService<EdgeDelivery.Handler>(),
                    time,
                    deliveryLimits.CompressPlaylists)
                : new LiveFastLaneRouter(
                    services.GetRequiredService<LiveStreamRegistry>(),
                    services.GetRequiredService<IPlaybackAuthorizer>(),
                    services.GetRequiredService<LiveDelivery.Handler>(),
                    deliveryLimits.CompressPlaylists,
                    new RecordingFiles(time));
            var bodies = new ZeroCopyBodies(
                delivery.ZeroCopyDirectory switch
                {
                    null => Path.Combine(Path.GetFullPath(origin.Data), "zero-copy"),
                    "" => null,
                    var directory => Path.GetFullPath(directory),
                },
                logger);
            var lane = new Http1FastLane(router, time, listen.KestrelServerOptions.Limits, bodies, logger, origin.InlineScheduling, anyOrigin: delivery.CorsOrigins is ["*"],
                services.GetRequiredService<Audience.DeliveryObserver>());
            if (listen.EndPoint is IPEndPoint)
            {
                // Taken by EpollFrontTransport when the host registered it (Linux, EventLoops not 0), which then binds
                // this endpoint with event loops in front of the lane; otherwise left untaken.
                services.GetRequiredService<EpollFrontOffers>().Offer(listen.EndPoint, lane, listen.KestrelServerOptions.Limits);
            }

            if (edge)
            {
                Log.OnEdge(logger, listen.ToString() ?? string.Empty);
            }
            else
            {
                Log.On(logger, listen.ToString() ?? string.Empty);
            }
            return lane.Wrap(next);
        });
        return listen;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "HTTP/1.1 fast lane on {Endpoint}: public live playlists and in-memory media answered ahead of routing")]
        public static partial void On(ILogger logger, string endpoint);

        [LoggerMessage(EventId = 1024, Level = LogLevel.Information, Message = "HTTP/1.1 fast lane on {Endpoint}: untokenised /live and /vod answered from the edge cache ahead of routing")]
        public static partial void OnEdge(ILogger logger, string endpoint);

        [LoggerMessage(EventId = 1023, Level = LogLevel.Information, Message = "HTTP/1.1 fast lane off on {Endpoint}: {Reason}")]
        public static partial void Off(ILogger logger, string endpoint, string reason);
    }
}
