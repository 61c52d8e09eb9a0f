using System.Buffers;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Images;

/// <summary>
/// The one path of an uploaded picture (account avatar, channel avatar and banner, custom thumbnail): the body read up
/// to its byte cap whatever Content-Length says, its magic bytes checked (PNG, JPEG, WebP), the picture decoded and
/// re-encoded as a JPEG by MediaCore (<see cref="IStillImages"/>), stored as a new blob, and swapped into its row in a
/// transaction. The swap reads the old key and writes the new one under a lock on the row's key, so two uploads at once
/// leave one blob each way (the replaced one deleted after the commit, never an orphan).
/// </summary>
internal sealed partial class ImageUploads(IStillImages stills, IBlobStorage storage, Database database, IOptions<ControlPlaneOptions> controlPlane,
    IOptions<ImageOptions> options, ILogger<ImageUploads> logger)
{
    public const string JpegType = "image/jpeg";

    public ImageOptions Options => options.Value;

    /// <summary>
    /// The picture of the request body as a JPEG within <paramref name="box"/>, or the problem to answer: 413 over
    /// <paramref name="maxBytes"/> (the connection closes: the rest of the body is not read), 415 for anything but PNG,
    /// JPEG and WebP, 422 for such a file that does not decode or is over the pixel caps.
    /// </summary>
    public async Task<(byte[]? Jpeg, IResult? Problem)> ReadAsync(HttpContext context, string what, int maxBytes, ImageBox box, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return (null, TooLarge(context, what, maxBytes));
        }

        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        var path = Path.Combine(controlPlane.Value.DataPath, "tmp", "image-" + Ids.New());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            var length = 0;
            int read;
            while (length <= maxBytes && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length, maxBytes + 1 - length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            if (length > maxBytes)
            {
                return (null, TooLarge(context, what, maxBytes));
            }

            if (ImageSniffer.ContentType(buffer.AsSpan(0, length)) is null)
            {
                return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported image",
                    detail: $"The {what} must be a PNG, JPEG or WebP image."));
            }

            // libav reads files: the body goes to a private temporary file for the decode, removed right after.
            await File.WriteAllBytesAsync(path, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            return (await stills.ReencodeAsync(path, box, cancellationToken).ConfigureAwait(false), null);
        }
        catch (ImageRejectedException e)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unreadable image",
                detail: $"The {what} could not be used: {e.Message}"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(path);
        }
    }

    /// <summary>
    /// Makes <paramref name="jpeg"/> (null: none) the picture of a row: stored as <c>{keyPrefix}-{random}</c>, then in one
    /// transaction serialised on <paramref name="lockName"/> the old key is read with <paramref name="selectOldSql"/> and
    /// the new one written with <paramref name="updateSql"/> (<c>@k</c> the new key, the row's own parameters in
    /// <paramref name="args"/>). False when the update changed no row (the new blob is removed again).
    /// </summary>
    public async Task<(bool Found, string? Key)> ReplaceAsync(string keyPrefix, byte[]? jpeg, string lockName, string selectOldSql, string updateSql,
        (string Name, object? Value)[] args, CancellationToken cancellationToken, string keySuffix = "")
    {
        string? key = null;
        if (jpeg is not null)
        {
            key = $"{keyPrefix}-{Ids.New()}{keySuffix}";
            await storage.PutAsync(key, jpeg, JpegType, cancellationToken).ConfigureAwait(false);
        }

        string? old;
        int n;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            await db.SerialiseAsync(DbSession.LockKey(lockName), cancellationToken).ConfigureAwait(false);
            old = await db.ScalarAsync<string>(selectOldSql, args, cancellationToken).ConfigureAwait(false);
            n = await db.ExecAsync(updateSql, [.. args, ("k", key)], cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        var orphan = n == 0 ? key : old;
        if (orphan is not null)
        {
            try
            {
                await storage.DeleteAsync(orphan, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
            {
                Log.Leftover(logger, orphan, e.Message);
            }
        }

        return (n > 0, n > 0 ? key : null);
    }

    /// <summary>The version part of a picture's key (after its last '-'), for URLs that change with the picture.</summary>
    public static string? Version(string? key) => key is null ? null : key[(key.LastIndexOf('-') + 1)..];

    /// <summary>
    /// Serves a stored picture: immutable for a year under the URL of its version (<c>?v=</c> equal to the current one),
    /// five minutes under any other (the URL without a version names whatever is current).
    /// </summary>
    public async Task<IResult> ServeAsync(HttpContext context, string? key, string? version, string what, CancellationToken cancellationToken)
    {
        if (key is null || await storage.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } blob)
        {
            return Problems.NotFound(what);
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = version is not null && version == Version(key) ? "public, max-age=31536000, immutable" : "public, max-age=300";
        return TypedResults.Stream(blob.Content, blob.ContentType);
    }

    /// <summary>413, and the connection closes after it: the rest of the body is not read (Kestrel drains no more than the
    /// endpoint's cap), so the client must not send its next request on this connection.</summary>
    private static IResult TooLarge(HttpContext context, string what, int max)
    {
        context.Response.Headers.Connection = "close";
        return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large", detail: $"The {what} must be at most {max} bytes.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5200, Level = LogLevel.Warning, Message = "A replaced picture's blob {Key} could not be deleted: {Error}")]
        public static partial void Leftover(ILogger logger, string key, string error);
    }
}

internal static class ImageServices
{
    public static IServiceCollection AddImages(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ImageOptions>().Bind(configuration.GetSection(ImageOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ImageOptions>, ImageOptionsValidator>();
        services.AddSingleton<ImageUploads>();
        services.AddSingleton<Videos.PresentationFrames>();
        return services;
    }
}
