using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Ledger;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>
/// Drains <c>payment_events</c> (leased, so several processes share it; a lapsed lease makes an event due again, so a crash
/// resumes where it stopped), then ends access that ran out with time (<see cref="Entitlements.SweepExpiredAsync"/>) and
/// releases creator earnings whose hold ended. Woken by this process's webhook; polls for the rest. No exception ends its loop.
/// </summary>
internal sealed partial class PaymentWorker(PaymentEventQueue queue, StripeEventHandler stripe, Entitlements entitlements, LedgerStore ledger, PaymentWake wake,
    IOptions<PaymentOptions> options, TimeProvider time, ILogger<PaymentWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public string Owner { get; } = "pay:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.LoopError(logger, e.Message);
            }

            try
            {
                await wake.WaitAsync(options.Value.PollInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>One pass: every due event, the expiry sweep, the hold releases (tests call it to settle without waiting).</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var batch = await queue.ClaimAsync(Owner, 20, Lease, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var e in batch)
            {
                try
                {
                    if (e.Processor == StripeGateway.Processor)
                    {
                        await stripe.ApplyAsync(e, Owner, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var delay = TimeSpan.FromSeconds(Math.Min(3600, 5 * Math.Pow(2, Math.Min(e.Attempts, 10))));
                    Log.EventFailed(logger, e.EventId, e.Attempts, ex.Message);
                    await queue.FailAsync(e.Seq, ex.Message, time.GetUtcNow() + delay, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var ended = await entitlements.SweepExpiredAsync(cancellationToken).ConfigureAwait(false);
        if (ended > 0)
        {
            Log.AccessEnded(logger, ended);
        }

        await ledger.ReleaseDueAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6820, Level = LogLevel.Warning, Message = "Payment worker: {Error}")]
        public static partial void LoopError(ILogger logger, string error);

        [LoggerMessage(EventId = 6821, Level = LogLevel.Warning, Message = "Payment event {EventId} failed (attempt {Attempts}), will retry: {Error}")]
        public static partial void EventFailed(ILogger logger, string eventId, int attempts, string error);

        [LoggerMessage(EventId = 6822, Level = LogLevel.Information, Message = "Premium access ended with time for {Count} accounts")]
        public static partial void AccessEnded(ILogger logger, int count);
    }
}
