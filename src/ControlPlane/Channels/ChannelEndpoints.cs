using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Images;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane.Channels;

internal sealed record ChannelRequest(string? Name, string? Description);

/// <param name="LiveVideoId">The channel's public broadcast that is live now (a video id, its recording once it ends), or null.</param>
/// <param name="SubscriberCount">Accounts subscribed to the channel (exact: kept in the transaction of every subscribe and unsubscribe).</param>
/// <param name="CommentPolicy">The comment policy the channel's new videos start with (enabled, disabled, held); set with
/// <c>PUT /api/v1/channels/{id}/comment-policy</c>.</param>
/// <param name="AvatarUrl">The channel's avatar (a JPEG, at most 512x512), versioned: a new picture is a new URL; null without one.</param>
/// <param name="BannerUrl">The channel's banner (a JPEG, at most 2560x1440), versioned like the avatar; null without one.</param>
internal sealed record Channel(string Id, string OwnerId, string Name, string Description, DateTimeOffset CreatedAt, string? LiveVideoId, long SubscriberCount,
    string CommentPolicy = Comments.CommentPolicy.Enabled, string? AvatarUrl = null, string? BannerUrl = null)
{
    /// <summary>Columns of <c>FROM channels</c> (unaliased: the live-now subquery refers to it).</summary>
    public const string Columns =
        """
        id, owner_id, name, description, created_at,
        (SELECT v.id FROM videos v WHERE v.channel_id = channels.id AND v.status = 'live' AND v.visibility = 'public' ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS live_video_id,
        subscriber_count, comment_policy, avatar_key, banner_key
        """;

    public static Channel Read(System.Data.Common.DbDataReader r, Dialect d)
    {
        var id = r.GetString(0);
        return new(id, r.GetString(1), r.GetString(2), r.GetString(3), d.ReadTimestamp(r, 4), r.IsDBNull(5) ? null : r.GetString(5), r.GetInt64(6), r.GetString(7),
            r.IsDBNull(8) ? null : PicturePath(id, "avatar", r.GetString(8)), r.IsDBNull(9) ? null : PicturePath(id, "banner", r.GetString(9)));
    }

    public static string PicturePath(string id, string kind, string key) => $"/api/v1/channels/{id}/{kind}?v={ImageUploads.Version(key)}";
}

/// <summary><c>/api/v1/channels</c>: every account may own channels (within <see cref="ChannelOptions"/>); reading is public; changes are owner-or-admin.</summary>
internal static class ChannelEndpoints
{
    public static RouteGroupBuilder MapChannels(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/channels").WithTags("Channels");
        group.MapGet("", ListAsync).AllowAnonymous().Produces<Page<Channel>>().ProducesValidationProblem();
        group.MapGet("/{id}", GetAsync).AllowAnonymous().Produces<Channel>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.User).Produces<Channel>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPatch("/{id}", UpdateAsync).RequireAuthorization(Policies.User).Produces<Channel>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapChannelPictures(api.ServiceProvider);
        return group;
    }

    internal static Task<Channel?> FindAsync(DbSession db, string id, CancellationToken cancellationToken) =>
        db.SingleAsync($"SELECT {Channel.Columns} FROM channels WHERE id = @id", [("id", id)], Channel.Read, cancellationToken);

    /// <summary>Newest first, keyset-paged; <c>owner</c> narrows it to one account's channels.</summary>
    private const string ListSql =
        $"""
        SELECT {Channel.Columns} FROM channels
        WHERE (@o = '' OR owner_id = @o) AND (channels.created_at < @ck OR (channels.created_at = @ck AND channels.id < @cid))
        ORDER BY channels.created_at DESC, channels.id DESC LIMIT @take
        """;

    private const string ListSort = "channels";

    private static async Task<IResult> ListAsync(string? owner, string? cursor, int? limit, Database database, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var (at, after) = Paging.AfterNewest(cursor, ListSort, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(ListSql, [("o", owner ?? ""), ("ck", at), ("cid", after), ("take", take + 1)], Channel.Read, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(Paging.Cut(rows, take, ListSort, c => (Paging.Key(c.CreatedAt), c.Id), c => c));
    }

    private static async Task<IResult> GetAsync(string id, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channel = await FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        return channel is null ? Problems.NotFound("channel") : TypedResults.Ok(channel);
    }

    /// <summary>
    /// The insert that keeps a plain account within its limit: the count and the insert are one statement, and the
    /// owner's advisory lock (<see cref="DbSession.SerialiseAsync"/>) orders two creations of the same account under
    /// PostgreSQL's READ COMMITTED, where each would otherwise count without the other's row.
    /// </summary>
    private const string InsertWithinLimitSql =
        """
        INSERT INTO channels (id, owner_id, name, description, created_at)
        SELECT @id, @o, @n, @d, @t WHERE @max < 0 OR (SELECT COUNT(*) FROM channels WHERE owner_id = @o) < @max
        """;

    private static async Task<IResult> CreateAsync(ChannelRequest request, HttpContext context, Database database, TimeProvider time,
        IOptions<ChannelOptions> options, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        var name = v.Text("name", request.Name, 1, 100);
        var description = v.OptionalText("description", request.Description, 2000) ?? "";
        if (!v.IsValid)
        {
            return v.Result();
        }

        // Creators (assigned by an admin) and admins own as many as they like; -1 is "no limit" in the statement.
        var max = caller.Role is Roles.Creator or Roles.Admin ? -1 : options.Value.MaxPerAccount;
        var channel = new Channel(Ids.New(), caller.Id, name, description, time.GetUtcNow(), LiveVideoId: null, SubscriberCount: 0);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.SerialiseAsync(DbSession.LockKey("channels:" + caller.Id), cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync(InsertWithinLimitSql,
            [("id", channel.Id), ("o", channel.OwnerId), ("n", name), ("d", description), ("t", channel.CreatedAt), ("max", max)], cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return Problems.Conflict(max == 0
                ? "Only creators own channels here (StreamVerse:ControlPlane:Channels:MaxPerAccount is 0); an admin assigns the creator role."
                : $"An account owns at most {max} channels; delete one first, or ask an admin for the creator role, which has no limit.");
        }

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
        Storage.IBlobStorage storage, CancellationToken cancellationToken)
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
        await storage.DeletePrefixAsync(ChannelPictureEndpoints.ChannelPrefix(channel.OwnerId, id), CancellationToken.None).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
