using System.Collections.Concurrent;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// At most one fetch in flight per key: the first caller (the leader) runs it, concurrent callers for the
/// same key await the leader's task (nginx's proxy_cache_lock, without its timeout: the fetch is itself
/// bounded). The fetch runs on the coalescer's token, not the leader's, so a leader whose viewer leaves
/// does not fail the others; each waiter leaves on its own token.
/// </summary>
internal sealed class RequestCoalescer<TKey, TResult>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Task<TResult>> _inFlight = new();
    private int _waiters;

    /// <summary>Callers currently awaiting another caller's fetch.</summary>
    public int Waiters => Volatile.Read(ref _waiters);

    public int InFlight => _inFlight.Count;

    /// <param name="fetch">Runs once per key at a time; completes (stores its result) before its task completes.</param>
    /// <returns>The result and whether this caller joined another's fetch.</returns>
    public async Task<(TResult Result, bool Coalesced)> RunAsync(TKey key, Func<TKey, Task<TResult>> fetch, CancellationToken ct)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(key, out var existing))
            {
                Interlocked.Increment(ref _waiters);
                try
                {
                    return (await existing.WaitAsync(ct).ConfigureAwait(false), true);
                }
                finally
                {
                    Interlocked.Decrement(ref _waiters);
                }
            }

            var leader = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_inFlight.TryAdd(key, leader.Task))
            {
                continue;
            }

            try
            {
                leader.SetResult(await fetch(key).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                leader.SetException(e);
            }
            finally
            {
                // Removed after completion: a caller that comes between sees the finished result, never a second fetch
                // for a response the fetch has just stored.
                _inFlight.TryRemove(new KeyValuePair<TKey, Task<TResult>>(key, leader.Task));
            }

            return (await leader.Task.WaitAsync(ct).ConfigureAwait(false), false);
        }
    }
}
