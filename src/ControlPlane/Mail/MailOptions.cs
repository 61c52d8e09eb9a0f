using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>How TLS is used on the SMTP connection (MailKit's <c>SecureSocketOptions</c>, without its "auto" guess).</summary>
internal enum SmtpSecurity
{
    /// <summary>Plain text and no STARTTLS: only for a relay on loopback or a trusted private network.</summary>
    None,

    /// <summary>STARTTLS required (RFC 3207): the connection fails rather than send in the clear. Port 587.</summary>
    StartTls,

    /// <summary>Implicit TLS from the first byte (RFC 8314 §3.3). Port 465.</summary>
    Tls,
}

/// <summary>
/// Config section <c>StreamVerse:ControlPlane:Mail</c>. No <see cref="Host"/> = no mail: the endpoints that need it
/// answer 503, registration works without verification, and nothing is queued.
/// </summary>
internal sealed class MailOptions
{
    public const string Section = "StreamVerse:ControlPlane:Mail";

    /// <summary>The SMTP server (submission relay). Empty: the mail feature is off.</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>SMTP AUTH user; empty = no authentication.</summary>
    public string? User { get; set; }

    /// <summary>SMTP AUTH password. Never logged, never in a problem.</summary>
    public string? Password { get; set; }

    /// <summary>The sender: <c>StreamVerse &lt;no-reply@example.com&gt;</c> or a bare address. Required with <see cref="Host"/>.</summary>
    public string? From { get; set; }

    /// <summary>
    /// The absolute URL of the web app that mails link to (<c>https://video.example.com</c>): links are
    /// <c>{PublicBaseUrl}/verify-email?token=…</c> and <c>{PublicBaseUrl}/reset-password?token=…</c>; the app posts
    /// the token to the API. Required with <see cref="Host"/>.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>A message is tried this many times before it is given up (its row keeps the last error).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Back-off after a failed attempt n: RetryBaseDelay × 2^(n-1), at most one hour.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the queue is read for messages written by other processes (this one's wake the sender at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A claimed message is another process's to retry after this long (the claimer died).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an e-mail verification link works.</summary>
    public TimeSpan VerificationTokenLifetime { get; set; } = TimeSpan.FromDays(2);

    /// <summary>How long a password-reset link works.</summary>
    public TimeSpan ResetTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Verification and reset mails per e-mail address per <see cref="ThrottleWindow"/> (each kind counted apart).</summary>
    public int MessagesPerEmail { get; set; } = 3;

    /// <summary>Reset and resend requests per client address (an IPv6 one by its /64) per <see cref="ThrottleWindow"/>.</summary>
    public int RequestsPerAddress { get; set; } = 30;

    public TimeSpan ThrottleWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// With mail on: an account whose e-mail is not verified may not publish (create videos, upload, create stream
    /// keys); it may sign in, watch, edit its profile and ask for a new link. Admins are exempt. Without mail nothing
    /// can be verified, so nothing is held back.
    /// </summary>
    public bool RequireVerifiedEmailToPublish { get; set; } = true;

    /// <summary>The key that signs mailed tokens (base64 of ≥ 32 bytes); empty = generated once into <c>keys/mail.key</c>.</summary>
    public string? SigningKey { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(1);

    public TimeSpan RetryDelay(int attempts) =>
        TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, RetryBaseDelay.Ticks * (1L << Math.Clamp(attempts - 1, 0, 20))));
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it. The password is never echoed.</summary>
internal sealed class MailOptionsValidator : IValidateOptions<MailOptions>
{
    public ValidateOptionsResult Validate(string? name, MailOptions o)
    {
        const string S = MailOptions.Section + ":";
        var errors = new List<string>();
        if (o.Port is < 1 or > 65535)
        {
            errors.Add(S + "Port must be between 1 and 65535");
        }

        if (!Enum.IsDefined(o.Security))
        {
            errors.Add(S + "Security must be None, StartTls or Tls");
        }

        if (o.Enabled)
        {
            if (string.IsNullOrWhiteSpace(o.From) || !MimeKit.MailboxAddress.TryParse(o.From, out _))
            {
                errors.Add(S + "From must be a mailbox (\"Name <address@domain>\" or address@domain) when Host is set");
            }

            if (!Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)
                || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
            {
                errors.Add(S + "PublicBaseUrl must be an absolute http(s) URL without query or fragment when Host is set");
            }

            if (!string.IsNullOrEmpty(o.User) && o.Password is null)
            {
                errors.Add(S + "Password is required when User is set");
            }
        }

        if (o.MaxAttempts is < 1 or > 100)
        {
            errors.Add(S + "MaxAttempts must be between 1 and 100");
        }

        if (o.RetryBaseDelay < TimeSpan.Zero || o.RetryBaseDelay > MailOptions.MaxRetryDelay)
        {
            errors.Add(S + "RetryBaseDelay must be between 00:00:00 and 01:00:00");
        }

        if (o.PollInterval < TimeSpan.FromMilliseconds(50) || o.PollInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add(S + "PollInterval must be between 00:00:00.05 and 00:10:00");
        }

        if (o.LeaseDuration < TimeSpan.FromSeconds(10) || o.LeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add(S + "LeaseDuration must be between 00:00:10 and 01:00:00");
        }

        if (o.VerificationTokenLifetime < TimeSpan.FromMinutes(5) || o.VerificationTokenLifetime > TimeSpan.FromDays(30))
        {
            errors.Add(S + "VerificationTokenLifetime must be between 00:05:00 and 30.00:00:00");
        }

        if (o.ResetTokenLifetime < TimeSpan.FromMinutes(5) || o.ResetTokenLifetime > TimeSpan.FromDays(1))
        {
            errors.Add(S + "ResetTokenLifetime must be between 00:05:00 and 1.00:00:00");
        }

        if (o.MessagesPerEmail is < 0 or > 1000)
        {
            errors.Add(S + "MessagesPerEmail must be between 0 (no limit) and 1000");
        }

        if (o.RequestsPerAddress is < 0 or > 1_000_000)
        {
            errors.Add(S + "RequestsPerAddress must be between 0 (no limit) and 1000000");
        }

        if (o.ThrottleWindow < TimeSpan.FromSeconds(1) || o.ThrottleWindow > TimeSpan.FromDays(7))
        {
            errors.Add(S + "ThrottleWindow must be between 00:00:01 and 7.00:00:00");
        }

        if (!string.IsNullOrEmpty(o.SigningKey) && !Auth.KeyMaterial.TryDecode(o.SigningKey, out _))
        {
            errors.Add(S + "SigningKey must be " + Auth.KeyMaterial.Format);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
