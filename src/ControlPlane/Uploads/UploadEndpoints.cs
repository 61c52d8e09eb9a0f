using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;
using StreamVerse.ControlPlane.Mail;

namespace StreamVerse.ControlPlane.Uploads;

/// <summary>A single-request upload was stored and handed to the transcoding queue.</summary>
internal sealed record SourceAccepted(string JobId, string UploadId);

/// <summary>
/// <c>/api/v1/uploads</c>: tus 1.0.0 resumable uploads (core, creation, termination, checksum, expiration), each
/// tied to a video of the caller; and <c>PUT /api/v1/videos/{id}/source</c>, the single-request upload for small
/// files. Both end in <see cref="UploadStore.CompleteAsync"/>.
/// Access: creating needs the creator role and a video the caller owns (admins: any). An upload is visible to its
/// uploader and to admins only; to everyone else it does not exist (404), whatever their role.
/// </summary>
internal static class UploadEndpoints
{
    public static IEndpointRouteBuilder MapUploads(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/uploads").WithTags("Uploads").AddEndpointFilter(TusResumableFilter);
        group.MapMethods("", [HttpMethods.Options], Options).AllowAnonymous().Produces(StatusCodes.Status204NoContent);
        group.MapPost("", CreateAsync).RequireAuthorization(Policies.User).RequireVerifiedEmail()
            .Produces(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapMethods("/{id}", [HttpMethods.Head], HeadAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status200OK).Produces(StatusCodes.Status404NotFound).Produces(StatusCodes.Status410Gone);
        group.MapPatch("/{id}", PatchAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone).ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(TusProtocol.ChecksumMismatch);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status412PreconditionFailed);

        api.MapPut("/videos/{id}/source", PutSourceAsync).WithTags("Uploads").RequireAuthorization(Policies.User).RequireVerifiedEmail()
            .Produces<SourceAccepted>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status411LengthRequired)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return api;
    }

    /// <summary>
    /// tus §Tus-Resumable: every response carries the version we speak; every request but OPTIONS must name it,
    /// else 412 with the versions we do support (Tus-Version).
    /// </summary>
    private static async ValueTask<object?> TusResumableFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        context.Response.Headers[TusProtocol.TusResumable] = TusProtocol.Version;
        if (!HttpMethods.IsOptions(context.Request.Method)
            && !string.Equals(context.Request.Headers[TusProtocol.TusResumable], TusProtocol.Version, StringComparison.Ordinal))
        {
            context.Response.Headers[TusProtocol.TusVersion] = TusProtocol.Version;
            return Problem(StatusCodes.Status412PreconditionFailed, "Unsupported tus version",
                $"Send Tus-Resumable: {TusProtocol.Version} (the only version this server speaks).");
        }

        return await next(invocation).ConfigureAwait(false);
    }

    private static IResult Options(HttpContext context, IOptions<UploadOptions> options)
    {
        var headers = context.Response.Headers;
        headers[TusProtocol.TusVersion] = TusProtocol.Version;
        headers[TusProtocol.TusExtension] = TusProtocol.Extensions;
        headers[TusProtocol.TusMaxSize] = options.Value.MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers[TusProtocol.TusChecksumAlgorithm] = TusProtocol.ChecksumAlgorithms;
        return TypedResults.NoContent();
    }

    private static async Task<IResult> CreateAsync(HttpContext context, Database database, UploadStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var request = context.Request;
        var v = new Validation();
        if (request.Headers.ContainsKey(TusProtocol.UploadDeferLength) || request.Headers.ContainsKey(TusProtocol.UploadConcat))
        {
            return v.Add(TusProtocol.UploadLength, "creation-defer-length and concatenation are not offered (see Tus-Extension); send Upload-Length").Result();
        }

        if (request.ContentLength > 0)
        {
            return v.Add("body", "creation-with-upload is not offered (see Tus-Extension): create empty, then PATCH").Result();
        }

        if (!TusProtocol.TryParseLength(request.Headers[TusProtocol.UploadLength], out var length))
        {
            return v.Add(TusProtocol.UploadLength, "is required: the size of the file in bytes").Result();
        }

        if (length == 0)
        {
            return v.Add(TusProtocol.UploadLength, "an empty file is not a video").Result();
        }

        if (length > store.Options.MaxSize)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Too large", $"An upload may be at most {store.Options.MaxSize} bytes (Tus-Max-Size).");
        }

        var header = request.Headers[TusProtocol.UploadMetadata].ToString();
        var metadata = header.Length > 4000 ? null : TusProtocol.ParseMetadata(header);
        if (metadata is null)
        {
            return v.Add(TusProtocol.UploadMetadata, "must be comma-separated 'key base64value' pairs with unique keys, at most 4000 characters").Result();
        }

        if (!metadata.TryGetValue("videoId", out var videoId) || videoId.Length == 0)
        {
            return v.Add(TusProtocol.UploadMetadata, "must carry videoId: the video this file is the source of").Result();
        }

        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var video = await VideoEndpoints.FindAsync(db, videoId, cancellationToken).ConfigureAwait(false);
            if (video is null || (video.Visibility == Visibility.Private && !caller.OwnsOrAdmin(video.OwnerId)))
            {
                return v.Add(TusProtocol.UploadMetadata, "videoId names no video").Result();
            }

            if (RefuseVideo(caller, video) is { } refusal)
            {
                return refusal;
            }

            // Uploads are suspended for an account suspended, banned or with three active strikes (Moderation/).
            if (await Moderation.AccountStanding.RefusePublishAsync(db, video.OwnerId, context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
                    cancellationToken).ConfigureAwait(false) is { } suspended)
            {
                return suspended;
            }
        }

        var filename = metadata.TryGetValue("filename", out var f) || metadata.TryGetValue("name", out f) ? f : null;
        if (filename?.Length > 255)
        {
            filename = filename[..255];
        }

        var (row, quota, retry) = await store.CreateAsync(videoId, caller.Id, length, header.Trim(), filename, caller.IsAdmin, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return AuthEndpoints.TooMany(context, retry, quota!);
        }

        context.Response.Headers[TusProtocol.UploadExpires] = TusProtocol.HttpDate(row.ExpiresAt);
        return TypedResults.Created($"{ControlPlaneExtensions.ApiPrefix}/uploads/{row.Id}");
    }

    /// <summary>Owner (or admin), and not a broadcast: a live video's media is its publish, an ended one's its recording.</summary>
    private static IResult? RefuseVideo(Caller caller, Video video) =>
        !caller.OwnsOrAdmin(video.OwnerId) ? Problems.Forbidden("Only the video's owner or an admin may upload its source.")
        : video.Status == VideoStatus.Live ? Problems.Conflict("The video is live; a live video's media comes from its publish.")
        : video.Status == VideoStatus.Ended ? Problems.Conflict("The video is a broadcast's recording; upload to a new video instead.")
        : null;

    private static async Task<IResult> HeadAsync(string id, HttpContext context, UploadStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        // tus §HEAD: the offset must never come from a cache.
        context.Response.Headers.CacheControl = "no-store";
        var row = await FindOwnAsync(context, store, id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return TypedResults.NotFound();
        }

        if (row.IsExpired(time.GetUtcNow()))
        {
            return TypedResults.StatusCode(StatusCodes.Status410Gone);
        }

        var headers = context.Response.Headers;
        headers[TusProtocol.UploadOffset] = row.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers[TusProtocol.UploadLength] = row.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (row.Metadata.Length > 0)
        {
            headers[TusProtocol.UploadMetadata] = row.Metadata;
        }

        if (!row.IsComplete)
        {
            headers[TusProtocol.UploadExpires] = TusProtocol.HttpDate(row.ExpiresAt);
        }

        return TypedResults.Ok();
    }

    private static async Task<UploadRow?> FindOwnAsync(HttpContext context, UploadStore store, string id, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var row = await store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        return row is not null && caller.OwnsOrAdmin(row.OwnerId) ? row : null;
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext context, UploadStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals(TusProtocol.OffsetOctetStream, StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"A PATCH body must be {TusProtocol.OffsetOctetStream}.");
        }

        if (!TusProtocol.TryParseLength(request.Headers[TusProtocol.UploadOffset], out var offset))
        {
            return new Validation().Add(TusProtocol.UploadOffset, "is required: a non-negative integer").Result();
        }

        HashAlgorithmName? algorithm = null;
        byte[] expected = [];
        var checksum = request.Headers[TusProtocol.UploadChecksum].ToString();
        if (checksum.Length > 0)
        {
            if (!TusProtocol.TryParseChecksum(checksum, out var a, out expected))
            {
                return new Validation().Add(TusProtocol.UploadChecksum, $"must be '<algorithm> <base64 digest>' with one of {TusProtocol.ChecksumAlgorithms}").Result();
            }

            algorithm = a;
        }

        var row = await FindOwnAsync(context, store, id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return Problems.NotFound("upload");
        }

        await using var held = await store.Locks.AcquireAsync(id, store.Options.LockTimeout, cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            return Problems.Conflict("Another request is writing this upload; HEAD it and retry.");
        }

        // Re-read under the lock: the request that held it may have moved the offset or finished the upload.
        row = await store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return Problems.NotFound("upload");
        }

        if (row.IsExpired(time.GetUtcNow()))
        {
            return Problem(StatusCodes.Status410Gone, "Gone", "The upload expired; create a new one.");
        }

        if (offset != row.Offset)
        {
            return Problems.Conflict($"Upload-Offset {offset} does not match the upload's offset {row.Offset}; HEAD it and resume from there.");
        }

        var remaining = row.Length - row.Offset;
        if (request.ContentLength > remaining)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Too large", $"The upload has {remaining} bytes left (Upload-Length {row.Length}).");
        }

        if (row.IsComplete)
        {
            return Accepted(context, row.Offset, null);
        }

        // Our limit is the upload's length, not Kestrel's 30 MB default for a request body.
        LiftBodyLimit(context);
        long written;
        CopyOutcome outcome;
        var part = store.PartPath(row.Id);
        using (var hash = algorithm is { } alg ? IncrementalHash.CreateHash(alg) : null)
        {
            await using (var file = new FileStream(part, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                if (file.Length < row.Offset)
                {
                    // Bytes under the offset are gone (the file was removed or replaced): the offset falls back to
                    // what is there and the client, told 409, resumes from its HEAD.
                    await store.AdvanceAsync(row.Id, row.Offset, file.Length, CancellationToken.None).ConfigureAwait(false);
                    return Problems.Conflict($"The stored upload is shorter than its offset; it now resumes at {file.Length}. HEAD it and resume from there.");
                }

                // Bytes past the offset never committed (a crash mid-write, an aborted request): cut them off.
                file.SetLength(row.Offset);
                file.Position = row.Offset;
                (written, outcome) = await CopyBodyAsync(request.BodyReader, file, remaining, hash, cancellationToken).ConfigureAwait(false);

                var verified = hash is null || (outcome == CopyOutcome.Complete && CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), expected));
                if (outcome == CopyOutcome.TooLarge || !verified)
                {
                    // A chunk that cannot be checked, or is wrong, is not kept (tus checksum extension).
                    file.SetLength(row.Offset);
                    return outcome switch
                    {
                        CopyOutcome.TooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "Too large", $"The upload has {remaining} bytes left (Upload-Length {row.Length})."),
                        CopyOutcome.Aborted => Problem(StatusCodes.Status400BadRequest, "Incomplete body", "The request body ended early; the chunk was not kept because it carried a checksum."),
                        _ => Problem(TusProtocol.ChecksumMismatch, "Checksum mismatch", "The chunk does not match Upload-Checksum and was not kept."),
                    };
                }

                // Durable before the offset moves past it (the offset is the truth after a crash).
                await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
        }

        // Without a checksum, what arrived before an abort is kept (tus core: the client resumes from HEAD).
        var (moved, expires) = await store.AdvanceAsync(row.Id, row.Offset, row.Offset + written, CancellationToken.None).ConfigureAwait(false);
        if (!moved)
        {
            return Problems.Conflict("The upload's offset moved during this request; HEAD it and resume from there.");
        }

        var now = row with { Offset = row.Offset + written, ExpiresAt = expires };
        if (now.Offset == now.Length)
        {
            await store.CompleteAsync(now, CancellationToken.None).ConfigureAwait(false);
        }

        return outcome == CopyOutcome.Aborted
            ? Problem(StatusCodes.Status400BadRequest, "Incomplete body", "The request body ended early; what arrived was kept.")
            : Accepted(context, now.Offset, now.IsComplete ? null : expires);
    }

    private static IResult Accepted(HttpContext context, long offset, DateTimeOffset? expires)
    {
        context.Response.Headers[TusProtocol.UploadOffset] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (expires is { } e)
        {
            context.Response.Headers[TusProtocol.UploadExpires] = TusProtocol.HttpDate(e);
        }

        return TypedResults.NoContent();
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, UploadStore store, CancellationToken cancellationToken)
    {
        var row = await FindOwnAsync(context, store, id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return Problems.NotFound("upload");
        }

        await using var held = await store.Locks.AcquireAsync(id, store.Options.LockTimeout, cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            return Problems.Conflict("Another request is writing this upload; retry.");
        }

        // tus termination: the row and the bytes go. A finished upload's source already belongs to the job queue.
        await store.DeleteAsync(row, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> PutSourceAsync(string id, HttpContext context, Database database, UploadStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var length = context.Request.ContentLength;
        if (length is null)
        {
            return Problem(StatusCodes.Status411LengthRequired, "Length required", "Send Content-Length: the file's size in bytes.");
        }

        if (length > store.Options.MaxSinglePutBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Too large",
                $"A single-request upload may be at most {store.Options.MaxSinglePutBytes} bytes; use the resumable upload (/api/v1/uploads) for larger files.");
        }

        if (length == 0)
        {
            return new Validation().Add("body", "an empty file is not a video").Result();
        }

        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var video = await VideoEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
            if (video is null || (video.Visibility == Visibility.Private && !caller.OwnsOrAdmin(video.OwnerId)))
            {
                return Problems.NotFound("video");
            }

            if (RefuseVideo(caller, video) is { } refusal)
            {
                return refusal;
            }

            // Uploads are suspended for an account suspended, banned or with three active strikes (Moderation/).
            if (await Moderation.AccountStanding.RefusePublishAsync(db, video.OwnerId, context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
                    cancellationToken).ConfigureAwait(false) is { } suspended)
            {
                return suspended;
            }
        }

        var (row, quota, retry) = await store.CreateAsync(id, caller.Id, length.Value, "", null, caller.IsAdmin, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return AuthEndpoints.TooMany(context, retry, quota!);
        }

        LiftBodyLimit(context);
        await using var held = await store.Locks.AcquireAsync(row.Id, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        CopyOutcome outcome;
        await using (var file = new FileStream(store.PartPath(row.Id), FileMode.Open, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            (var written, outcome) = await CopyBodyAsync(context.Request.BodyReader, file, length.Value, null, cancellationToken).ConfigureAwait(false);
            if (outcome == CopyOutcome.Complete && written == length.Value)
            {
                await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            else
            {
                outcome = CopyOutcome.Aborted;
            }
        }

        if (outcome != CopyOutcome.Complete)
        {
            await store.DeleteAsync(row, CancellationToken.None).ConfigureAwait(false);
            return Problem(StatusCodes.Status400BadRequest, "Incomplete body", "The request body ended before Content-Length bytes; nothing was kept.");
        }

        await store.AdvanceAsync(row.Id, 0, length.Value, CancellationToken.None).ConfigureAwait(false);
        var job = await store.CompleteAsync(row with { Offset = length.Value }, CancellationToken.None).ConfigureAwait(false);
        return job is null
            ? Problem(StatusCodes.Status503ServiceUnavailable, "Transcoding queue unavailable", "The file is stored and will be queued for transcoding when the queue takes it.")
            : TypedResults.Accepted($"{ControlPlaneExtensions.ApiPrefix}/videos/{id}", new SourceAccepted(job, row.Id));
    }

    private static void LiftBodyLimit(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = null;
        }
    }

    private enum CopyOutcome
    {
        Complete,
        TooLarge,
        Aborted,
    }

    /// <summary>
    /// Streams the body into <paramref name="file"/> as it arrives (no whole-chunk buffer), hashing on the way;
    /// stops at <paramref name="max"/> bytes. A client that goes away mid-body is an outcome, not an exception.
    /// </summary>
    private static async Task<(long Written, CopyOutcome Outcome)> CopyBodyAsync(PipeReader reader, FileStream file, long max, IncrementalHash? hash, CancellationToken cancellationToken)
    {
        long written = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (written + buffer.Length > max)
                {
                    reader.AdvanceTo(buffer.End);
                    return (written, CopyOutcome.TooLarge);
                }

                foreach (var segment in buffer)
                {
                    hash?.AppendData(segment.Span);
                    await file.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }

                written += buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return (written, result.IsCanceled ? CopyOutcome.Aborted : CopyOutcome.Complete);
                }
            }
        }
        catch (Exception e) when (e is Microsoft.AspNetCore.Http.BadHttpRequestException or ConnectionResetException or IOException or OperationCanceledException)
        {
            // The file position may sit past `written` after a failed write; callers truncate or flush only `written`.
            return (written, CopyOutcome.Aborted);
        }
    }

    private static IResult Problem(int status, string title, string detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
