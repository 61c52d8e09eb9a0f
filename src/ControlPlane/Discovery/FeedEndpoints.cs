using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Discovery;

/// <summary>
/// <c>/api/v1/feeds/*</c>: recent, live now, the caller's subscriptions, most liked and hot; each narrowed by
/// <c>category</c>, <c>tag</c> and <c>channel</c> (a channel page's videos and live are <c>?channel=</c>). Keyset pages of
/// <see cref="VideoCard"/>; only listed videos (<see cref="Listing.Listed"/>).
/// </summary>
internal static class FeedEndpoints
{
    public static IEndpointRouteBuilder MapFeeds(this IEndpointRouteBuilder api)
    {
        var feeds = api.MapGroup("/feeds").WithTags("Feeds");
        feeds.MapGet("/recent", RecentAsync).AllowAnonymous().Produces<Page<VideoCard>>().ProducesValidationProblem();
        feeds.MapGet("/live", LiveAsync).AllowAnonymous().Produces<Page<VideoCard>>().ProducesValidationProblem();
        feeds.MapGet("/most-liked", MostLikedAsync).AllowAnonymous().Produces<Page<VideoCard>>().ProducesValidationProblem();
        feeds.MapGet("/hot", HotAsync).AllowAnonymous().Produces<Page<VideoCard>>().ProducesValidationProblem();
        feeds.MapGet("/subscriptions", SubscriptionsAsync).RequireAuthorization(Policies.User).Produces<Page<VideoCard>>().ProducesValidationProblem();
        return api;
    }

    /// <summary>The filter from the query; an empty tag or channel is an error naming it.</summary>
    internal static FeedFilter Filter(long? category, string? tag, string? channel, Validation v)
    {
        string? normalised = null;
        if (tag is not null)
        {
            normalised = TagRules.Normalise(tag);
            if (normalised.Length is 0 or > TagRules.MaxLength)
            {
                v.Add("tag", $"must be 1 to {TagRules.MaxLength} characters");
            }
        }

        if (channel is not null && channel.Trim().Length == 0)
        {
            v.Add("channel", "must be a channel id");
        }

        return new FeedFilter(category, normalised, channel?.Trim());
    }

    private static Task<IResult> RecentAsync(FeedStore store, long? category, string? tag, string? channel, string? cursor, int? limit, CancellationToken cancellationToken) =>
        ByInstantAsync(store, "recent", live: false, subscriber: null, category, tag, channel, cursor, limit, cancellationToken);

    private static Task<IResult> LiveAsync(FeedStore store, long? category, string? tag, string? channel, string? cursor, int? limit, CancellationToken cancellationToken) =>
        ByInstantAsync(store, "live", live: true, subscriber: null, category, tag, channel, cursor, limit, cancellationToken);

    private static Task<IResult> SubscriptionsAsync(HttpContext context, FeedStore store, long? category, string? tag, string? channel, string? cursor, int? limit,
        CancellationToken cancellationToken) =>
        ByInstantAsync(store, "subscriptions", live: false, Caller.Require(context.User).Id, category, tag, channel, cursor, limit, cancellationToken);

    private static async Task<IResult> ByInstantAsync(FeedStore store, string sort, bool live, string? subscriber, long? category, string? tag, string? channel,
        string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var filter = Filter(category, tag, channel, v);
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, sort, v);
        return v.IsValid
            ? TypedResults.Ok(await store.RecentAsync(filter, live, subscriber, sort, after, take, cancellationToken).ConfigureAwait(false))
            : v.Result();
    }

    private static async Task<IResult> MostLikedAsync(FeedStore store, long? category, string? tag, string? channel, string? cursor, int? limit,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var filter = Filter(category, tag, channel, v);
        var take = Paging.Limit(limit, v);
        var after = FeedStore.AfterLong(cursor, "most-liked", v);
        return v.IsValid ? TypedResults.Ok(await store.MostLikedAsync(filter, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> HotAsync(FeedStore store, long? category, string? tag, string? channel, string? cursor, int? limit,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var filter = Filter(category, tag, channel, v);
        var take = Paging.Limit(limit, v);
        var after = FeedStore.AfterLong(cursor, "hot", v);
        return v.IsValid ? TypedResults.Ok(await store.HotAsync(filter, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }
}
