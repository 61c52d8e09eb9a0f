using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Library;

/// <summary>
/// The signed-in viewer's library: <c>/api/v1/me/history</c> (positions, continue watching, pause, clear) and
/// <c>/api/v1/me/watch-later</c>. Saving needs a video the caller may watch (<see cref="VideoAccess"/>: 404 otherwise).
/// </summary>
internal static class LibraryEndpoints
{
    public static IEndpointRouteBuilder MapLibrary(this IEndpointRouteBuilder api)
    {
        var history = api.MapGroup("/me/history").WithTags("Library").RequireAuthorization(Policies.User);
        history.MapGet("", HistoryAsync).Produces<Page<HistoryEntry>>().ProducesValidationProblem();
        history.MapGet("/continue", ContinueAsync).Produces<Page<HistoryEntry>>().ProducesValidationProblem();
        history.MapDelete("", ClearAsync).Produces(StatusCodes.Status204NoContent);
        history.MapGet("/settings", GetSettingsAsync).Produces<HistorySettings>();
        history.MapPut("/settings", PutSettingsAsync).Produces<HistorySettings>().ProducesValidationProblem();
        history.MapPut("/{videoId}", RecordAsync).Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        history.MapDelete("/{videoId}", ForgetAsync).Produces(StatusCodes.Status204NoContent);

        var later = api.MapGroup("/me/watch-later").WithTags("Library").RequireAuthorization(Policies.User);
        later.MapGet("", WatchLaterAsync).Produces<Page<WatchLaterEntry>>().ProducesValidationProblem();
        later.MapPut("/{videoId}", SaveAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        later.MapDelete("/{videoId}", UnsaveAsync).Produces(StatusCodes.Status204NoContent);
        return api;
    }

    private static Task<IResult> HistoryAsync(HttpContext context, LibraryStore store, string? cursor, int? limit, CancellationToken cancellationToken) =>
        ListAsync(context, store, continueWatching: false, cursor, limit, cancellationToken);

    private static Task<IResult> ContinueAsync(HttpContext context, LibraryStore store, string? cursor, int? limit, CancellationToken cancellationToken) =>
        ListAsync(context, store, continueWatching: true, cursor, limit, cancellationToken);

    private static async Task<IResult> ListAsync(HttpContext context, LibraryStore store, bool continueWatching, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, continueWatching ? "continue" : "history", v);
        return v.IsValid
            ? TypedResults.Ok(await store.HistoryAsync(Caller.Require(context.User).Id, continueWatching, after, take, cancellationToken).ConfigureAwait(false))
            : v.Result();
    }

    /// <summary>204 whether or not it was recorded: while the history is paused nothing is (the settings say so).</summary>
    private static async Task<IResult> RecordAsync(string videoId, PositionRequest? request, HttpContext context, Database database, LibraryStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (PositionRequest.Validate(request, v) is not { } position)
        {
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await VideoAccess.LoadAsync(db, videoId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.RecordInAsync(db, caller.Id, videoId, position, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ForgetAsync(string videoId, HttpContext context, LibraryStore store, CancellationToken cancellationToken)
    {
        await store.RemoveFromHistoryAsync(Caller.Require(context.User).Id, videoId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ClearAsync(HttpContext context, LibraryStore store, CancellationToken cancellationToken)
    {
        await store.RemoveFromHistoryAsync(Caller.Require(context.User).Id, null, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> GetSettingsAsync(HttpContext context, LibraryStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.SettingsAsync(Caller.Require(context.User).Id, null, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> PutSettingsAsync(HistorySettingsRequest? request, HttpContext context, LibraryStore store, CancellationToken cancellationToken)
    {
        if (request?.Paused is not { } paused)
        {
            return new Validation().Add("paused", "is required").Result();
        }

        return TypedResults.Ok(await store.SettingsAsync(Caller.Require(context.User).Id, paused, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> WatchLaterAsync(HttpContext context, LibraryStore store, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, "watch-later", v);
        return v.IsValid
            ? TypedResults.Ok(await store.WatchLaterAsync(Caller.Require(context.User).Id, after, take, cancellationToken).ConfigureAwait(false))
            : v.Result();
    }

    /// <summary>Idempotent: saving a saved video keeps its first save time.</summary>
    private static async Task<IResult> SaveAsync(string videoId, HttpContext context, Database database, LibraryStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (_, problem) = await VideoAccess.LoadAsync(db, videoId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.AddToWatchLaterInAsync(db, caller.Id, videoId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> UnsaveAsync(string videoId, HttpContext context, LibraryStore store, CancellationToken cancellationToken)
    {
        await store.RemoveFromWatchLaterAsync(Caller.Require(context.User).Id, videoId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
