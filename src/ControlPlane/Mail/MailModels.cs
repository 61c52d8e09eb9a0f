namespace StreamVerse.ControlPlane.Mail;

internal sealed record VerifyEmailRequest(string? Token);

internal sealed record PasswordResetRequest(string? Email);

internal sealed record PasswordResetConfirmRequest(string? Token, string? NewPassword);

/// <param name="Status">Always <c>accepted</c>: the answer is the same whether or not a message was sent.</param>
/// <param name="Detail">What happens next, in words.</param>
internal sealed record MailAccepted(string Status, string Detail);

/// <param name="NewEmail">The address to move to; it becomes the account's when the link mailed to it is followed.</param>
/// <param name="Password">The account's current password (re-authentication, throttled like a login).</param>
internal sealed record ChangeEmailRequest(string? NewEmail, string? Password);
