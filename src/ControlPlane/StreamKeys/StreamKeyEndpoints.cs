using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Mail;

namespace StreamVerse.ControlPlane.StreamKeys;

/// <param name="PrivateTest">Whether every broadcast with this key starts private (a test the owner checks before "going public"
/// with <c>PATCH /videos/{id} {"visibility":"public"}</c>).</param>
internal sealed record StreamKeyInfo(string Id, string ChannelId, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? LiveVideoId,
    bool PrivateTest);

/// <param name="PrivateTest">A key for private test broadcasts: each starts private (owner and admins only); default false.</param>
internal sealed record CreateStreamKeyRequest(bool? PrivateTest);

/// <summary>The one response that carries the whole key: creation and rotation. It is not stored and cannot be shown again.</summary>
internal sealed record StreamKeyCreated(string Id, string ChannelId, string Prefix, string Key, DateTimeOffset CreatedAt, string? LiveVideoId, bool PrivateTest);

/// <summary>
/// <c>/api/v1/channels/{channelId}/stream-keys</c>: a channel owner's RTMP publish keys. A key is 256 random bits
/// prefixed <c>sv_</c>; the database keeps its SHA-256 and its first characters (to tell keys apart in a list).
/// </summary>
internal static class StreamKeyEndpoints
{
    public const string KeyPrefix = "sv_";
    private const int ShownPrefixLength = 8;

    public static RouteGroupBuilder MapStreamKeys(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/channels/{channelId}/stream-keys").WithTags("Stream keys").RequireAuthorization(Policies.User);
        group.MapGet("", ListAsync).Produces<Page<StreamKeyInfo>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", CreateAsync).RequireVerifiedEmail().Produces<StreamKeyCreated>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{keyId}/rotate", RotateAsync).Produces<StreamKeyCreated>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{keyId}", RevokeAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapLive(); // the channel's running publishes: health, and ending them
        return group;
    }

    private static StreamKeyInfo Read(System.Data.Common.DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), d.ReadTimestamp(r, 3), d.ReadNullableTimestamp(r, 4), r.IsDBNull(5) ? null : r.GetString(5), r.GetBoolean(6));

    private const string Columns = "id, channel_id, prefix, created_at, revoked_at, live_video_id, private_test";

    /// <summary>The channel if the caller may manage its keys, else the problem to answer.</summary>
    internal static async Task<(Channel? Channel, IResult? Problem)> AuthorizeAsync(DbSession db, string channelId, Caller caller, CancellationToken cancellationToken)
    {
        var channel = await ChannelEndpoints.FindAsync(db, channelId, cancellationToken).ConfigureAwait(false);
        if (channel is null)
        {
            return (null, Problems.NotFound("channel"));
        }

        return caller.OwnsOrAdmin(channel.OwnerId) ? (channel, null) : (null, Problems.Forbidden("Only the channel's owner or an admin may manage its stream keys."));
    }

    private const string ListSort = "stream-keys";

    /// <summary>Newest first, keyset-paged (revoked keys included: they say when they stopped working).</summary>
    private static async Task<IResult> ListAsync(string channelId, string? cursor, int? limit, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var (at, after) = Paging.AfterNewest(cursor, ListSort, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await AuthorizeAsync(db, channelId, Caller.Require(context.User), cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var rows = await db.QueryAsync(
            $"SELECT {Columns} FROM stream_keys WHERE channel_id = @c AND (created_at < @ck OR (created_at = @ck AND id < @cid)) ORDER BY created_at DESC, id DESC LIMIT @take",
            [("c", channelId), ("ck", at), ("cid", after), ("take", take + 1)], Read, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(Paging.Cut(rows, take, ListSort, k => (Paging.Key(k.CreatedAt), k.Id), k => k));
    }

    private static async Task<IResult> CreateAsync(string channelId, CreateStreamKeyRequest? request, HttpContext context, Database database, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var privateTest = request?.PrivateTest == true;
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await AuthorizeAsync(db, channelId, Caller.Require(context.User), cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var id = Ids.New();
        var key = KeyPrefix + Ids.Secret();
        var now = time.GetUtcNow();
        await db.ExecAsync("INSERT INTO stream_keys (id, channel_id, prefix, hash, created_at, private_test) VALUES (@id, @c, @p, @h, @now, @pt)",
            [("id", id), ("c", channelId), ("p", key[..ShownPrefixLength]), ("h", Ids.HashSecret(key)), ("now", now), ("pt", privateTest)], cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/channels/{channelId}/stream-keys/{id}", new StreamKeyCreated(id, channelId, key[..ShownPrefixLength], key, now, null, privateTest));
    }

    /// <summary>A new secret for the same key record: the live video (and so the playback URL) stays.</summary>
    private static async Task<IResult> RotateAsync(string channelId, string keyId, HttpContext context, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await AuthorizeAsync(db, channelId, Caller.Require(context.User), cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var key = KeyPrefix + Ids.Secret();
        var n = await db.ExecAsync("UPDATE stream_keys SET prefix = @p, hash = @h WHERE id = @id AND channel_id = @c AND revoked_at IS NULL",
            [("p", key[..ShownPrefixLength]), ("h", Ids.HashSecret(key)), ("id", keyId), ("c", channelId)], cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return Problems.NotFound("stream key");
        }

        var info = (await db.SingleAsync($"SELECT {Columns} FROM stream_keys WHERE id = @id", [("id", keyId)], Read, cancellationToken).ConfigureAwait(false))!;
        return TypedResults.Ok(new StreamKeyCreated(info.Id, channelId, info.Prefix, key, info.CreatedAt, info.LiveVideoId, info.PrivateTest));
    }

    public const string RevokedReason = "The stream key was revoked.";

    /// <summary>Revokes the key and ends a publish running with it (its encoder hears NetStream.Publish.Failed within a second).</summary>
    private static async Task<IResult> RevokeAsync(string channelId, string keyId, HttpContext context, Database database, TimeProvider time, ILivePublishers publishers,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await AuthorizeAsync(db, channelId, Caller.Require(context.User), cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var n = await db.ExecAsync("UPDATE stream_keys SET revoked_at = @now WHERE id = @id AND channel_id = @c AND revoked_at IS NULL",
            [("now", time.GetUtcNow()), ("id", keyId), ("c", channelId)], cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return Problems.NotFound("stream key");
        }

        // After the commit: a publish that starts meanwhile is refused by the key check, one running is ended here.
        publishers.Disconnect([keyId], RevokedReason);
        return TypedResults.NoContent();
    }
}
