using System.Buffers;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Captions;

/// <summary>
/// <c>PUT</c>/<c>DELETE /api/v1/videos/{id}/captions/{language}</c>: the owner (or an admin) sets a video's caption track
/// for a language from a WebVTT or SubRip file (stored as WebVTT), or removes it. Viewers read captions through the video
/// resource (<c>captions</c>) and the presentation's manifests, with the video's own access rules.
/// </summary>
internal static partial class CaptionEndpoints
{
    public static RouteGroupBuilder MapCaptions(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/videos/{id}/captions").WithTags("Captions");
        // The group's body cap is the caption cap plus one byte, which the handler reads to tell "too large".
        var max = api.ServiceProvider.GetRequiredService<IOptions<CaptionOptions>>().Value.MaxBytes;
        group.MapPut("/{language}", PutAsync).RequireAuthorization(Policies.Creator).WithBodyLimit(max + 1L)
            .Accepts<byte[]>("text/vtt", "application/x-subrip", "text/plain")
            .Produces<CaptionInfo>().Produces<CaptionInfo>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapDelete("/{language}", DeleteAsync).RequireAuthorization(Policies.Creator)
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private sealed record Target(string OwnerId, string Visibility, string? VodPrefix);

    private static Task<Target?> FindVideoAsync(DbSession db, string id, CancellationToken cancellationToken) =>
        db.SingleAsync("SELECT c.owner_id, v.visibility, v.vod_prefix FROM videos v JOIN channels c ON c.id = v.channel_id WHERE v.id = @id",
            [("id", id)], (r, _) => new Target(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)), cancellationToken);

    /// <summary>Someone else's private video is not there (404); another creator's visible one is theirs to change (403).</summary>
    private static IResult? Refuse(Target? video, Caller caller) =>
        video is null ? Problems.NotFound("video")
        : caller.OwnsOrAdmin(video.OwnerId) ? null
        : video.Visibility == Visibility.Private ? Problems.NotFound("video")
        : Problems.Forbidden("Only the video's owner or an admin may change its captions.");

    private static async Task<IResult> PutAsync(string id, string language, string? label, HttpContext context, Database database, IBlobStorage storage,
        EdgeInvalidations edgeInvalidations, VodCatalog catalog, IOptions<CaptionOptions> options, TimeProvider time, ILogger<CaptionStore> logger,
        CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var v = new Validation();
        var lang = CaptionLanguage.Canonical(language);
        if (lang is null)
        {
            v.Add("language", "must be a BCP 47 language tag such as en, pt-BR or zh-Hant");
        }

        var name = lang;
        if (label is not null)
        {
            name = CaptionLabel.Validate(label, out var why);
            if (name is null)
            {
                v.Add("label", why!);
            }
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        var max = options.Value.MaxBytes;
        if (context.Request.ContentLength > max)
        {
            return TooLarge(context, max);
        }

        CaptionDocument? document;
        var buffer = ArrayPool<byte>.Shared.Rent(max + 1);
        try
        {
            // At most max + 1 bytes whatever Content-Length said (chunked bodies have none).
            var length = 0;
            int read;
            while (length <= max && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length, max + 1 - length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            if (length > max)
            {
                return TooLarge(context, max);
            }

            document = CaptionText.Parse(buffer.AsSpan(0, length), out var error);
            if (document is null)
            {
                return new Validation().Add("file", "the caption file " + error).Result();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await FindVideoAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (Refuse(video, caller) is { } refused)
        {
            return refused;
        }

        // Stored first under a name of its own: the row names it only once it is there, and no reader ever sees a
        // half-written file (a replaced track's file is another name, removed after the commit).
        var row = new CaptionRow(id, lang!, name!, CaptionSource.Upload, CaptionFiles.Key(id, lang!, Ids.New()));
        await storage.PutAsync(row.BlobKey, System.Text.Encoding.UTF8.GetBytes(document.WebVtt), "text/vtt", cancellationToken).ConfigureAwait(false);
        string? replaced;
        var committed = false;
        try
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            if (video!.VodPrefix is not null)
            {
                // The published index changes: edges drop what they hold of it.
                await edgeInvalidations.RecordInAsync(db, id, cancellationToken).ConfigureAwait(false);
            }

            if (!await CaptionStore.LockVideoInAsync(db, id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
            {
                return Problems.NotFound("video");
            }

            if (await CaptionStore.CountInAsync(db, id, cancellationToken).ConfigureAwait(false) >= options.Value.MaxPerVideo
                && !(await CaptionStore.ListAsync(db, id, cancellationToken).ConfigureAwait(false)).Exists(c => c.Language == lang))
            {
                return new Validation().Add("language", $"a video has at most {options.Value.MaxPerVideo} caption tracks").Result();
            }

            replaced = await CaptionStore.SetInAsync(db, row, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            committed = true;
        }
        finally
        {
            if (!committed)
            {
                await DeleteQuietlyAsync(storage, row.BlobKey, logger).ConfigureAwait(false);
            }
        }

        catalog.Invalidate(id);
        if (replaced is not null)
        {
            await DeleteQuietlyAsync(storage, replaced, logger).ConfigureAwait(false);
        }

        Log.Set(logger, id, row.Language, document.Cues);
        return replaced is null
            ? TypedResults.Created($"/api/v1/videos/{id}/captions/{row.Language}", row.ToInfo())
            : TypedResults.Ok(row.ToInfo());
    }

    private static async Task<IResult> DeleteAsync(string id, string language, HttpContext context, Database database, IBlobStorage storage,
        EdgeInvalidations edgeInvalidations, VodCatalog catalog, TimeProvider time, ILogger<CaptionStore> logger, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var lang = CaptionLanguage.Canonical(language);
        if (lang is null)
        {
            return new Validation().Add("language", "must be a BCP 47 language tag such as en, pt-BR or zh-Hant").Result();
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await FindVideoAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (Refuse(video, caller) is { } refused)
        {
            return refused;
        }

        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (video!.VodPrefix is not null)
        {
            await edgeInvalidations.RecordInAsync(db, id, cancellationToken).ConfigureAwait(false);
        }

        await CaptionStore.LockVideoInAsync(db, id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var removed = await CaptionStore.RemoveInAsync(db, id, lang, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        catalog.Invalidate(id);
        if (removed is not null)
        {
            await DeleteQuietlyAsync(storage, removed, logger).ConfigureAwait(false);
            Log.Removed(logger, id, lang);
        }

        // Idempotent: 204 whether or not there was a track to remove.
        return TypedResults.NoContent();
    }

    private static async Task DeleteQuietlyAsync(IBlobStorage storage, string key, ILogger logger)
    {
        try
        {
            await storage.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
        {
            // Left for the video's deletion, which removes its whole folder.
            Log.Leftover(logger, key, e.Message);
        }
    }

    /// <summary>413, and the connection closes after it: the rest of the body is not read.</summary>
    private static IResult TooLarge(HttpContext context, int max)
    {
        context.Response.Headers.Connection = "close";
        return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large",
            detail: $"A caption file must be at most {max} bytes (StreamVerse:ControlPlane:Captions:MaxBytes).");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Captions {Language} of video {VideoId} set ({Cues} cues)")]
        public static partial void Set(ILogger logger, string videoId, string language, int cues);

        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Captions {Language} of video {VideoId} removed")]
        public static partial void Removed(ILogger logger, string videoId, string language);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Caption file {Key} not removed now: {Error}")]
        public static partial void Leftover(ILogger logger, string key, string error);
    }
}
