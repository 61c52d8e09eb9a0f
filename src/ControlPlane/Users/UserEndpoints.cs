using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Images;

namespace StreamVerse.ControlPlane.Users;

/// <summary><c>/api/v1/users</c>: public profiles and avatars; admins assign roles and the premium flag, and sign accounts out.</summary>
internal static class UserEndpoints
{
    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/users").WithTags("Users").WithBodyLimit(BodyLimit.Account);
        group.MapGet("/{id}", GetAsync).AllowAnonymous().Produces<PublicProfile>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/avatar", AvatarAsync).AllowAnonymous().WithMetadata(new AcceptsQuery("v")).Produces(StatusCodes.Status200OK, contentType: "image/jpeg").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id}/role", SetRoleAsync).RequireAuthorization(Policies.Admin).Produces<ProfileResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id}/sessions", RevokeSessionsAsync).RequireAuthorization(Policies.Admin)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id}/premium", SetPremiumAsync).RequireAuthorization(Policies.Admin).Produces<ProfileResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> GetAsync(string id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return user is null ? Problems.NotFound("user") : TypedResults.Ok(user.ToPublic());
    }

    private static async Task<IResult> AvatarAsync(string id, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return await images.ServeAsync(context, user?.AvatarKey, context.Request.Query["v"], "avatar", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets an account's role. A change ends the account's sessions (its tokens carry the old role); demoting the
    /// last admin is a 409. See <see cref="RoleStore"/>.
    /// </summary>
    private static async Task<IResult> SetRoleAsync(string id, RoleRequest request, Database database, RoleStore roles, CancellationToken cancellationToken)
    {
        if (!Roles.IsValid(request.Role))
        {
            return new Validation().Add("role", "must be one of user, creator, moderator, admin").Result();
        }

        switch (await roles.SetAsync(id, request.Role!, cancellationToken).ConfigureAwait(false))
        {
            case RoleChange.NotFound:
                return Problems.NotFound("user");
            case RoleChange.LastAdmin:
                return Problems.Conflict("This is the last admin: make another account an admin first.");
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return user is null ? Problems.NotFound("user") : TypedResults.Ok(user.ToProfile());
    }

    /// <summary>Signs an account out everywhere: every session and refresh token ends, its access tokens stop working.</summary>
    private static async Task<IResult> RevokeSessionsAsync(string id, RoleStore roles, CancellationToken cancellationToken) =>
        await roles.RevokeSessionsAsync(id, cancellationToken).ConfigureAwait(false) ? TypedResults.NoContent() : Problems.NotFound("user");

    /// <summary>
    /// An admin's grant of Premium (<c>users.premium_granted</c>). The account's premium flag is the grant OR an entitling
    /// Premium subscription (<see cref="Payments.Entitlements"/>): taking the grant away from a paying subscriber leaves them
    /// premium. When the flag turns false, earlier playback tokens are withdrawn.
    /// </summary>
    private static async Task<IResult> SetPremiumAsync(string id, PremiumRequest request, Database database, Payments.Entitlements entitlements,
        CancellationToken cancellationToken)
    {
        if (request.Premium is null)
        {
            return new Validation().Add("premium", "is required").Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync("UPDATE users SET premium_granted = @p WHERE id = @id AND deleted_at IS NULL", [("p", request.Premium.Value), ("id", id)], cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            await entitlements.RecomputeInAsync(db, id, cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return n == 0 ? Problems.NotFound("user") : TypedResults.Ok((await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false))!.ToProfile());
    }
}
