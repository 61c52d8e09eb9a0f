using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Images;
using StreamVerse.ControlPlane.Playback;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Videos;

/// <param name="AtSeconds">The time of the frame, in seconds from the start of the video (0 up to its duration).</param>
internal sealed record ThumbnailFrameRequest(double? AtSeconds);

/// <summary>
/// <c>/api/v1/videos/{id}/thumbnail</c>: the owner's (or an admin's) own thumbnail instead of the automatic poster:
/// an uploaded picture (<see cref="ImageUploads"/>: validated, re-encoded by MediaCore to the poster's size, never an
/// external URL) or a frame of the video (<c>POST .../thumbnail/frame</c>, taken by MediaCore from the current
/// presentation's top rendition). It is stored beside the video's presentations as
/// <c>vod/{id}/custom/thumbnail-{version}.jpg</c>, so VOD delivery serves it like the poster, under the same playback
/// rules (a token for private and premium videos, <see cref="OwnerThumbnails"/>), and it goes with the video.
/// <c>DELETE</c> goes back to the automatic poster.
/// </summary>
internal static class ThumbnailEndpoints
{
    private const string SelectSql = "SELECT custom_thumbnail_key FROM videos WHERE id = @id";
    private const string UpdateSql = "UPDATE videos SET custom_thumbnail_key = @k WHERE id = @id";

