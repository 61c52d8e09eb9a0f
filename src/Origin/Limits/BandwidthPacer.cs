namespace StreamVerse.Origin.Limits;

/// <summary>
/// Paces one connection's body bytes to a rate. A virtual clock: <c>_due</c> is when the bytes written so
/// far may have finished at the cap; a write waits until it is at most <see cref="Slack"/> ahead of the
/// wall clock. Idle time earns no credit beyond that slack, so a paused viewer cannot burst afterwards.
/// Shared by the requests of one connection (HTTP/2 streams run concurrently, hence the lock).
/// </summary>
internal sealed class BandwidthPacer
{
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(50);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private TimeSpan _due;

    public BandwidthPacer(long bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        BytesPerSecond = bytesPerSecond;
        _time = time;
        _due = Now;
        // Writes of ~1/20 s of the cap keep the pace smooth without tiny writes; at least 1 KiB, at most 64 KiB.
        ChunkSize = (int)Math.Clamp(bytesPerSecond / 20, 1024, 64 * 1024);
    }

    public long BytesPerSecond { get; }

    /// <summary>The largest write to hand to the transport between two waits.</summary>
    public int ChunkSize { get; }

    private TimeSpan Now => _time.GetElapsedTime(0);

    /// <summary>Accounts <paramref name="bytes"/> about to be written and waits until they are due.</summary>
    public Task PaceAsync(int bytes, CancellationToken ct)
    {
        TimeSpan wait;
        lock (_lock)
        {
            var now = Now;
            if (_due < now - Slack)
            {
                _due = now - Slack;
            }

            _due += TimeSpan.FromSeconds((double)bytes / BytesPerSecond);
            wait = _due - now - Slack;
        }

        return wait > TimeSpan.Zero ? Task.Delay(wait, _time, ct) : Task.CompletedTask;
    }
}
