using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// The fast lane's endpoints, left here by <see cref="FastLaneExtensions.UseFastLane"/> when it builds the lane (Kestrel
/// builds an endpoint's middleware before it binds the endpoint) for <see cref="EpollFrontTransport"/> to bind event
/// loops on.
/// </summary>
internal sealed class EpollFrontOffers
{
    private readonly ConcurrentDictionary<EndPoint, (Http1FastLane Lane, KestrelServerLimits Limits)> _offers = new();

    public void Offer(EndPoint endpoint, Http1FastLane lane, KestrelServerLimits limits) => _offers[endpoint] = (lane, limits);

    /// <summary>Offers no transport has taken (yet).</summary>
    public int Pending => _offers.Count;

    public bool TryTake(EndPoint endpoint, out Http1FastLane lane, out KestrelServerLimits limits)
    {
        var taken = _offers.TryRemove(endpoint, out var offer);
        (lane, limits) = offer;
        return taken;
    }
}

/// <summary>
/// Kestrel's transport with event loops on the fast lane's endpoint (<see cref="EpollFront"/>) and Kestrel's socket
/// transport everywhere else (RTMP, HTTPS, an endpoint without the lane).
/// </summary>
internal sealed class EpollFrontTransport(IOptions<SocketTransportOptions> options, ILoggerFactory loggers, EpollFrontOffers offers, IOptions<DeliveryOptions> delivery)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SocketTransportFactory _sockets = new(options, loggers);

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (offers.TryTake(endpoint, out var lane, out var limits))
        {
            var loops = delivery.Value.EventLoops ?? Environment.ProcessorCount;
            return new ValueTask<IConnectionListener>(EpollFront.Bind(endpoint, lane, loops, limits, options.Value, loggers));
        }

        return _sockets.BindAsync(endpoint, cancellationToken);
    }

    public bool CanBind(EndPoint endpoint) => _sockets.CanBind(endpoint);
}
