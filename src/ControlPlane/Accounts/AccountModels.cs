namespace StreamVerse.ControlPlane.Accounts;

internal sealed record RegisterRequest(string? Email, string? Password, string? Handle, string? DisplayName);

internal sealed record RegisterResponse(string Status, string Detail);

internal sealed record LoginRequest(string? Email, string? Password);

internal sealed record RefreshRequest(string? RefreshToken);

/// <param name="EmailVerified">Whether the account has followed the link mailed to its e-mail (always false on a deployment without mail).</param>
internal sealed record ProfileResponse(string Id, string Email, string Handle, string DisplayName, string Bio, string? AvatarUrl, string Role, bool Premium, DateTimeOffset CreatedAt,
    bool EmailVerified);

internal sealed record PublicProfile(string Id, string Handle, string DisplayName, string Bio, string? AvatarUrl);

internal sealed record UpdateProfileRequest(string? DisplayName, string? Bio);

internal sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

internal sealed record DeleteAccountRequest(string? Password);

internal sealed record AvatarResponse(string AvatarUrl);

internal sealed record RoleRequest(string? Role);

internal sealed record PremiumRequest(bool? Premium);

internal sealed record UserRow(string Id, string Email, string Handle, string PasswordHash, string DisplayName, string Bio, string? AvatarKey, string Role, bool Premium, DateTimeOffset CreatedAt,
    DateTimeOffset? EmailVerifiedAt)
{
    public const string Columns = "id, email, handle, password_hash, display_name, bio, avatar_key, role, premium, created_at, email_verified_at";

    public static UserRow Read(System.Data.Common.DbDataReader r, Data.Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.GetBoolean(8), d.ReadTimestamp(r, 9), d.ReadNullableTimestamp(r, 10));

    public string? AvatarUrl => AvatarKey is null ? null : AvatarPath(Id, AvatarKey);

    public static string AvatarPath(string id, string key) => $"/api/v1/users/{id}/avatar?v={Images.ImageUploads.Version(key)}";

    public ProfileResponse ToProfile() => new(Id, Email, Handle, DisplayName, Bio, AvatarUrl, Role, Premium, CreatedAt, EmailVerifiedAt is not null);

    public PublicProfile ToPublic() => new(Id, Handle, DisplayName, Bio, AvatarUrl);
}

internal static class AccountRules
{
    /// <summary>
    /// The e-mail of a registration or login in its normal form (<see cref="EmailAddress"/>), or an error on
    /// <c>email</c>: the one check every endpoint that takes an e-mail runs before the address is looked up, counted
    /// or stored.
    /// </summary>
    public static string Email(Api.Validation v, string? email, string field = "email")
    {
        var normal = EmailAddress.Normalise(email, out var error);
        if (normal is null)
        {
            v.Add(field, error!);
        }

        return normal ?? "";
    }

    private const int MaxPasswordLength = 256;

    public static void Password(Api.Validation v, string field, string? password)
    {
        // NIST SP 800-63B §5.1.1.2: at least 8 characters, allow long passphrases.
        if (password is null || password.Length < 8)
        {
            v.Add(field, "must be at least 8 characters");
        }
        else if (password.Length > MaxPasswordLength)
        {
            v.Add(field, "must be at most 256 characters");
        }
    }

    /// <summary>
    /// A password to check against the stored one (login, re-authentication). No stored password is longer than
    /// <see cref="Password"/> allows, so a longer one is bad input, refused before it costs an Argon2id run or a
    /// place in the login windows.
    /// </summary>
    public static void PasswordToCheck(Api.Validation v, string field, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            v.Add(field, "is required");
        }
        else if (password.Length > MaxPasswordLength)
        {
            v.Add(field, "must be at most 256 characters");
        }
    }

    public static string Handle(Api.Validation v, string? handle)
    {
        var h = (handle ?? "").Trim().ToLowerInvariant();
        if (h.Length is < 3 or > 32 || h.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789_"))
        {
            v.Add("handle", "must be 3 to 32 characters: a-z, 0-9, _");
        }

        return h;
    }
}
