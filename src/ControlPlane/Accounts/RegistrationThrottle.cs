using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// Registrations per client address (<see cref="ClientAddress"/>: after <c>StreamVerse:TrustedProxies</c>, an IPv6
/// address by its /64): at most <see cref="ControlPlaneOptions.RegistrationsPerAddress"/> in any
/// <see cref="ControlPlaneOptions.RegistrationWindow"/>, a sliding window of ten segments. Each registration costs an
/// Argon2id hash, so this is what keeps one host from spending the cores that logins need.
/// Asked after the request's fields are valid and before the hash: bad input costs nothing and counts nothing, and
/// a refused registration takes no permit (only granted ones are counted). Partitions are keyed by a fixed-size
/// <see cref="ThrottleKey"/>; the limiter drops a partition once its window has emptied.
/// </summary>
internal sealed class RegistrationThrottle : IDisposable
{
    private const int Segments = 10;
    private readonly PartitionedRateLimiter<ThrottleKey>? _limiter;
    private readonly TimeSpan _segment;

    public RegistrationThrottle(IOptions<ControlPlaneOptions> options)
    {
        var o = options.Value;
        _segment = o.RegistrationWindow / Segments;
        if (o.RegistrationsPerAddress > 0)
        {
            _limiter = PartitionedRateLimiter.Create<ThrottleKey, ThrottleKey>(key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
            {
                PermitLimit = o.RegistrationsPerAddress,
                Window = o.RegistrationWindow,
                SegmentsPerWindow = Segments,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        }
    }

    /// <summary>Null when the registration may go ahead (and is counted); otherwise how long until the address may register again.</summary>
    public TimeSpan? TryAcquire(IPAddress? client)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire(ThrottleKey.Address(client));
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero ? after : _segment;
    }

    public void Dispose() => _limiter?.Dispose();
}
