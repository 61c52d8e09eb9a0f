using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Auth;

internal sealed record TokenPair(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, string SessionId);

internal sealed record SessionInfo(string Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, DateTimeOffset ExpiresAt, string? UserAgent, string? Ip, bool Current);

/// <summary>
/// Sessions and their refresh tokens (RFC 9700 §4.14.2). A refresh token is 256 random bits, stored as its
/// SHA-256. Each use rotates it; presenting one that was already rotated means it leaked (or a client
/// raced itself): the whole session, every token of its family, is revoked.
/// </summary>
internal sealed partial class Sessions(Database database, AccessTokens accessTokens, SessionRevocations revocations,
    IOptions<JwtOptions> options, TimeProvider time, ILogger<Sessions> logger, Cluster.ClusterRedis? cluster = null)
{
    public async Task<TokenPair> CreateAsync(string userId, string role, string? userAgent, string? ip, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessionId = Ids.New();
        var refresh = Ids.Secret();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) VALUES (@id, @u, @now, @now, @exp, @ua, @ip)",
            [("id", sessionId), ("u", userId), ("now", now), ("exp", now + options.Value.SessionLifetime), ("ua", Truncate(userAgent, 256)), ("ip", ip)],
            cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (@h, @s, @now)",
            [("h", Ids.HashSecret(refresh)), ("s", sessionId), ("now", now)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return Pair(userId, role, sessionId, refresh);
    }

    /// <summary>Rotates a refresh token; null if it is unknown, expired, revoked, or replayed (which revokes its session).</summary>
    public async Task<TokenPair?> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var hash = Ids.HashSecret(refreshToken);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.SingleAsync(
            """
            SELECT s.id, s.user_id, u.role, s.expires_at, s.revoked_at, r.used_at
            FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id
            WHERE r.hash = @h AND u.deleted_at IS NULL
            """,
            [("h", hash)],
            (r, d) => new RefreshRow(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3), d.ReadNullableTimestamp(r, 4), d.ReadNullableTimestamp(r, 5)),
            cancellationToken).ConfigureAwait(false);
        if (row is null || row.RevokedAt is not null || row.ExpiresAt <= now)
        {
            return null;
        }

        // The conditional update is the arbiter: of two uses of one token, exactly one rotates it.
        var rotated = row.UsedAt is null && await db.ExecAsync(
            "UPDATE refresh_tokens SET used_at = @now WHERE hash = @h AND used_at IS NULL",
            [("now", now), ("h", hash)], cancellationToken).ConfigureAwait(false) == 1;
        if (!rotated)
        {
            await RevokeInAsync(db, "id = @s", [("s", row.SessionId)], now, cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            Log.RefreshReuse(logger, row.SessionId);
            return null;
        }

        var next = Ids.Secret();
        await db.ExecAsync("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (@h, @s, @now)",
            [("h", Ids.HashSecret(next)), ("s", row.SessionId), ("now", now)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE sessions SET last_used_at = @now WHERE id = @s", [("now", now), ("s", row.SessionId)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return Pair(row.UserId, row.Role, row.SessionId, next);
    }

    /// <summary>The user's live sessions, newest first, from the keyset position (<paramref name="at"/>, <paramref name="afterId"/>); <paramref name="take"/> + 1 rows.</summary>
    public async Task<List<SessionInfo>> ListAsync(string userId, string currentSessionId, DateTimeOffset at, string afterId, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.QueryAsync(
            """
            SELECT id, created_at, last_used_at, expires_at, user_agent, ip FROM sessions
            WHERE user_id = @u AND revoked_at IS NULL AND expires_at > @now AND (created_at < @ck OR (created_at = @ck AND id < @cid))
            ORDER BY created_at DESC, id DESC LIMIT @take
            """,
            [("u", userId), ("now", time.GetUtcNow()), ("ck", at), ("cid", afterId), ("take", take + 1)],
            (r, d) => new SessionInfo(r.GetString(0), d.ReadTimestamp(r, 1), d.ReadTimestamp(r, 2), d.ReadTimestamp(r, 3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetString(0) == currentSessionId),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Revokes one of the user's sessions; false if no such live session of theirs.</summary>
    public async Task<bool> RevokeAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var n = await RevokeInAsync(db, "id = @s AND user_id = @u", [("s", sessionId), ("u", userId)], time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return n > 0;
    }

    public async Task RevokeAllAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await RevokeAllInAsync(db, userId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Within the caller's transaction (password change, account deletion).</summary>
    public Task<int> RevokeAllInAsync(DbSession db, string userId, CancellationToken cancellationToken) =>
        RevokeInAsync(db, "user_id = @u", [("u", userId)], time.GetUtcNow(), cancellationToken);

    private async Task<int> RevokeInAsync(DbSession db, string where, (string, object?)[] args, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = await db.QueryAsync($"SELECT id FROM sessions WHERE revoked_at IS NULL AND {where}", args, (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        if (ids.Count == 0)
        {
            return 0;
        }

        await db.ExecAsync($"UPDATE sessions SET revoked_at = @now WHERE revoked_at IS NULL AND {where}", [.. args, ("now", now)], cancellationToken).ConfigureAwait(false);

        // Memory first would be wrong if the transaction then failed; but an access token must die now,
        // not at the next refresh of the cache: a spurious revocation of a session that stays live costs a
        // refresh, a missed one is a hole. So: memory now (this node's, and the cluster's through Redis), and the
        // database is the record.
        foreach (var id in ids)
        {
            revocations.Revoke(id, now + accessTokens.Lifetime + TimeSpan.FromMinutes(1));
            cluster?.Publish(Cluster.RevocationFeed.Channel, Cluster.RevocationFeed.SessionMessage(id));
        }

        return ids.Count;
    }

    private TokenPair Pair(string userId, string role, string sessionId, string refresh) =>
        new(accessTokens.Issue(userId, role, sessionId), "Bearer", (int)accessTokens.Lifetime.TotalSeconds, refresh, sessionId);

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max];

    private sealed record RefreshRow(string SessionId, string UserId, string Role, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? UsedAt);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "Refresh token replayed: session {SessionId} revoked (RFC 9700 4.14.2)")]
        public static partial void RefreshReuse(ILogger logger, string sessionId);
    }
}
