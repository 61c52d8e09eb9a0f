using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>
/// Per-account and per-address limits on sending chat messages: fixed windows (<c>Chat:RateWindow</c>) held in this daemon's
/// memory, so with N daemons an account may send up to N times the limit, one per daemon its sockets reach. Addresses count
/// as <see cref="ClientAddress"/> groups them (an IPv6 /64), under the keyed hash <see cref="ThrottleKey"/>. Idle windows are
/// dropped by the limiter itself.
/// </summary>
internal sealed class ChatRateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _accounts;
    private readonly PartitionedRateLimiter<ThrottleKey> _addresses;

    public ChatRateLimits(IOptions<ChatOptions> options)
    {
        var o = options.Value;
        _accounts = PartitionedRateLimiter.Create<string, string>(id => RateLimitPartition.GetFixedWindowLimiter(id, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = o.AccountMessagesPerWindow, Window = o.RateWindow, QueueLimit = 0 }));
        _addresses = PartitionedRateLimiter.Create<ThrottleKey, ThrottleKey>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = o.AddressMessagesPerWindow, Window = o.RateWindow, QueueLimit = 0 }));
    }

    /// <summary>Takes one message from both limits; false (and the seconds to wait, when known) when either is spent.</summary>
    public bool TryTake(string accountId, IPAddress? address, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        using var byAddress = _addresses.AttemptAcquire(ThrottleKey.Address(address));
        if (!byAddress.IsAcquired)
        {
            retryAfterSeconds = RetryAfter(byAddress);
            return false;
        }

        using var byAccount = _accounts.AttemptAcquire(accountId);
        if (!byAccount.IsAcquired)
        {
            retryAfterSeconds = RetryAfter(byAccount);
            return false;
        }

        return true;
    }

    private static int RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;

    public void Dispose()
    {
        _accounts.Dispose();
        _addresses.Dispose();
    }
}
