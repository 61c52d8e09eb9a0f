using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Events;

/// <summary>Wakes this process's dispatcher when a transaction here commits an event (other processes' events are found by polling).</summary>
internal sealed class OutboxSignal : Data.WakeSignal;

/// <summary>
/// Delivers outbox events through the <see cref="IEventTransport"/>, <see cref="OutboxOptions.BatchSize"/> at a time,
/// in the <c>JobWorker</c> manner: claims a batch under a lease (one conditional <c>UPDATE ... RETURNING</c>), delivers
/// each event and sets <c>done_at</c>, backs a failed one off through <c>run_after</c> (doubling up to
/// <see cref="OutboxOptions.MaxRetryDelay"/>; it is never dropped), wakes when a transaction of this process commits an
/// event and polls for the rest. On a graceful stop it hands back what it holds; after a crash, the next run of the
/// same node takes back its leases at start, and any other node once they run out. Delivery is at least once and in
/// <c>seq</c> order within a batch, not across processes. Registered after the refresher, whose start applies the
/// migrations, so the tables exist before the first claim (hosted services start in registration order).
/// </summary>
internal sealed partial class OutboxDispatcher : BackgroundService
{
    private readonly OutboxStore _store;
    private readonly OutboxSignal _signal;
    private readonly IEventTransport _transport;
    private readonly OutboxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public OutboxDispatcher(OutboxStore store, OutboxSignal signal, IEventTransport transport, IOptions<OutboxOptions> options,
        IOptions<ControlPlaneOptions> controlPlane, TimeProvider time, ILogger<OutboxDispatcher> logger)
    {
        _store = store;
        _signal = signal;
        _transport = transport;
        _options = options.Value;
        _time = time;
        _logger = logger;

        // One daemon per machine and data directory (as JobWorker): a lease held by an earlier run of this node is abandoned for sure.
        var data = Path.GetFullPath(controlPlane.Value.DataPath);
        Node = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Environment.MachineName + "\n" + data)).AsSpan(0, 8));
        Owner = Node + ":" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    }

    /// <summary>Stable per machine and data directory (hex, so it is safe in a LIKE pattern).</summary>
    public string Node { get; }

    /// <summary>This process's lease owner: node and a random run id.</summary>
    public string Owner { get; }

    internal static TimeSpan RetryDelay(OutboxOptions options, int attempts) =>
        TimeSpan.FromTicks(Math.Min(options.MaxRetryDelay.Ticks, options.RetryBaseDelay.Ticks * (1L << Math.Clamp(attempts - 1, 0, 30))));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // the host's start does not wait for the first database round trips
        var recovered = false;
        var lastPurge = long.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                if (!recovered)
                {
                    var n = await _store.RecoverAsync(Node, Owner, stoppingToken).ConfigureAwait(false);
                    if (n > 0)
                    {
                        Log.Recovered(_logger, n);
                    }

                    recovered = true;
                }

                if (lastPurge == long.MinValue || _time.GetElapsedTime(lastPurge) >= TimeSpan.FromHours(1))
                {
                    await _store.PurgeAsync(_time.GetUtcNow() - _options.Retention, stoppingToken).ConfigureAwait(false);
                    lastPurge = _time.GetTimestamp();
                }

                var batch = await _store.ClaimAsync(Owner, _options.BatchSize, _options.LeaseDuration, stoppingToken).ConfigureAwait(false);
                foreach (var message in batch)
                {
                    await DeliverAsync(message, stoppingToken).ConfigureAwait(false);
                }

                full = batch.Count == _options.BatchSize;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The loop outlives any one failure (database away): an exception escaping a BackgroundService stops the daemon.
                Log.DispatchError(_logger, e.Message);
            }

            if (full)
            {
                continue; // more may be due: no wait
            }

            try
            {
                await _signal.WaitAsync(_options.PollInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // What this process still holds is due again at once for whichever daemon runs next; the interrupted delivery
        // rolled its handler's transaction back.
        try
        {
            var released = await _store.ReleaseAllAsync(Owner, CancellationToken.None).ConfigureAwait(false);
            if (released > 0)
            {
                Log.Released(_logger, released);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.DispatchError(_logger, e.Message);
        }
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken stoppingToken)
    {
        stoppingToken.ThrowIfCancellationRequested();
        try
        {
            await _transport.DeliverAsync(message, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var delay = RetryDelay(_options, message.Attempts);
            Log.HandlerFailed(_logger, message.EventId, message.Type, message.Attempts, delay, e.Message);
            await _store.RetryLaterAsync(message.Seq, Owner, $"{e.GetType().Name}: {e.Message}", delay, stoppingToken).ConfigureAwait(false);
            return;
        }

        if (!await _store.CompleteAsync(message.Seq, Owner, stoppingToken).ConfigureAwait(false))
        {
            // The lease ran out and another process took the event: it will find every handler done and complete it.
            Log.LeaseLost(_logger, message.EventId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5300, Level = LogLevel.Warning, Message = "Outbox dispatch failed (retrying): {Error}")]
        public static partial void DispatchError(ILogger logger, string error);

        [LoggerMessage(EventId = 5301, Level = LogLevel.Warning,
            Message = "Event {EventId} ({Type}) failed at attempt {Attempt}; retrying in {Delay}: {Error}")]
        public static partial void HandlerFailed(ILogger logger, string eventId, string type, int attempt, TimeSpan delay, string error);

        [LoggerMessage(EventId = 5302, Level = LogLevel.Information, Message = "Outbox: {Count} events left leased by an earlier run of this node are due again")]
        public static partial void Recovered(ILogger logger, int count);

        [LoggerMessage(EventId = 5303, Level = LogLevel.Information, Message = "Outbox: {Count} events handed back at shutdown")]
        public static partial void Released(ILogger logger, int count);

        [LoggerMessage(EventId = 5304, Level = LogLevel.Warning, Message = "Event {EventId}: lease lost before completion; another process completes it")]
        public static partial void LeaseLost(ILogger logger, string eventId);
    }
}
