using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// Sliding-window counts of failed logins per account (the normalised e-mail, whether or not it exists, so
/// the limit itself reveals nothing) and per client address. Only failures count: a user who types the password
/// right is never slowed by an attacker's attempts from elsewhere beyond the per-account window.
/// An attempt takes its place in both windows before its password is verified and holds it while it runs, so
/// concurrent guesses cannot all pass the check before the first failure is counted: running and failed attempts
/// together never exceed a limit. When running attempts hold the places left, the next one waits for one to
/// settle instead of being refused, because those may yet succeed and give their places back.
/// Memory: windows are keyed by a fixed-size <see cref="ThrottleKey"/>, never by what the client sent; an attempt
/// that either limit refuses creates no window (both are looked at before either is entered), so only attempts
/// that went on to an Argon2id verification leave one, and what remains after a prune is bounded by the
/// verifications of one <see cref="ControlPlaneOptions.LoginFailureWindow"/>. A prune runs once the windows
/// exceed twice what the last one left (at least <see cref="PruneThreshold"/>), so its cost spreads over the
/// insertions that grew the map and the map holds at most twice its live windows.
/// </summary>
internal sealed class LoginThrottle(IOptions<ControlPlaneOptions> options, TimeProvider time)
{
    internal const int PruneThreshold = 100_000;
    private readonly ConcurrentDictionary<ThrottleKey, Window> _windows = new();
    private int _pruneAt = PruneThreshold;

    /// <summary>Windows held now (live or not yet pruned): what the memory tests watch.</summary>
    internal int TrackedKeys => _windows.Count;

    public Task<Attempt> BeginAsync(string normalisedEmail, IPAddress? client, CancellationToken cancellationToken) =>
        BeginAsync(ThrottleKey.Account(normalisedEmail), ThrottleKey.Address(client), cancellationToken);

