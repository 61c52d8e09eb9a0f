using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Images;

namespace StreamVerse.ControlPlane.Channels;

/// <summary>
/// <c>/api/v1/channels/{id}/avatar</c> and <c>/banner</c>: uploaded by the channel's owner (or an admin) through the same
/// path as account avatars (<see cref="ImageUploads"/>: byte cap, magic bytes, decoded and re-encoded as a JPEG by
/// MediaCore), served to anyone with cache headers, deleted with the channel and with its owner's account. Blob keys
/// are <c>channel-images/{owner}/{channel}/{kind}-{version}</c>, so one prefix removes a channel's or an account's.
/// </summary>
internal static class ChannelPictureEndpoints
{
    private sealed record Picture(string Kind, string SelectSql, string UpdateSql, Func<ImageUploads, IOptions<ControlPlaneOptions>, int> MaxBytes,
        Func<ImageOptions, ImageBox> Box);

    private static readonly Picture Avatar = new("avatar", "SELECT avatar_key FROM channels WHERE id = @id", "UPDATE channels SET avatar_key = @k WHERE id = @id",
        (_, cp) => cp.Value.AvatarMaxBytes, o => o.Avatar);

    private static readonly Picture Banner = new("banner", "SELECT banner_key FROM channels WHERE id = @id", "UPDATE channels SET banner_key = @k WHERE id = @id",
        (images, _) => images.Options.BannerMaxBytes, o => o.Banner);

    public static void MapChannelPictures(this RouteGroupBuilder group, IServiceProvider services)
    {
        var avatarMax = services.GetRequiredService<IOptions<ControlPlaneOptions>>().Value.AvatarMaxBytes;
        var bannerMax = services.GetRequiredService<IOptions<ImageOptions>>().Value.BannerMaxBytes;
        group.MapGet("/{id}/avatar", GetAvatarAsync).AllowAnonymous().Produces(StatusCodes.Status200OK, contentType: ImageUploads.JpegType).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/banner", GetBannerAsync).AllowAnonymous().Produces(StatusCodes.Status200OK, contentType: ImageUploads.JpegType).ProducesProblem(StatusCodes.Status404NotFound);
        Upload(group.MapPut("/{id}/avatar", PutAvatarAsync).WithBodyLimit(avatarMax + 1L));
        Upload(group.MapPut("/{id}/banner", PutBannerAsync).WithBodyLimit(bannerMax + 1L));
        group.MapDelete("/{id}/avatar", DeleteAvatarAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}/banner", DeleteBannerAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);

        static void Upload(RouteHandlerBuilder put) => put.RequireAuthorization(Policies.User).Accepts<byte[]>("image/png", "image/jpeg", "image/webp")
            .Produces<Channel>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }

    /// <summary>The key prefix (a folder: <c>DeletePrefixAsync</c> takes no trailing '/') of every picture of the account's channels.</summary>
    public static string OwnerPrefix(string ownerId) => $"channel-images/{ownerId}";

    public static string ChannelPrefix(string ownerId, string channelId) => $"{OwnerPrefix(ownerId)}/{channelId}";

    private static Task<IResult> GetAvatarAsync(string id, string? v, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken) =>
        GetAsync(Avatar, id, v, context, database, images, cancellationToken);

    private static Task<IResult> GetBannerAsync(string id, string? v, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken) =>
        GetAsync(Banner, id, v, context, database, images, cancellationToken);

    private static Task<IResult> PutAvatarAsync(string id, HttpContext context, Database database, ImageUploads images, IOptions<ControlPlaneOptions> options,
        CancellationToken cancellationToken) => PutAsync(Avatar, id, context, database, images, options, cancellationToken);

    private static Task<IResult> PutBannerAsync(string id, HttpContext context, Database database, ImageUploads images, IOptions<ControlPlaneOptions> options,
        CancellationToken cancellationToken) => PutAsync(Banner, id, context, database, images, options, cancellationToken);

    private static Task<IResult> DeleteAvatarAsync(string id, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken) =>
        DeleteAsync(Avatar, id, context, database, images, cancellationToken);

    private static Task<IResult> DeleteBannerAsync(string id, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken) =>
        DeleteAsync(Banner, id, context, database, images, cancellationToken);

    private static async Task<IResult> GetAsync(Picture picture, string id, string? v, HttpContext context, Database database, ImageUploads images,
        CancellationToken cancellationToken)
    {
        string? key;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            key = await db.ScalarAsync<string>(picture.SelectSql, [("id", id)], cancellationToken).ConfigureAwait(false);
        }

        return await images.ServeAsync(context, key, v, "channel " + picture.Kind, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IResult> PutAsync(Picture picture, string id, HttpContext context, Database database, ImageUploads images,
        IOptions<ControlPlaneOptions> options, CancellationToken cancellationToken)
    {
        var (channel, refused) = await AuthorizeAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            // Not read: the answer closes the connection, as a too-large body does.
            context.Response.Headers.Connection = "close";
            return refused;
        }

        var (jpeg, problem) = await images.ReadAsync(context, "channel " + picture.Kind, picture.MaxBytes(images, options), picture.Box(images.Options), cancellationToken)
            .ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (found, _) = await images.ReplaceAsync($"{ChannelPrefix(channel!.OwnerId, id)}/{picture.Kind}", jpeg, $"channel-{picture.Kind}:{id}",
            picture.SelectSql, picture.UpdateSql, [("id", id)], cancellationToken).ConfigureAwait(false);
        if (!found)
        {
            return Problems.NotFound("channel");
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ChannelEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false) is { } updated ? TypedResults.Ok(updated) : Problems.NotFound("channel");
    }

    private static async Task<IResult> DeleteAsync(Picture picture, string id, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken)
    {
        var (_, refused) = await AuthorizeAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await images.ReplaceAsync("unused", null, $"channel-{picture.Kind}:{id}", picture.SelectSql, picture.UpdateSql, [("id", id)], cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<(Channel? Channel, IResult? Problem)> AuthorizeAsync(string id, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var channel = await ChannelEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (channel is null)
        {
            return (null, Problems.NotFound("channel"));
        }

        return Caller.Require(context.User).OwnsOrAdmin(channel.OwnerId)
            ? (channel, null)
            : (null, Problems.Forbidden("Only the channel's owner or an admin may change its pictures."));
    }
}
