using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.StreamKeys;

/// <summary>
/// <c>/api/v1/channels/{channelId}/live</c>: the owner's (or an admin's) view of and control over the channel's running
/// publishes. Ending a broadcast disconnects its publishers within a second; an encoder that reconnects with a key that
/// is still valid starts a new broadcast (revoke the key to stop it for good).
/// </summary>
internal static class LiveEndpoints
{
    public const string EndedReason = "The broadcast was ended by the channel.";

    private const string ChannelKeys = "SELECT id FROM stream_keys WHERE channel_id = @c";

    public static RouteGroupBuilder MapLive(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/channels/{channelId}/live").WithTags("Live").RequireAuthorization(Policies.User);
        group.MapGet("/health", HealthAsync).Produces<LiveHealthResponse>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/end", EndAsync).Produces<LiveEndResponse>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> HealthAsync(string channelId, HttpContext context, Database database, ILiveHealth health, CancellationToken cancellationToken)
    {
        var (keys, problem) = await KeysAsync(channelId, context, database, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(new LiveHealthResponse(channelId, health.Of(keys!)));
    }

    private static async Task<IResult> EndAsync(string channelId, HttpContext context, Database database, ILivePublishers publishers, CancellationToken cancellationToken)
    {
        var (keys, problem) = await KeysAsync(channelId, context, database, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(new LiveEndResponse(publishers.Disconnect(keys!, EndedReason)));
    }

    /// <summary>Every key of the channel (revoked ones too: a publish may still be ending) if the caller manages it.</summary>
    private static async Task<(List<string>? Keys, IResult? Problem)> KeysAsync(string channelId, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await StreamKeyEndpoints.AuthorizeAsync(db, channelId, Caller.Require(context.User), cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, problem);
        }

        return (await db.QueryAsync(ChannelKeys, [("c", channelId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false), null);
    }
}
