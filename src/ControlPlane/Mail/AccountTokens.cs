using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>What a mailed account token is for; the stored text of <c>account_tokens.purpose</c>, and part of what its MAC covers.</summary>
internal static class TokenPurpose
{
    public const string VerifyEmail = "verify-email";

    public const string PasswordReset = "password-reset";

    /// <summary>A new address for a signed-in account: the token's e-mail is the address it moves to.</summary>
    public const string ChangeEmail = "change-email";
}

/// <summary>A token issued and not yet mailed: what the mail queue keeps (never the token itself).</summary>
internal sealed record IssuedToken(string TokenId, DateTimeOffset ExpiresAt);

/// <summary>What consuming a token found: whose it was and the e-mail it was mailed to.</summary>
internal sealed record ConsumedToken(string UserId, string Email);

/// <summary>
/// Single-use, expiring tokens mailed to an account (e-mail verification, password reset). Invariants:
/// <list type="bullet">
/// <item>A token is <c>{id}.{mac}</c>: a random 96-bit id and HMAC-SHA256(mail key, purpose ‖ id). The database
/// keeps only its SHA-256 (<c>account_tokens.hash</c>), and the mail queue only its id: the token that a link carries
/// is derived from the id with the key when the message is sent, so no table holds a usable token and a database
/// reader cannot make one.</item>
/// <item>A token is for one purpose (the MAC covers it), one account and the e-mail it was sent to: a verification
/// link for an address the account no longer has verifies nothing.</item>
/// <item>Consumption is one conditional <c>UPDATE … RETURNING</c> (unused, unexpired, this purpose): of two uses of one
/// token exactly one wins, on both engines.</item>
/// </list>
/// </summary>
internal sealed class AccountTokens
{
    private const int MacBytes = 32;
    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public AccountTokens(IOptions<MailOptions> options, IOptions<ControlPlaneOptions> controlPlane, TimeProvider time)
    {
        _time = time;
        _key = Auth.KeyMaterial.LoadOrCreate(options.Value.SigningKey, MailOptions.Section + ":SigningKey",
            Path.Combine(Path.GetFullPath(controlPlane.Value.DataPath), "keys", "mail.key"));
    }

    /// <summary>The token whose id is <paramref name="tokenId"/>: what the link in the mail carries.</summary>
    public string Token(string purpose, string tokenId) => tokenId + "." + Base64Url.EncodeToString(Mac(purpose, tokenId));

    /// <summary>Whether <paramref name="token"/> has the shape and the MAC of one of ours for <paramref name="purpose"/>: garbage costs no query.</summary>
    public bool IsAuthentic(string purpose, string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return false;
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
        {
            return false;
        }

        Span<byte> given = stackalloc byte[MacBytes + 3];
        var macText = token.AsSpan(dot + 1);
        if (Base64Url.GetMaxDecodedLength(macText.Length) > given.Length
            || Base64Url.DecodeFromChars(macText, given, out var consumed, out var written) != System.Buffers.OperationStatus.Done
            || consumed != macText.Length || written != MacBytes)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given[..written], Mac(purpose, token[..dot]));
    }

    /// <summary>Issues a token for a known account, inside the caller's transaction.</summary>
    public async Task<IssuedToken> IssueInAsync(DbSession db, string purpose, string userId, string email, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        var now = _time.GetUtcNow();
        var issued = new IssuedToken(Ids.New(), now + lifetime);
        await db.ExecAsync(
            "INSERT INTO account_tokens (hash, purpose, user_id, email, created_at, expires_at) VALUES (@h, @p, @u, @e, @now, @exp)",
            [("h", Ids.HashSecret(Token(purpose, issued.TokenId))), ("p", purpose), ("u", userId), ("e", email), ("now", now), ("exp", issued.ExpiresAt)],
            cancellationToken).ConfigureAwait(false);
        return issued;
    }

    /// <summary>
    /// Issues a token for the live account with <paramref name="email"/>, if there is one, inside the caller's
    /// transaction: one statement that inserts nothing for an unknown address, so a caller that must not tell the two
    /// apart (password reset) runs the same statements either way.
    /// </summary>
    public async Task<IssuedToken> IssueForEmailInAsync(DbSession db, string purpose, string email, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        var now = _time.GetUtcNow();
        var issued = new IssuedToken(Ids.New(), now + lifetime);
        await db.ExecAsync(
            """
            INSERT INTO account_tokens (hash, purpose, user_id, email, created_at, expires_at)
            SELECT @h, @p, id, email, @now, @exp FROM users WHERE email = @e AND deleted_at IS NULL
            """,
            [("h", Ids.HashSecret(Token(purpose, issued.TokenId))), ("p", purpose), ("e", email), ("now", now), ("exp", issued.ExpiresAt)],
            cancellationToken).ConfigureAwait(false);
        return issued;
    }

    /// <summary>
    /// Uses up a token inside the caller's transaction: null when it is unknown, of another purpose, expired, already
    /// used, or its account is gone. The caller checks <see cref="IsAuthentic"/> first.
    /// </summary>
    public async Task<ConsumedToken?> ConsumeInAsync(DbSession db, string purpose, string token, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        var found = await db.QueryAsync(
            """
            UPDATE account_tokens SET used_at = @now
            WHERE hash = @h AND purpose = @p AND used_at IS NULL AND expires_at > @now
                AND EXISTS (SELECT 1 FROM users u WHERE u.id = account_tokens.user_id AND u.deleted_at IS NULL)
            RETURNING user_id, email
            """,
            [("h", Ids.HashSecret(token)), ("p", purpose), ("now", _time.GetUtcNow())],
            (r, _) => new ConsumedToken(r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        return found.Count == 1 ? found[0] : null;
    }

    /// <summary>Voids every unused token of the account for <paramref name="purpose"/> (a reset used, a password changed).</summary>
    public Task<int> VoidInAsync(DbSession db, string purpose, string userId, CancellationToken cancellationToken) =>
        db.ExecAsync("UPDATE account_tokens SET used_at = @now WHERE user_id = @u AND purpose = @p AND used_at IS NULL",
            [("now", _time.GetUtcNow()), ("u", userId), ("p", purpose)], cancellationToken);

    /// <summary>HMAC-SHA256 under the mail key of <paramref name="purpose"/> and <paramref name="value"/> (a purpose per use: one MAC never passes for another's).</summary>
    internal byte[] Mac(string purpose, string value) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(purpose + "\n" + value));

    private static void RequireTransaction(DbSession db)
    {
        if (!db.InTransaction)
        {
            throw new InvalidOperationException("An account token is written in the transaction of the change it belongs to (BeginAsync first).");
        }
    }
}
