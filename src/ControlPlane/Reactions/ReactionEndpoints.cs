using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;

namespace StreamVerse.ControlPlane.Reactions;

/// <summary>
/// <c>/api/v1/videos/{id}/reaction</c>: the caller's like or dislike (idempotent PUT and DELETE, and GET). Each
/// handler loads the video, hides it from who may not watch it (404; a premium video asks for a premium account: 403),
/// then applies the creator's policy (reactions disabled: 409 for setting one; clearing stays possible).
/// </summary>
internal static class ReactionEndpoints
{
    public static IEndpointRouteBuilder MapReactions(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/videos/{id}/reaction").WithTags("Reactions").RequireAuthorization(Policies.User);
        group.MapGet("", GetAsync).Produces<ReactionResponse>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("", SetAsync).Produces<ReactionResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("", ClearAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, ReactionStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var (target, refused) = await AuthorizeAsync(id, caller, store, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var state = await store.StateAsync(id, caller.Id, cancellationToken).ConfigureAwait(false);
        return state is null ? Problems.NotFound("video") : TypedResults.Ok(Response(state, target!, caller));
    }

    private static async Task<IResult> SetAsync(string id, ReactionRequest? request, HttpContext context, ReactionStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        if (SetReaction.Validate(request, v) is not { } command)
        {
            return v.Result();
        }

        var (target, refused) = await AuthorizeAsync(id, caller, store, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        if (!target!.ReactionsEnabled)
        {
            return Problems.Conflict("The creator has disabled reactions on this video.");
        }

        var state = await store.SetAsync(id, caller.Id, command.Kind, cancellationToken).ConfigureAwait(false);
        return state is null ? Problems.NotFound("video") : TypedResults.Ok(Response(state, target, caller));
    }

    /// <summary>204 whether or not there was a reaction to clear.</summary>
    private static async Task<IResult> ClearAsync(string id, HttpContext context, ReactionStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var (_, refused) = await AuthorizeAsync(id, caller, store, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await store.ClearAsync(id, caller.Id, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>Load, then hide: the video, or the answer for a caller who may not watch it.</summary>
    private static async Task<(ReactionTarget? Target, IResult? Refused)> AuthorizeAsync(string id, Caller caller, ReactionStore store, CancellationToken cancellationToken)
    {
        var target = await store.TargetAsync(id, cancellationToken).ConfigureAwait(false);
        if (target is null)
        {
            return (null, Problems.NotFound("video"));
        }

        var owns = caller.OwnsOrAdmin(target.OwnerId);
        var premium = !owns && target.Visibility == Videos.Visibility.Premium && await store.IsPremiumAsync(caller.Id, cancellationToken).ConfigureAwait(false);
        return ReactionStore.Decide(target, owns, premium) switch
        {
            ReactionAccess.Allowed => (target, null),
            ReactionAccess.NeedsPremium => (null, Problems.Forbidden("This video needs a premium account.")),
            _ => (null, Problems.NotFound("video")),
        };
    }

    private static ReactionResponse Response(ReactionState state, ReactionTarget target, Caller caller)
    {
        var all = caller.OwnsOrAdmin(target.OwnerId);
        return new ReactionResponse(state.Kind,
            all || target.ReactionsEnabled ? state.Likes : null,
            all || (target.ReactionsEnabled && !target.DislikesHidden) ? state.Dislikes : null,
            target.ReactionsEnabled);
    }
}
