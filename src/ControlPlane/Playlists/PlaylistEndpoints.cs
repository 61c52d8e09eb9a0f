using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Playlists;

/// <summary>
/// <c>/api/v1/playlists</c> (create, read, change, delete, items: list, add, remove, move), <c>/api/v1/me/playlists</c>
/// and <c>/api/v1/channels/{id}/playlists</c> (the public playlists of the channel's owner). A private playlist does not
/// exist for anyone but its owner and admins (404); a visible one that the caller does not own answers 403 to changes.
/// </summary>
internal static class PlaylistEndpoints
{
    public static IEndpointRouteBuilder MapPlaylists(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/playlists").WithTags("Playlists");
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.User).Produces<PlaylistResponse>(StatusCodes.Status201Created).ProducesValidationProblem();
        group.MapGet("/{id}", GetAsync).AllowAnonymous().Produces<PlaylistResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id}", UpdateAsync).RequireAuthorization(Policies.User).Produces<PlaylistResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/items", ItemsAsync).AllowAnonymous().Produces<Page<PlaylistItem>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/items", AddAsync).RequireAuthorization(Policies.User).Produces<PlaylistResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id}/items/{videoId}", RemoveAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id}/items/{videoId}/position", MoveAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGroup("/me/playlists").WithTags("Playlists").RequireAuthorization(Policies.User)
            .MapGet("", MineAsync).Produces<Page<PlaylistResponse>>().ProducesValidationProblem();
        api.MapGroup("/channels/{id}/playlists").WithTags("Playlists").AllowAnonymous()
            .MapGet("", OfChannelAsync).Produces<Page<PlaylistResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>Load, hide, permission: the playlist, or the problem to answer (404 when the caller may not see it, 403 when they must manage it and do not).</summary>
    private static async Task<(PlaylistResponse? Playlist, IResult? Problem)> LoadAsync(PlaylistStore store, string id, Caller? caller, bool manage,
        CancellationToken cancellationToken)
    {
        var playlist = await store.FindAsync(id, caller?.Id ?? "", cancellationToken).ConfigureAwait(false);
        var manages = playlist is not null && caller is not null && caller.OwnsOrAdmin(playlist.OwnerId);
        if (playlist is null || (playlist.Visibility == PlaylistVisibility.Private && !manages))
        {
            return (null, Problems.NotFound("playlist"));
        }

        return manage && !manages ? (null, Problems.Forbidden("Only the playlist's owner or an admin may change it.")) : (playlist, null);
    }

    private static async Task<IResult> CreateAsync(CreatePlaylistRequest request, HttpContext context, PlaylistStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (PlaylistFields.Validate(request.Title, request.Description, request.Visibility, create: true, v) is not { } f)
        {
            return v.Result();
        }

        var playlist = await store.CreateAsync(Caller.Require(context.User).Id, f, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/playlists/{playlist.Id}", playlist);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, PlaylistStore store, CancellationToken cancellationToken)
    {
        var (playlist, problem) = await LoadAsync(store, id, Caller.From(context.User), manage: false, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(playlist);
    }

    private static async Task<IResult> UpdateAsync(string id, UpdatePlaylistRequest request, HttpContext context, PlaylistStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (PlaylistFields.Validate(request.Title, request.Description, request.Visibility, create: false, v) is not { } f)
        {
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        var (_, problem) = await LoadAsync(store, id, caller, manage: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var updated = await store.UpdateAsync(id, caller.Id, f, cancellationToken).ConfigureAwait(false);
        return updated is null ? Problems.NotFound("playlist") : TypedResults.Ok(updated);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, PlaylistStore store, CancellationToken cancellationToken)
    {
        var (_, problem) = await LoadAsync(store, id, Caller.Require(context.User), manage: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ItemsAsync(string id, HttpContext context, PlaylistStore store, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = PlaylistStore.AfterPosition(cursor, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var caller = Caller.From(context.User);
        var (_, problem) = await LoadAsync(store, id, caller, manage: false, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(await store.ItemsAsync(id, caller?.Id ?? "", after, take, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Appends a video the caller may watch; adding one already there changes nothing (200 either way); 409 when full.</summary>
    private static async Task<IResult> AddAsync(string id, AddPlaylistItemRequest request, HttpContext context, Database database, PlaylistStore store,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.VideoId))
        {
            return new Validation().Add("videoId", "is required").Result();
        }

        var caller = Caller.Require(context.User);
        var (_, problem) = await LoadAsync(store, id, caller, manage: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, hidden) = await VideoAccess.LoadAsync(db, request.VideoId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (hidden is not null)
        {
            return new Validation().Add("videoId", "no such video").Result();
        }

        if (await store.AddInAsync(db, id, request.VideoId, cancellationToken).ConfigureAwait(false) == PlaylistStore.AddOutcome.Full)
        {
            return Problems.Conflict($"The playlist is full ({PlaylistStore.MaxItems} items).");
        }

        return TypedResults.Ok(await store.FindAsync(id, caller.Id, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> RemoveAsync(string id, string videoId, HttpContext context, PlaylistStore store, CancellationToken cancellationToken)
    {
        var (_, problem) = await LoadAsync(store, id, Caller.Require(context.User), manage: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.RemoveAsync(id, videoId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> MoveAsync(string id, string videoId, MovePlaylistItemRequest? request, HttpContext context, PlaylistStore store,
        CancellationToken cancellationToken)
    {
        var (_, problem) = await LoadAsync(store, id, Caller.Require(context.User), manage: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        return await store.MoveAsync(id, videoId, request?.Before, cancellationToken).ConfigureAwait(false) switch
        {
            PlaylistStore.MoveOutcome.NoItem => Problems.NotFound("playlist item"),
            PlaylistStore.MoveOutcome.NoBefore => new Validation().Add("before", "is not a video of this playlist").Result(),
            _ => TypedResults.NoContent(),
        };
    }

    private static async Task<IResult> MineAsync(HttpContext context, PlaylistStore store, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, "my-playlists", v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var me = Caller.Require(context.User).Id;
        return TypedResults.Ok(await store.OwnedAsync(me, all: true, me, after, take, "my-playlists", cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> OfChannelAsync(string id, HttpContext context, Database database, PlaylistStore store, string? cursor, int? limit,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, "channel-playlists", v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        string? owner;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            owner = await db.ScalarAsync<string>("SELECT owner_id FROM channels WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        }

        if (owner is null)
        {
            return Problems.NotFound("channel");
        }

        var viewer = Caller.From(context.User)?.Id ?? "";
        return TypedResults.Ok(await store.OwnedAsync(owner, all: false, viewer, after, take, "channel-playlists", cancellationToken).ConfigureAwait(false));
    }
}