    /// <summary>
    /// Takes a place in the account's window, then in the address's, or refuses the attempt
    /// (<see cref="Attempt.RetryAfter"/>) when the failures alone fill either. Waiting for the address while holding
    /// the account's place cannot deadlock: whoever holds an address place is past both waits and running.
    /// </summary>
    public async Task<Attempt> BeginAsync(ThrottleKey account, ThrottleKey address, CancellationToken cancellationToken)
    {
        var o = options.Value;

        // Refusals first, from the windows that exist (a window that does not exist refuses nothing): an attempt
        // refused by the address's failures must not leave a window for its account, nor the other way round.
        if ((Refusal(account, o.LoginMaxFailuresPerAccount) ?? Refusal(address, o.LoginMaxFailuresPerIp)) is { } refused)
        {
            return new Attempt(time, null, null, refused);
        }

        var (a, accountWait) = await EnterAsync(account, o.LoginMaxFailuresPerAccount, cancellationToken).ConfigureAwait(false);
        if (a is null)
        {
            return new Attempt(time, null, null, accountWait);
        }

        Window? i;
        TimeSpan ipWait;
        try
        {
            (i, ipWait) = await EnterAsync(address, o.LoginMaxFailuresPerIp, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            a.Leave();
            throw;
        }

        if (i is null)
        {
            a.Leave();
            return new Attempt(time, null, null, ipWait);
        }

        return new Attempt(time, a, i, null);
    }

    private TimeSpan? Refusal(ThrottleKey key, int limit) =>
        _windows.TryGetValue(key, out var window) ? window.RetryAfter(time.GetUtcNow(), options.Value.LoginFailureWindow, limit) : null;

    private async Task<(Window? Window, TimeSpan RetryAfter)> EnterAsync(ThrottleKey key, int limit, CancellationToken cancellationToken)
    {
        var span = options.Value.LoginFailureWindow;
        while (true)
        {
            var now = time.GetUtcNow();
            if (_windows.Count > Volatile.Read(ref _pruneAt))
            {
                Prune(now);
            }

            var window = _windows.GetOrAdd(key, static _ => new Window());
            if (window.TryEnter(now, span, limit, out var retryAfter, out var settled))
            {
                return (window, default);
            }

            if (retryAfter is { } wait)
            {
                return (null, wait);
            }

            // Without either, the window was pruned between the lookup and its lock: look it up again.
            if (settled is not null)
            {
                await settled.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, window) in _windows)
        {
            if (window.TryRetire(now, options.Value.LoginFailureWindow))
            {
                _windows.TryRemove(new KeyValuePair<ThrottleKey, Window>(key, window));
            }
        }

        Volatile.Write(ref _pruneAt, Math.Max(PruneThreshold, _windows.Count * 2));
    }

    /// <summary>
    /// One attempt's places. <see cref="Failed"/> keeps them as failures until they age out; <see cref="Succeeded"/>
    /// gives them back and forgives the account's failures (a login). Disposing gives back whatever is still held,
    /// uncounted: an attempt cancelled before its verification ran, or a re-authentication that passed.
    /// </summary>
    internal sealed class Attempt : IDisposable
    {
        private readonly TimeProvider _time;
        private Window? _account;
        private Window? _ip;

        internal Attempt(TimeProvider time, Window? account, Window? ip, TimeSpan? retryAfter)
        {
            _time = time;
            _account = account;
            _ip = ip;
            RetryAfter = retryAfter;
        }

        /// <summary>Set when the attempt was refused: it holds no place and must not verify anything.</summary>
        public TimeSpan? RetryAfter { get; }

        public void Failed()
        {
            var now = _time.GetUtcNow();
            _account?.LeaveFailed(now);
            _ip?.LeaveFailed(now);
            _account = _ip = null;
        }

        public void Succeeded()
        {
            _account?.LeaveForgiving();
            _ip?.Leave();
            _account = _ip = null;
        }

        public void Dispose()
        {
            _account?.Leave();
            _ip?.Leave();
            _account = _ip = null;
        }
    }

    internal sealed class Window
    {
        private readonly Queue<DateTimeOffset> _failures = new();
        private int _running;
        private TaskCompletionSource? _settled;
        private bool _retired;

        /// <returns>
        /// True when a place was taken. Otherwise <paramref name="retryAfter"/> is set when the failures alone fill the
        /// window; <paramref name="settled"/> is set when running attempts hold the places left (it completes when one
        /// of them settles); neither is set when the window was pruned.
        /// </returns>
        public bool TryEnter(DateTimeOffset now, TimeSpan window, int limit, out TimeSpan? retryAfter, out Task? settled)
        {
            retryAfter = null;
            settled = null;
            lock (_failures)
            {
                if (_retired)
                {
                    return false;
                }

                retryAfter = FailedOut(now, window, limit);
                if (retryAfter is not null)
                {
                    return false;
                }

                if (_failures.Count + _running >= limit)
                {
                    settled = (_settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                    return false;
                }

                _running++;
                return true;
            }
        }

        /// <summary>When the failures alone fill the window: how long until it reopens. Null otherwise.</summary>
        public TimeSpan? RetryAfter(DateTimeOffset now, TimeSpan window, int limit)
        {
            lock (_failures)
            {
                return FailedOut(now, window, limit);
            }
        }

        private TimeSpan? FailedOut(DateTimeOffset now, TimeSpan window, int limit)
        {
            Trim(now, window);
            if (_failures.Count < limit)
            {
                return null;
            }

            // The window reopens when enough of the oldest failures have aged out.
            var oldestThatMustExpire = _failures.ElementAt(_failures.Count - limit);
            var wait = oldestThatMustExpire + window - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1);
        }

        public void Leave()
        {
            lock (_failures)
            {
                Settle();
            }
        }

        public void LeaveFailed(DateTimeOffset now)
        {
            lock (_failures)
            {
                _failures.Enqueue(now);
                Settle();
            }
        }

        public void LeaveForgiving()
        {
            lock (_failures)
            {
                _failures.Clear();
                Settle();
            }
        }

        /// <summary>True when the window holds nothing; it then refuses every entry, so it can be dropped.</summary>
        public bool TryRetire(DateTimeOffset now, TimeSpan window)
        {
            lock (_failures)
            {
                Trim(now, window);
                _retired = _retired || (_running == 0 && _failures.Count == 0);
                return _retired;
            }
        }

        private void Settle()
        {
            _running--;
            _settled?.SetResult();
            _settled = null;
        }

        private void Trim(DateTimeOffset now, TimeSpan window)
        {
            while (_failures.Count > 0 && _failures.Peek() + window <= now)
            {
                _failures.Dequeue();
            }
        }
    }
}
