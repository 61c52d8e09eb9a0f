using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>
/// Limits on what makes the daemon send mail, in the <see cref="RegistrationThrottle"/> style (sliding windows of ten
/// segments over <see cref="MailOptions.ThrottleWindow"/>, fixed-size <see cref="ThrottleKey"/>s): per client address
/// (<see cref="MailOptions.RequestsPerAddress"/> requests of any kind) and per e-mail and kind of mail
/// (<see cref="MailOptions.MessagesPerEmail"/>), counted whether or not an account has that e-mail, so the limit
/// tells nothing about who is registered. Only granted permits count.
/// </summary>
internal sealed class MailThrottle : IDisposable
{
    private const int Segments = 10;
    private readonly PartitionedRateLimiter<ThrottleKey>? _addresses;
    private readonly PartitionedRateLimiter<ThrottleKey>? _emails;
    private readonly TimeSpan _segment;

    public MailThrottle(IOptions<MailOptions> options)
    {
        var o = options.Value;
        _segment = o.ThrottleWindow / Segments;
        _addresses = Create(o.RequestsPerAddress, o.ThrottleWindow);
        _emails = Create(o.MessagesPerEmail, o.ThrottleWindow);
    }

    /// <summary>Null when a request from <paramref name="client"/> may go ahead (and is counted); otherwise how long to wait.</summary>
    public TimeSpan? TryAcquireAddress(IPAddress? client) => TryAcquire(_addresses, ThrottleKey.Address(client));

    /// <summary>Null when a mail of <paramref name="purpose"/> to <paramref name="normalisedEmail"/> may be sent (and is counted).</summary>
    public TimeSpan? TryAcquireEmail(string purpose, string normalisedEmail) => TryAcquire(_emails, ThrottleKey.MailTo(purpose, normalisedEmail));

    private TimeSpan? TryAcquire(PartitionedRateLimiter<ThrottleKey>? limiter, ThrottleKey key)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero ? after : _segment;
    }

    private static PartitionedRateLimiter<ThrottleKey>? Create(int permits, TimeSpan window) => permits <= 0 ? null
        : PartitionedRateLimiter.Create<ThrottleKey, ThrottleKey>(key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            SegmentsPerWindow = Segments,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        _addresses?.Dispose();
        _emails?.Dispose();
    }
}
