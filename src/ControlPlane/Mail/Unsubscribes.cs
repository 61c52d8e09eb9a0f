using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>
/// Unsubscribe links for the notification mails to come (issue 18: one per kind, working without signing in). A link
/// names the account and the kind of mail and carries HMAC-SHA256 under the mail key of both (purpose
/// <c>unsubscribe</c>, so no other token of ours passes for one): it cannot be forged for another account or kind,
/// and it does not expire (an old mail's link must still work). Following it records <c>(user, kind)</c> in
/// <c>mail_unsubscribes</c>; a sender of that kind asks <see cref="IsUnsubscribedAsync"/> before queueing.
/// Verification and reset mails have no such link: they are answers to the account's own requests.
/// </summary>
internal sealed class Unsubscribes(AccountTokens tokens, IOptions<MailOptions> options)
{
    private const string Purpose = "unsubscribe";

    /// <summary>A kind is a short stable name: lower-case letters, digits, '-' and '.' (e.g. <c>comment-reply</c>).</summary>
    public static bool IsKind(string? kind) =>
        kind is { Length: >= 1 and <= 40 } && !kind.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789-.");

    public string Signature(string userId, string kind) => Base64Url.EncodeToString(tokens.Mac(Purpose, userId + "\n" + kind));

    /// <summary>The web app's page for the link, which posts its query to <c>POST /api/v1/mail/unsubscribe</c>.</summary>
    public string Url(string userId, string kind) =>
        options.Value.PublicBaseUrl!.TrimEnd('/') + "/unsubscribe?user=" + Uri.EscapeDataString(userId) + "&kind=" + Uri.EscapeDataString(kind)
        + "&sig=" + Signature(userId, kind);

    public bool Verify(string userId, string kind, string? signature)
    {
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes + 3];
        return signature is { Length: > 0 and <= 64 }
            && Base64Url.DecodeFromChars(signature, given, out var consumed, out var written) == System.Buffers.OperationStatus.Done
            && consumed == signature.Length && written == SHA256.HashSizeInBytes
            && CryptographicOperations.FixedTimeEquals(given[..written], tokens.Mac(Purpose, userId + "\n" + kind));
    }

    public static async Task<bool> IsUnsubscribedAsync(DbSession db, string userId, string kind, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>("SELECT 1 FROM mail_unsubscribes WHERE user_id = @u AND kind = @k", [("u", userId), ("k", kind)], cancellationToken)
            .ConfigureAwait(false) is not null;

    public static RouteGroupBuilder MapUnsubscribe(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/mail").WithTags("Mail");
        group.MapPost("/unsubscribe", UnsubscribeAsync).AllowAnonymous()
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem();
        return group;
    }

    /// <summary>
    /// The query is the link's (so a mail client's one-click POST to the same URL, RFC 8058, needs no body). Idempotent:
    /// <c>204</c> whether or not it was recorded before, and for an account deleted since (nothing is left to mail).
    /// </summary>
    private static async Task<IResult> UnsubscribeAsync(string? user, string? kind, string? sig, Database database, Unsubscribes unsubscribes, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (string.IsNullOrEmpty(user) || user.Length > 32)
        {
            v.Add("user", "is required (at most 32 characters)");
        }

        if (!IsKind(kind))
        {
            v.Add("kind", "must be 1 to 40 characters: a-z, 0-9, '-', '.'");
        }

        if (v.IsValid && !unsubscribes.Verify(user!, kind!, sig))
        {
            v.Add("sig", "does not match this account and kind");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            INSERT INTO mail_unsubscribes (user_id, kind, created_at)
            SELECT id, @k, @now FROM users WHERE id = @u AND deleted_at IS NULL
            ON CONFLICT DO NOTHING
            """,
            [("u", user), ("k", kind), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
