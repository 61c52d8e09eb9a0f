using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using StreamVerse.ControlPlane.Auth;

namespace StreamVerse.ControlPlane.Api;

/// <summary>
/// A refused policy says why: a signed-in user who may not create a channel reads that it needs the creator role,
/// instead of a bare 403. Everything else (the 401 challenge, success) is the default handler's.
/// </summary>
internal sealed class AuthorizationProblems : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden || context.Response.HasStarted)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        var roles = authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<ClaimsAuthorizationRequirement>()
            .Where(r => r.ClaimType == ClaimNames.Role && r.AllowedValues is not null)
            .SelectMany(r => r.AllowedValues!)
            .Distinct(StringComparer.Ordinal)
            .ToList() ?? [];
        var detail = roles.Count == 0
            ? "Your account may not do this."
            : $"This needs the {string.Join(" or ", roles)} role; your account's role is {context.User.FindFirst(ClaimNames.Role)?.Value ?? "none"}. " +
              "An admin assigns roles (PUT /api/v1/users/{id}/role).";
        return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail).ExecuteAsync(context);
    }
}
