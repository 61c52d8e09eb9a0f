using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// Sliding-window counts of failed logins per account (the normalised e-mail, whether or not it exists, so
/// the limit itself reveals nothing) and per client IP. Only failures count: a user who types the password
/// right is never slowed by an attacker's attempts from elsewhere beyond the per-account window.
/// </summary>
internal sealed class LoginThrottle(IOptions<ControlPlaneOptions> options, TimeProvider time)
{
    private const int MaxTrackedKeys = 100_000;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>How long to wait before trying again, or null if a login may be attempted now.</summary>
    public TimeSpan? RetryAfter(string account, string ip)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        var a = Get("a:" + account)?.RetryAfter(now, o.LoginFailureWindow, o.LoginMaxFailuresPerAccount);
        var i = Get("i:" + ip)?.RetryAfter(now, o.LoginFailureWindow, o.LoginMaxFailuresPerIp);
        return a is null ? i : i is null ? a : (a > i ? a : i);
    }

    public void Failed(string account, string ip)
    {
        var now = time.GetUtcNow();
        if (_windows.Count > MaxTrackedKeys)
        {
            Prune(now);
        }

        _windows.GetOrAdd("a:" + account, _ => new Window()).Add(now, options.Value.LoginFailureWindow);
        _windows.GetOrAdd("i:" + ip, _ => new Window()).Add(now, options.Value.LoginFailureWindow);
    }

    public void Succeeded(string account) => _windows.TryRemove("a:" + account, out _);

    private Window? Get(string key) => _windows.TryGetValue(key, out var w) ? w : null;

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, window) in _windows)
        {
            if (window.IsEmpty(now, options.Value.LoginFailureWindow))
            {
                _windows.TryRemove(key, out _);
            }
        }
    }

    private sealed class Window
    {
        private readonly Queue<DateTimeOffset> _failures = new();

        public void Add(DateTimeOffset now, TimeSpan window)
        {
            lock (_failures)
            {
                Trim(now, window);
                _failures.Enqueue(now);
            }
        }

        public TimeSpan? RetryAfter(DateTimeOffset now, TimeSpan window, int limit)
        {
            lock (_failures)
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
        }

        public bool IsEmpty(DateTimeOffset now, TimeSpan window)
        {
            lock (_failures)
            {
                Trim(now, window);
                return _failures.Count == 0;
            }
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