    public static void MapThumbnails(this RouteGroupBuilder videos, IServiceProvider services)
    {
        var max = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ImageOptions>>().Value.ThumbnailMaxBytes;
        videos.MapPut("/{id}/thumbnail", PutAsync).RequireAuthorization(Policies.User).WithBodyLimit(max + 1L)
            .Accepts<byte[]>("image/png", "image/jpeg", "image/webp").Produces<Video>().ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        videos.MapPost("/{id}/thumbnail/frame", FrameAsync).RequireAuthorization(Policies.User).Produces<Video>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        videos.MapDelete("/{id}/thumbnail", DeleteAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static string KeyPrefix(string videoId) => $"vod/{videoId}/custom/thumbnail";

    private static async Task<IResult> PutAsync(string id, HttpContext context, Database database, ImageUploads images, OwnerThumbnails thumbnails,
        CancellationToken cancellationToken)
    {
        var (video, refused) = await LoadOwnAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            context.Response.Headers.Connection = "close"; // the body is not read
            return refused;
        }

        var (jpeg, problem) = await images.ReadAsync(context, "thumbnail", images.Options.ThumbnailMaxBytes, images.Options.Thumbnail, cancellationToken).ConfigureAwait(false);
        return problem ?? await SetAsync(video!, jpeg!, context, database, images, thumbnails, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IResult> FrameAsync(string id, ThumbnailFrameRequest request, HttpContext context, Database database, ImageUploads images,
        PresentationFrames frames, OwnerThumbnails thumbnails, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (request.AtSeconds is not { } at || !double.IsFinite(at) || at < 0)
        {
            v.Add("atSeconds", "is required: a time in seconds, 0 or more");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        var (video, refused) = await LoadOwnAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        if (video!.DurationSeconds is { } duration && request.AtSeconds > duration)
        {
            return v.Add("atSeconds", string.Create(CultureInfo.InvariantCulture, $"must be at most the video's duration, {duration:0.###} s")).Result();
        }

        byte[]? jpeg;
        try
        {
            jpeg = await frames.TakeAsync(id, request.AtSeconds!.Value, images.Options.Thumbnail, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageRejectedException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "No frame", detail: "The frame could not be taken: " + e.Message);
        }

        return jpeg is null
            ? Problems.Conflict("The video has no presentation to take a frame from yet (wait for its transcode; a live broadcast has none).")
            : await SetAsync(video, jpeg, context, database, images, thumbnails, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, Database database, ImageUploads images, CancellationToken cancellationToken)
    {
        var (_, refused) = await LoadOwnAsync(id, context, database, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await images.ReplaceAsync(KeyPrefix(id), null, "video-thumbnail:" + id, SelectSql, UpdateSql, [("id", id)], cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> SetAsync(Video video, byte[] jpeg, HttpContext context, Database database, ImageUploads images, OwnerThumbnails thumbnails,
        CancellationToken cancellationToken)
    {
        var (found, _) = await images.ReplaceAsync(KeyPrefix(video.Id), jpeg, "video-thumbnail:" + video.Id, SelectSql, UpdateSql, [("id", video.Id)],
            cancellationToken, keySuffix: ".jpg").ConfigureAwait(false);
        if (!found)
        {
            return Problems.NotFound("video");
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var updated = await VideoEndpoints.FindAsync(db, video.Id, cancellationToken).ConfigureAwait(false);
        return updated is null ? Problems.NotFound("video") : TypedResults.Ok(thumbnails.ForOwner(updated, Caller.Require(context.User).Id));
    }

    /// <summary>The video if the caller owns it (or is an admin); else 404 (missing, or private and not theirs) or 403.</summary>
    private static async Task<(Video? Video, IResult? Problem)> LoadOwnAsync(string id, HttpContext context, Database database, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var video = await VideoEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return (null, Problems.NotFound("video"));
        }

        if (!Caller.Require(context.User).OwnsOrAdmin(video.OwnerId))
        {
            return (null, video.Visibility == Visibility.Private ? Problems.NotFound("video") : Problems.Forbidden("Only the video's owner or an admin may change its thumbnail."));
        }

        return (video, null);
    }
}

/// <summary>
/// A frame of a video's current presentation: the top rendition's media playlist says which segment holds the time;
/// its init segment and that segment, concatenated, are a fragmented MP4 that MediaCore decodes (<see cref="IStillImages"/>).
/// Only stored text and blobs are read (URIs are taken relative to the playlist and must be safe blob keys).
/// </summary>
internal sealed class PresentationFrames(Database database, IBlobStorage storage, IStillImages stills, IOptions<ControlPlaneOptions> options)
{
    /// <summary>The JPEG, or null when the video has no presentation.</summary>
    public async Task<byte[]?> TakeAsync(string videoId, double atSeconds, ImageBox box, CancellationToken cancellationToken)
    {
        string? prefix;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            prefix = await db.ScalarAsync<string>("SELECT vod_prefix FROM videos WHERE id = @id", [("id", videoId)], cancellationToken).ConfigureAwait(false);
        }

        if (prefix is null || await ReadTextAsync(prefix + "/master.m3u8", cancellationToken).ConfigureAwait(false) is not { } master)
        {
            return null;
        }

        var variant = TopVariant(master) ?? throw new ImageRejectedException("the presentation has no video rendition");
        var playlistKey = Resolve(prefix, variant);
        var playlist = await ReadTextAsync(playlistKey, cancellationToken).ConfigureAwait(false) ?? throw new ImageRejectedException("the rendition's playlist is missing");
        var (init, segment, start) = Locate(playlist, atSeconds) ?? throw new ImageRejectedException("the rendition has no segments");
        var folder = playlistKey[..(playlistKey.LastIndexOf('/') + 1)];
        var path = Path.Combine(options.Value.DataPath, "tmp", "frame-" + Ids.New() + ".mp4");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            await using (var file = File.Create(path))
            {
                foreach (var key in new[] { Resolve(folder, init), Resolve(folder, segment) })
                {
                    var blob = await storage.GetAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new ImageRejectedException("a segment of the rendition is missing");
                    await using (blob.Content.ConfigureAwait(false))
                    {
                        await blob.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            // MediaCore counts from the file's first picture, which is the segment's start.
            return await stills.FrameAsync(path, Math.Max(0, atSeconds - start), box, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task<string?> ReadTextAsync(string key, CancellationToken cancellationToken)
    {
        if (await storage.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } blob)
        {
            return null;
        }

        await using (blob.Content.ConfigureAwait(false))
        {
            using var reader = new StreamReader(blob.Content);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The URI of the variant with the highest BANDWIDTH (RFC 8216 §4.3.4.2).</summary>
    internal static string? TopVariant(string master)
    {
        string? best = null;
        long bestBandwidth = -1;
        var lines = master.Split('\n', StringSplitOptions.TrimEntries);
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            if (!lines[i].StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal))
            {
                continue;
            }

            var at = lines[i].IndexOf("BANDWIDTH=", StringComparison.Ordinal);
            var digits = at < 0 ? "" : new string(lines[i].AsSpan(at + "BANDWIDTH=".Length).ToArray().TakeWhile(char.IsAsciiDigit).ToArray());
            if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var bandwidth) && bandwidth > bestBandwidth && lines[i + 1].Length > 0 && lines[i + 1][0] != '#')
            {
                (best, bestBandwidth) = (lines[i + 1], bandwidth);
            }
        }

        return best;
    }

    /// <summary>The init segment, the segment that holds <paramref name="atSeconds"/> (the last one past the end), and that segment's start.</summary>
    internal static (string Init, string Segment, double Start)? Locate(string playlist, double atSeconds)
    {
        string? init = null;
        (string Uri, double Start)? last = null;
        var t = 0.0;
        double? duration = null;
        foreach (var line in playlist.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("#EXT-X-MAP:URI=\"", StringComparison.Ordinal))
            {
                init = line["#EXT-X-MAP:URI=\"".Length..].TrimEnd('"');
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                var text = line["#EXTINF:".Length..].Split(',')[0];
                duration = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0;
            }
            else if (line.Length > 0 && line[0] != '#' && duration is { } d)
            {
                last = (line, t);
                if (atSeconds < t + d)
                {
                    break;
                }

                t += d;
                duration = null;
            }
        }

        return init is null || last is null ? null : (init, last.Value.Uri, last.Value.Start);
    }

    /// <summary>A URI relative to <paramref name="folder"/> as a blob key; anything that is not a plain relative path is refused.</summary>
    private static string Resolve(string folder, string uri)
    {
        var key = folder.EndsWith('/') ? folder + uri : folder + "/" + uri;
        return BlobKeys.IsSafe(key) ? key : throw new ImageRejectedException("the presentation names an unexpected file");
    }
}
