using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Cluster;

/// <summary>
/// Keeps this origin's directory entries alive: every third of the lease, each claimed name still live here is renewed, one
/// that ended is released, and one another origin took over (a new publish there) ends here: its publisher is told
/// <c>NetStream.Publish.Failed</c> and disconnected, so one stream never has two live sessions for long. Never lets an exception
/// end its loop: while Redis is away, entries expire and viewers elsewhere get 404 until it is back.
/// </summary>
internal sealed partial class StreamLeaseKeeper(
    StreamDirectory directory,
    LiveStreamRegistry registry,
    RtmpPublishers publishers,
    IOptions<ClusterOptions> options,
    TimeProvider time,
    ILogger<StreamLeaseKeeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!directory.Registers)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.LeaseSeconds / 3.0), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RenewAllAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        // A clean stop hands the names back at once rather than after the lease.
        foreach (var name in directory.Owned)
        {
            await directory.ReleaseAsync(name).ConfigureAwait(false);
        }
    }

    internal async Task RenewAllAsync()
    {
        foreach (var name in directory.Owned)
        {
            try
            {
                if (registry.FindLive(name) is not { IsEnded: false })
                {
                    await directory.ReleaseAsync(name).ConfigureAwait(false);
                }
                else if (!await directory.RenewAsync(name).ConfigureAwait(false))
                {
                    directory.Forget(name);
                    var ended = publishers.DisconnectStream(name, "the stream was published again on another origin");
                    Log.TakenOver(logger, name, ended);
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Log.RenewFailed(logger, name, e.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7020, Level = LogLevel.Warning, Message = "Cluster: stream {Name} was taken over by another origin; ended {Publishes} publish(es) here")]
        public static partial void TakenOver(ILogger logger, string name, int publishes);

        [LoggerMessage(EventId = 7021, Level = LogLevel.Warning, Message = "Cluster: renewing stream {Name} in the directory failed: {Error}")]
        public static partial void RenewFailed(ILogger logger, string name, string error);
    }
}
