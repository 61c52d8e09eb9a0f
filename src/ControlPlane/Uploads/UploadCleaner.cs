using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Uploads;

/// <summary>
/// Runs <see cref="UploadStore.SweepAsync"/> at start (after the migrations, which the cache refresher applies
/// before any hosted service registered after it starts) and every <see cref="UploadOptions.CleanupInterval"/>
/// on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class UploadCleaner(UploadStore store, IOptions<UploadOptions> options, TimeProvider time, ILogger<UploadCleaner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        do
        {
            try
            {
                await store.SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or UnauthorizedAccessException or TimeoutException)
            {
                Log.SweepFailed(logger, e.Message);
            }
        }
        while (await Tick(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async ValueTask<bool> Tick(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4310, Level = LogLevel.Warning, Message = "Upload cleanup pass failed (retried next interval): {Reason}")]
        public static partial void SweepFailed(ILogger logger, string reason);
    }
}
