using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane.Channels;

internal sealed record ChannelRequest(string? Name, string? Description);

/// <param name="LiveVideoId">The channel's public broadcast that is live now (a video id, its recording once it ends), or null.</param>
/// <param name="SubscriberCount">Accounts subscribed to the channel (exact: kept in the transaction of every subscribe and unsubscribe).</param>
/// <param name="CommentPolicy">The comment policy the channel's new videos start with (enabled, disabled, held); set with
/// <c>PUT /api/v1/channels/{id}/comment-policy</c>.</param>
internal sealed record Channel(string Id, string OwnerId, string Name, string Description, DateTimeOffset CreatedAt, string? LiveVideoId, long SubscriberCount,
    string CommentPolicy = Comments.CommentPolicy.Enabled)
{
    /// <summary>Columns of <c>FROM channels</c> (unaliased: the live-now subquery refers to it).</summary>
    public const string Columns =
        """
        id, owner_id, name, description, created_at,
        (SELECT v.id FROM videos v WHERE v.channel_id = channels.id AND v.status = 'live' AND v.visibility = 'public' ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS live_video_id,
        subscriber_count, comment_policy
        """;

    public static Channel Read(System.Data.Common.DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), d.ReadTimestamp(r, 4), r.IsDBNull(5) ? null : r.GetString(5), r.GetInt64(6), r.GetString(7));
}

/// <summary><c>/api/v1/channels</c>: creators own channels; reading is public; changes are owner-or-admin.</summary>
internal static class ChannelEndpoints
{
    public static RouteGroupBuilder MapChannels(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/channels").WithTags("Channels");
        group.MapGet("", ListAsync).AllowAnonymous().Produces<List<Channel>>();
        group.MapGet("/{id}", GetAsync).AllowAnonymous().Produces<Channel>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.Creator).Produces<Channel>(StatusCodes.Status201Created).ProducesValidationProblem();
        group.MapPatch("/{id}", UpdateAsync).RequireAuthorization(Policies.Creator).Produces<Channel>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(Policies.Creator).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    internal static Task<Channel?> FindAsync(DbSession db, string id, CancellationToken cancellationToken) =>
        db.SingleAsync($"SELECT {Channel.Columns} FROM channels WHERE id = @id", [("id", id)], Channel.Read, cancellationToken);

    private static async Task<IResult> ListAsync(string? owner, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var where = owner is null ? "" : "WHERE owner_id = @o";
        var list = await db.QueryAsync(
            $"SELECT {Channel.Columns} FROM channels {where} ORDER BY channels.created_at DESC, channels.id DESC LIMIT 100",
            [("o", owner)], Channel.Read, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(list);
    }

    private static async Task<IResult> GetAsync(string id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channel = await FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return channel is null ? Problems.NotFound("channel") : TypedResults.Ok(channel);
    }

    private static async Task<IResult> CreateAsync(ChannelRequest request, HttpContext context, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        var name = v.Text("name", request.Name, 1, 100);
        var description = v.OptionalText("description", request.Description, 2000) ?? "";
        if (!v.IsValid)
        {
            return v.Result();
        }

        var channel = new Channel(Ids.New(), caller.Id, name, description, time.GetUtcNow(), LiveVideoId: null, SubscriberCount: 0);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("INSERT INTO channels (id, owner_id, name, description, created_at) VALUES (@id, @o, @n, @d, @t)",
            [("id", channel.Id), ("o", channel.OwnerId), ("n", name), ("d", description), ("t", channel.CreatedAt)], cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/channels/{channel.Id}", channel);
    }

    private static async Task<IResult> UpdateAsync(string id, ChannelRequest request, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        var name = request.Name is null ? null : v.Text("name", request.Name, 1, 100);
        var description = v.OptionalText("description", request.Description, 2000);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channel = await FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (channel is null)
        {
            return Problems.NotFound("channel");
        }

        if (!caller.OwnsOrAdmin(channel.OwnerId))
        {
            return Problems.Forbidden("Only the channel's owner or an admin may change it.");
        }

        await db.ExecAsync("UPDATE channels SET name = COALESCE(@n, name), description = COALESCE(@d, description) WHERE id = @id",
            [("n", name), ("d", description), ("id", id)], cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok((await FindAsync(db, id, cancellationToken).ConfigureAwait(false))!);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, Database database, ProtectedVideos protectedVideos, Videos.VideoMedia media,
        CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channel = await FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (channel is null)
        {
            return Problems.NotFound("channel");
        }

        if (!caller.OwnsOrAdmin(channel.OwnerId))
        {
            return Problems.Forbidden("Only the channel's owner or an admin may delete it.");
        }

        // Its videos go by cascade: remembered as deleted first, so their live recordings stop playing with them; their
        // transcodes are stopped before and their stored media removed after.
        var removal = await media.PrepareChannelAsync(db, id, cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var videos = await protectedVideos.RecordDeletedAsync(db, "channel_id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM channels WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var video in videos)
        {
            protectedVideos.Deleted(video);
        }

        await media.RemoveAsync(removal).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
