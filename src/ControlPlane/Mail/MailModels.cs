namespace StreamVerse.ControlPlane.Mail;

internal sealed record VerifyEmailRequest(string? Token);

internal sealed record PasswordResetRequest(string? Email);

internal sealed record PasswordResetConfirmRequest(string? Token, string? NewPassword);

/// <param name="Status">Always <c>accepted</c>: the answer is the same whether or not a message was sent.</param>
/// <param name="Detail">What happens next, in words.</param>
internal sealed record MailAccepted(string Status, string Detail);
