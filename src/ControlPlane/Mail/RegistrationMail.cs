using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>What registration mails, all Auth knows of the mail feature.</summary>
internal sealed class RegistrationMail(MailQueue queue, AccountTokens tokens, MailThrottle throttle, IOptions<MailOptions> options)
{
    /// <summary>
    /// Inside the registration's transaction: a verification link for a new account (<paramref name="newUserId"/>), or,
    /// for an e-mail that is taken, a notice to its owner. Nothing without mail, or past the e-mail's
    /// <see cref="MailOptions.MessagesPerEmail"/> (the account can ask again later). True when something was queued.
    /// </summary>
    public async Task<bool> QueueInAsync(DbSession db, string? newUserId, string email, CancellationToken cancellationToken)
    {
        if (!queue.Enabled)
        {
            return false;
        }

        if (newUserId is not null)
        {
            if (throttle.TryAcquireEmail(TokenPurpose.VerifyEmail, email) is not null)
            {
                return false;
            }

            await AccountMailEndpoints.QueueVerificationInAsync(db, queue, tokens, options.Value, newUserId, email, cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (throttle.TryAcquireEmail(MailTemplate.AlreadyRegistered, email) is not null)
        {
            return false;
        }

        await queue.EnqueueForEmailInAsync(db, MailTemplate.AlreadyRegistered, email, new MailPayload(null, null), cancellationToken).ConfigureAwait(false);
        return true;
    }

    public void Wake() => queue.Wake();
}
