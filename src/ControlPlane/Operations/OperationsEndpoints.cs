using StreamVerse.ControlPlane.Auth;

namespace StreamVerse.ControlPlane.Operations;

/// <summary><c>/api/v1/admin/config</c>: the configuration in force, where each value comes from, secrets redacted (admins).</summary>
internal static class OperationsEndpoints
{
    public static RouteGroupBuilder MapOperations(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/admin").WithTags("Operations");
        group.MapGet("/config", (IConfigurationView view) => TypedResults.Ok(view.Snapshot()))
            .RequireAuthorization(Policies.Admin)
            .Produces<ConfigurationSnapshot>().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        return group;
    }
}
