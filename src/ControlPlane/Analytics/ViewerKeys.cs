using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// The keys analytics stores instead of who someone is. A signed-in viewer is HMAC-SHA256(account salt, account id): the
/// salt is a random secret kept in the control-plane database (<c>analytics_secrets</c>), so every daemon computes the same
/// key, and account deletion and data export recompute it from the id; the raw account id is never stored in analytics.
/// An anonymous viewer is HMAC(daily salt, the player's per-tab session id). The address key (flood rule only) is HMAC(daily
/// salt, address and user agent) and lives only in memory. The daily salt is random per UTC day, held in this process's
/// memory only and never logged: yesterday's keys cannot be recomputed by anyone.
/// </summary>
internal sealed class ViewerKeys(Database database, TimeProvider time)
{
    private readonly Lock _gate = new();
    private byte[]? _accountSalt;
    private long _day = long.MinValue;
    private byte[] _daily = [];

    /// <summary>
    /// The account salt, created once (the first daemon to ask inserts it; every other one reads the same row). A caller inside
    /// a transaction passes its <paramref name="db"/>: on SQLite a second connection would wait on that transaction's write lock.
    /// </summary>
    public async ValueTask<byte[]> AccountSaltAsync(DbSession? db, CancellationToken cancellationToken)
    {
        if (_accountSalt is { } known)
        {
            return known;
        }

        if (db is not null)
        {
            return _accountSalt = await ReadOrCreateAsync(db, cancellationToken).ConfigureAwait(false);
        }

        await using var own = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return _accountSalt = await ReadOrCreateAsync(own, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadOrCreateAsync(DbSession db, CancellationToken cancellationToken)
    {
        await db.ExecAsync("INSERT INTO analytics_secrets (name, secret) VALUES ('account-salt', @s) ON CONFLICT (name) DO NOTHING",
            [("s", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))], cancellationToken).ConfigureAwait(false);
        var stored = await db.ScalarAsync<string>("SELECT secret FROM analytics_secrets WHERE name = 'account-salt'", [], cancellationToken).ConfigureAwait(false);
        return Convert.FromBase64String(stored!);
    }

    public ValueTask<string> AccountAsync(string accountId, CancellationToken cancellationToken) => AccountAsync(accountId, null, cancellationToken);

    public async ValueTask<string> AccountAsync(string accountId, DbSession? db, CancellationToken cancellationToken) =>
        Key("a", await AccountSaltAsync(db, cancellationToken).ConfigureAwait(false), accountId);

    public string Session(string sessionId) => Key("s", Daily(), sessionId);

    public ulong Address(string address, string userAgent)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(Daily(), Encoding.UTF8.GetBytes(address + "\n" + userAgent), mac);
        return BitConverter.ToUInt64(mac);
    }

    public static string Hex(ulong viewer) => "x" + viewer.ToString("x16", CultureInfo.InvariantCulture);

    private static string Key(string prefix, byte[] salt, string value)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(value), mac);
        return prefix + Convert.ToHexStringLower(mac[..16]);
    }

    private byte[] Daily()
    {
        var day = time.GetUtcNow().ToUnixTimeSeconds() / 86_400;
        lock (_gate)
        {
            if (day != _day)
            {
                _daily = RandomNumberGenerator.GetBytes(32);
                _day = day;
            }

            return _daily;
        }
    }
}
