using System.Security.Claims;

namespace StreamVerse.ControlPlane.Auth;

internal static class Roles
{
    public const string User = "user";
    public const string Creator = "creator";

    /// <summary>Works the moderation queue (between user and admin); granted by an admin.</summary>
    public const string Moderator = "moderator";

    public const string Admin = "admin";

    public static bool IsValid(string? role) => role is User or Creator or Moderator or Admin;
}

/// <summary>Named authorization policies; every endpoint names one (or is explicitly anonymous).</summary>
internal static class Policies
{
    /// <summary>Any signed-in account.</summary>
    public const string User = "user";

    /// <summary>
    /// Creators and admins. Owning channels, videos and stream keys no longer needs it (every account may own channels,
    /// <c>Channels:MaxPerAccount</c>; writes are the owner's or an admin's); the creator role lifts that channel limit.
    /// </summary>
    public const string Creator = "creator";

    /// <summary>Moderators and admins: the moderation queue, actions and appeals.</summary>
    public const string Moderator = "moderator";

    public const string Admin = "admin";
}

internal static class ClaimNames
{
    public const string Subject = "sub";
    public const string Session = "sid";
    public const string Role = "role";
}

/// <summary>The caller as the access token describes it.</summary>
internal sealed record Caller(string Id, string Role, string SessionId)
{
    public bool IsAdmin => Role == Roles.Admin;

    public bool IsModerator => Role is Roles.Moderator or Roles.Admin;

    public static Caller? From(ClaimsPrincipal principal)
    {
        var id = principal.FindFirstValue(ClaimNames.Subject);
        var sid = principal.FindFirstValue(ClaimNames.Session);
        var role = principal.FindFirstValue(ClaimNames.Role);
        return id is null || sid is null || role is null ? null : new Caller(id, role, sid);
    }

    public static Caller Require(ClaimsPrincipal principal) =>
        From(principal) ?? throw new InvalidOperationException("endpoint reached without an authenticated caller");

    public bool OwnsOrAdmin(string ownerId) => IsAdmin || string.Equals(Id, ownerId, StringComparison.Ordinal);
}
