using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Users;

/// <summary><c>/api/v1/users</c>: public profiles and avatars; admins assign roles and the premium flag.</summary>
internal static class UserEndpoints
{
    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/users").WithTags("Users");
        group.MapGet("/{id}", GetAsync).AllowAnonymous().Produces<PublicProfile>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/avatar", AvatarAsync).AllowAnonymous().Produces(StatusCodes.Status200OK, contentType: "image/png").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id}/role", SetRoleAsync).RequireAuthorization(Policies.Admin).Produces<ProfileResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id}/premium", SetPremiumAsync).RequireAuthorization(Policies.Admin).Produces<ProfileResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> GetAsync(string id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return user is null ? Problems.NotFound("user") : TypedResults.Ok(user.ToPublic());
    }

    private static async Task<IResult> AvatarAsync(string id, HttpContext context, Database database, IBlobStorage storage, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var user = await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (user?.AvatarKey is null || await storage.GetAsync(user.AvatarKey, cancellationToken).ConfigureAwait(false) is not { } blob)
        {
            return Problems.NotFound("avatar");
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Stream(blob.Content, blob.ContentType);
    }

    private static async Task<IResult> SetRoleAsync(string id, RoleRequest request, Database database, CancellationToken cancellationToken)
    {
        if (!Roles.IsValid(request.Role))
        {
            return new Validation().Add("role", "must be one of user, creator, admin").Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync("UPDATE users SET role = @r WHERE id = @id AND deleted_at IS NULL", [("r", request.Role), ("id", id)], cancellationToken).ConfigureAwait(false);

        // The new role reaches the user's access tokens at their next refresh (at most one token lifetime).
        return n == 0 ? Problems.NotFound("user") : TypedResults.Ok((await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false))!.ToProfile());
    }

    private static async Task<IResult> SetPremiumAsync(string id, PremiumRequest request, Database database, PlaybackRevocations playbackRevocations,
        CancellationToken cancellationToken)
    {
        if (request.Premium is null)
        {
            return new Validation().Add("premium", "is required").Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync("UPDATE users SET premium = @p WHERE id = @id AND deleted_at IS NULL", [("p", request.Premium.Value), ("id", id)], cancellationToken).ConfigureAwait(false);
        if (n > 0 && !request.Premium.Value)
        {
            // Tokens carry the premium flag (premium videos, the bandwidth tier) for their lifetime: withdraw the earlier ones.
            await playbackRevocations.VoidViewerInAsync(db, id, cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return n == 0 ? Problems.NotFound("user") : TypedResults.Ok((await MeEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false))!.ToProfile());
    }
}
