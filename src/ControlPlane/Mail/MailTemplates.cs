using System.Globalization;
using System.Net;
using MimeKit;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>The stored names of queued messages' templates (<c>mail_queue.template</c>).</summary>
internal static class MailTemplate
{
    public const string VerifyEmail = "verify-email";

    public const string PasswordReset = "password-reset";

    /// <summary>Someone tried to register the address again: its owner hears of it (registration itself says nothing).</summary>
    public const string AlreadyRegistered = "already-registered";

    /// <summary>A notification or a digest of them (its text is in the payload); carries the kind's unsubscribe link.</summary>
    public const string Notification = "notification";

    /// <summary>To the address an account asked to move to: the link that makes the change.</summary>
    public const string ChangeEmail = "change-email";

    /// <summary>To the address an account is leaving: a change was asked for (the new address is in the payload's lines).</summary>
    public const string EmailChangeRequested = "email-change-requested";
}

/// <summary>
/// Renders a queued message when it is sent: plain text and HTML alternatives (RFC 2046 §5.1.4), with links under
/// <see cref="MailOptions.PublicBaseUrl"/>. The tokens are derived here from their ids (<see cref="AccountTokens"/>);
/// every value put into HTML is encoded.
/// </summary>
internal sealed class MailTemplates(AccountTokens tokens, Unsubscribes unsubscribes, Microsoft.Extensions.Options.IOptions<MailOptions> options)
{
    public MimeMessage Render(QueuedMail mail)
    {
        var (subject, lines, link, linkText) = mail.Template switch
        {
            MailTemplate.VerifyEmail => ("Confirm your e-mail address",
                new[] { "Confirm that this address is yours to finish setting up your StreamVerse account.", Expires(mail.Payload) },
                Link("verify-email", TokenPurpose.VerifyEmail, mail.Payload), "Confirm my e-mail address"),
            MailTemplate.PasswordReset => ("Reset your password",
                new[] { "Someone (we hope you) asked to reset the password of the StreamVerse account with this address.",
                    "If it was not you, ignore this message: your password stays as it is.", Expires(mail.Payload) },
                Link("reset-password", TokenPurpose.PasswordReset, mail.Payload), "Choose a new password"),
            MailTemplate.AlreadyRegistered => ("Your StreamVerse account",
                new[] { "Someone tried to register a StreamVerse account with this address, which already has one.",
                    "If it was you, sign in instead, or reset your password if you have forgotten it. Otherwise, ignore this message." },
                Base() + "/reset-password", "Reset my password"),
            MailTemplate.ChangeEmail => ("Confirm your new e-mail address",
                new[] { "Your StreamVerse account asked to use this address from now on. Follow the link to make the change; until then the account keeps its previous address.",
                    "If you did not ask for this, ignore this message.", Expires(mail.Payload) },
                Link("verify-email", TokenPurpose.ChangeEmail, mail.Payload), "Use this e-mail address"),
            MailTemplate.EmailChangeRequested => ("Your StreamVerse e-mail address is about to change",
                (mail.Payload.Lines ?? []).Concat(new[] { "The address changes only when the link mailed to the new one is followed.",
                    "If it was not you, change your password and sign out your other sessions now." }).ToArray(),
                Base() + "/account", "Open my account"),
            MailTemplate.Notification => (mail.Payload.Subject ?? "StreamVerse", mail.Payload.Lines ?? [], Base() + (mail.Payload.Path ?? "/"), "Open StreamVerse"),
            _ => throw new InvalidOperationException("unknown mail template " + mail.Template),
        };
        string? unsubscribe = mail.Template == MailTemplate.Notification && mail.Payload is { UserId: { } user, Kind: { } kind } ? unsubscribes.Url(user, kind) : null;

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.Value.From!));
        message.To.Add(MailboxAddress.Parse(mail.Recipient));
        message.Subject = subject;
        const string StopText = "Stop these e-mails";
        var body = new BodyBuilder
        {
            TextBody = string.Join("\n\n", lines.Where(l => l.Length > 0)) + "\n\n" + linkText + ":\n" + link + "\n"
                + (unsubscribe is null ? "" : "\n" + StopText + ":\n" + unsubscribe + "\n"),
            HtmlBody = "<!DOCTYPE html><html><body>"
                + string.Concat(lines.Where(l => l.Length > 0).Select(l => "<p>" + WebUtility.HtmlEncode(l) + "</p>"))
                + "<p><a href=\"" + WebUtility.HtmlEncode(link) + "\">" + WebUtility.HtmlEncode(linkText) + "</a></p>"
                + (unsubscribe is null ? "" : "<p><a href=\"" + WebUtility.HtmlEncode(unsubscribe) + "\">" + StopText + "</a></p>")
                + "</body></html>",
        };
        if (unsubscribe is not null)
        {
            // RFC 2369 / RFC 8058: the mail client's own "unsubscribe" posts the link's query to the API, no sign-in needed.
            message.Headers.Add("List-Unsubscribe", "<" + Base() + "/api/v1/mail/unsubscribe" + unsubscribe[unsubscribe.IndexOf('?', StringComparison.Ordinal)..] + ">");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }

        message.Body = body.ToMessageBody();
        return message;
    }

    private string Base() => options.Value.PublicBaseUrl!.TrimEnd('/');

    private string Link(string page, string purpose, MailPayload payload) =>
        Base() + "/" + page + "?token=" + Uri.EscapeDataString(tokens.Token(purpose, payload.TokenId ?? throw new InvalidOperationException("the message has no token")));

    private static string Expires(MailPayload payload) => payload.ExpiresAt is { } at
        ? "The link works until " + at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC, once."
        : "";
}
