using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// Kestrel entry point of the RTMP ingest: <c>listenOptions.UseConnectionHandler&lt;RtmpConnectionHandler&gt;()</c>.
/// Each connection runs an <see cref="RtmpSession"/>; whatever goes wrong in one is logged in one line and closes
/// that connection only.
/// </summary>
internal sealed partial class RtmpConnectionHandler(
    IOptions<RtmpOptions> options,
    IStreamKeyResolver keys,
    ILivePublishTarget target,
    RtmpPublishers publishers,
    RtmpMetrics metrics,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    PublishBackoff backoff,
    ILogger<RtmpConnectionHandler> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        metrics.Connections.Inc();
        var remote = connection.RemoteEndPoint?.ToString() ?? connection.ConnectionId;
        var address = (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address;
        if (backoff.IsBlocked(address, out var wait))
        {
            // A guesser's loop: closed on arrival, before the handshake costs anything (logged at debug: a loop would flood).
            metrics.Reject("backoff");
            Log.BackedOff(logger, remote, (int)Math.Ceiling(wait.TotalSeconds));
            return;
        }

        // Host shutdown reaches us as ApplicationStopping, or as Kestrel's request to close the connection.
        var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, closeRequested);
        // Every line logged for this connection (the session, the publish, the stream it feeds) names it.
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RtmpConnectionId"] = connection.ConnectionId });
        using var session = new RtmpSession(connection, options.Value, keys, target, publishers, metrics, time, logger);
        try
        {
            await RunAsync(session, remote, stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            for (var i = 0; i < session.RefusedKeys; i++)
            {
                backoff.Failed(address);
            }

            if (session.KeyAccepted)
            {
                backoff.Succeeded(address);
            }
        }
    }

    private async Task RunAsync(RtmpSession session, string remote, CancellationToken cancellationToken)
    {
        try
        {
            await session.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RtmpProtocolException ex)
        {
            metrics.Reject(ex.Reason);
            Log.ProtocolViolation(logger, remote, ex.Message);
        }
        catch (TimeoutException ex)
        {
            metrics.Reject("timeout");
            Log.Timeout(logger, remote, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // The connection was closed under us.
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
        {
            Log.ConnectionLost(logger, remote, ex.Message);
        }
#pragma warning disable CA1031 // A failure in one connection (including the sink) must not reach Kestrel's loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ConnectionFailed(logger, remote, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "RTMP connection from {Remote} closed: protocol violation: {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, string remote, string reason);

        [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "RTMP connection from {Remote} closed: {Reason}")]
        public static partial void Timeout(ILogger logger, string remote, string reason);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "RTMP connection from {Remote} lost: {Reason}")]
        public static partial void ConnectionLost(ILogger logger, string remote, string reason);

        [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "RTMP connection from {Remote} failed")]
        public static partial void ConnectionFailed(ILogger logger, string remote, Exception exception);

        [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "RTMP connection from {Remote} closed on arrival: refused stream keys, backing off for {Seconds} s")]
        public static partial void BackedOff(ILogger logger, string remote, int seconds);
    }
}
