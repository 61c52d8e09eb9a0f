using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;

namespace StreamVerse.ControlPlane.Subscriptions;

/// <summary>
/// <c>/api/v1/channels/{id}/subscription</c> (the caller's own: idempotent PUT and DELETE, and GET),
/// <c>/api/v1/channels/{id}/subscribers</c> (the owner's list) and <c>/api/v1/me/subscriptions</c>.
/// </summary>
internal static class SubscriptionEndpoints
{
    public static IEndpointRouteBuilder MapSubscriptions(this IEndpointRouteBuilder api)
    {
        var channel = api.MapGroup("/channels/{id}").WithTags("Subscriptions").RequireAuthorization(Policies.User);
        channel.MapGet("/subscription", GetAsync).Produces<SubscriptionResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapPut("/subscription", SubscribeAsync).Produces<SubscriptionResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapDelete("/subscription", UnsubscribeAsync).Produces(StatusCodes.Status204NoContent);
        channel.MapGet("/subscribers", SubscribersAsync).Produces<Page<SubscriberResponse>>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGroup("/me/subscriptions").WithTags("Subscriptions").RequireAuthorization(Policies.User)
            .MapGet("", MineAsync).Produces<Page<SubscriptionResponse>>().ProducesValidationProblem();
        return api;
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, SubscriptionStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var subscription = await store.FindAsync(id, caller.Id, cancellationToken).ConfigureAwait(false);
        return subscription is null ? Problems.NotFound("subscription") : TypedResults.Ok(subscription);
    }

    private static async Task<IResult> SubscribeAsync(string id, SubscribeRequest? request, HttpContext context, SubscriptionStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        if (Subscribe.Validate(request, v) is not { } command)
        {
            return v.Result();
        }

        var subscription = await store.SubscribeAsync(id, caller.Id, command, cancellationToken).ConfigureAwait(false);
        return subscription is null ? Problems.NotFound("channel") : TypedResults.Ok(subscription);
    }

    /// <summary>204 whether or not there was a subscription (or a channel) left to remove.</summary>
    private static async Task<IResult> UnsubscribeAsync(string id, HttpContext context, SubscriptionStore store, CancellationToken cancellationToken)
    {
        await store.UnsubscribeAsync(id, Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> MineAsync(HttpContext context, SubscriptionStore store, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Keyset.Parse(cursor, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        return TypedResults.Ok(await store.MineAsync(Caller.Require(context.User).Id, after, take, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The channel's owner and admins only: a public channel is no secret (403, not 404), its audience is.</summary>
    private static async Task<IResult> SubscribersAsync(string id, HttpContext context, SubscriptionStore store, string? cursor, int? limit,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Keyset.Parse(cursor, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var owner = await store.ChannelOwnerAsync(id, cancellationToken).ConfigureAwait(false);
        if (owner is null)
        {
            return Problems.NotFound("channel");
        }

        if (!Caller.Require(context.User).OwnsOrAdmin(owner))
        {
            return Problems.Forbidden("Only the channel's owner or an admin may list its subscribers.");
        }

        return TypedResults.Ok(await store.SubscribersAsync(id, after, take, cancellationToken).ConfigureAwait(false));
    }
}
