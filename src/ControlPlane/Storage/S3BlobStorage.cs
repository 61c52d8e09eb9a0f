using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace StreamVerse.ControlPlane.Storage;

/// <summary>
/// <see cref="IBlobStorage"/> on Amazon S3 or an S3-compatible service (MinIO, Ceph RGW, s3rver). Objects are
/// <c>{Prefix}/{key}</c> in one bucket with their content type as the object's <c>Content-Type</c>. A PUT (and the
/// completion of a multipart upload) replaces an object atomically, so readers never see half an object, as with
/// the local backend's rename.
/// </summary>
internal sealed partial class S3BlobStorage : IBlobStorage, IDisposable
{
    /// <summary>DeleteObjects takes at most 1000 keys (Amazon S3 API Reference, DeleteObjects).</summary>
    private const int DeleteBatch = 1000;

    /// <summary>An upload has at most 10,000 parts (Amazon S3 multipart upload limits).</summary>
    private const int MaxParts = 10_000;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly StorageOptions _options;
    private readonly string _bucket;
    private readonly string? _prefix;
    private readonly ILogger _logger;

    public S3BlobStorage(IAmazonS3 client, bool ownsClient, StorageOptions options, ILogger<S3BlobStorage> logger)
    {
        _client = client;
        _ownsClient = ownsClient;
        _options = options;
        _bucket = options.Bucket ?? throw new ArgumentException("StreamVerse:Storage:Bucket is required", nameof(options));
        _prefix = options.NormalizedPrefix;
        _logger = logger;
    }

    /// <summary>The client for <paramref name="options"/>: endpoint, region, path style and credentials.</summary>
    public static AmazonS3Client CreateClient(StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,

            // AWSSDK 4 adds a CRC32 (x-amz-sdk-checksum-algorithm, x-amz-checksum-crc32 or an aws-chunked trailer)
            // to every upload by default, which several S3-compatible services refuse (Backblaze B2, Dell ECS, older
            // MinIO and R2 among those reported). Checksums only where an operation requires one (DeleteObjects);
            // integrity of uploads comes from the SigV4 payload hash instead (UseChunkEncoding = false below: the
            // body's SHA-256 is signed in x-amz-content-sha256 and the server checks it).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        return string.IsNullOrEmpty(options.AccessKeyId)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config);
    }

    public string Describe() => _options.ServiceUrl is { } url
        ? string.Create(CultureInfo.InvariantCulture, $"s3 bucket {_bucket}, prefix {_prefix ?? "(none)"}, endpoint {new Uri(url).GetLeftPart(UriPartial.Authority)}")
        : string.Create(CultureInfo.InvariantCulture, $"s3 bucket {_bucket}, prefix {_prefix ?? "(none)"}, region {_options.Region}");

    /// <summary>Creates the bucket unless it exists already (<c>StreamVerse:Storage:CreateBucket</c>).</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, cancellationToken).ConfigureAwait(false);
            Log.BucketCreated(_logger, _bucket);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    // Every upload sets UseChunkEncoding = false: the SDK's default streams the body as aws-chunked (STREAMING-AWS4-
    // HMAC-SHA256-PAYLOAD), which s3rver and some other S3-compatible servers accept without decoding, storing the
    // chunk framing as content (the contract tests catch exactly that). Unchunked, the SDK hashes the body first
    // (a second read of the file or buffer, never a copy in memory) and signs the hash.
    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken)
    {
        var name = ObjectKey(key);
        // The SDK wants a seekable stream (it hashes the body, then sends it); wrap the caller's array, no copy.
        using var body = MemoryMarshal.TryGetArray(content, out var array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = name,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = contentType,
            UseChunkEncoding = false,
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task PutFileAsync(string key, string localPath, string contentType, CancellationToken cancellationToken)
    {
        var name = ObjectKey(key);
        var length = new FileInfo(localPath).Length;
        if (length < _options.MultipartThresholdBytes)
        {
            // The SDK opens the file and streams it (hashing it first for the SigV4 payload signature).
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = name,
                FilePath = localPath,
                ContentType = contentType,
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            return;
        }

        await PutMultipartAsync(name, localPath, length, contentType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A multipart upload: each part is read from the file by the SDK (never the whole file in memory), up to
    /// <c>MultipartConcurrency</c> at once; the object appears only when CompleteMultipartUpload succeeds.
    /// </summary>
    private async Task PutMultipartAsync(string name, string localPath, long length, string contentType, CancellationToken cancellationToken)
    {
        // Larger parts when the file would need more than S3's 10,000.
        var partBytes = Math.Max(_options.MultipartPartBytes, (length + MaxParts - 1) / MaxParts);
        var parts = (int)((length + partBytes - 1) / partBytes);
        var started = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = _bucket,
            Key = name,
            ContentType = contentType,
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            var etags = new PartETag[parts];
            await Parallel.ForEachAsync(
                Enumerable.Range(1, parts),
                new ParallelOptions { MaxDegreeOfParallelism = _options.MultipartConcurrency, CancellationToken = cancellationToken },
                async (number, ct) =>
                {
                    var position = (number - 1) * partBytes;
                    var uploaded = await _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = _bucket,
                        Key = name,
                        UploadId = started.UploadId,
                        PartNumber = number,
                        FilePath = localPath,
                        FilePosition = position,
                        PartSize = Math.Min(partBytes, length - position),
                        IsLastPart = number == parts,
                        UseChunkEncoding = false,
                    }, ct).ConfigureAwait(false);
                    etags[number - 1] = new PartETag(number, uploaded.ETag);
                }).ConfigureAwait(false);

            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = name,
                UploadId = started.UploadId,
                PartETags = [.. etags],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await AbortAsync(name, started.UploadId, e).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Best effort: a failed abort leaves parts that a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes;
    /// it never hides the error that caused it.
    /// </summary>
    private async Task AbortAsync(string name, string uploadId, Exception cause)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = name,
                UploadId = uploadId,
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonServiceException or OperationCanceledException or HttpRequestException)
        {
            Log.AbortFailed(_logger, name, cause.GetType().Name, e.Message);
        }
    }

    public async Task<(Stream Content, string ContentType)?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var name = ObjectKey(key);
        try
        {
            var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = name }, cancellationToken).ConfigureAwait(false);
            return (new S3ObjectStream(response), response.Headers.ContentType ?? MediaContentTypes.Of(key));
        }
        catch (AmazonS3Exception e) when (IsMissing(e))
        {
            return null;
        }
    }

    public async Task<BlobInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var name = ObjectKey(key);
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = name }, cancellationToken).ConfigureAwait(false);
            return new BlobInfo(head.ContentLength, head.Headers.ContentType ?? MediaContentTypes.Of(key), Quoted(head.ETag), Utc(head.LastModified));
        }
        catch (AmazonS3Exception e) when (IsMissing(e))
        {
            return null;
        }
    }

    public async Task<BlobRead?> OpenReadAsync(string key, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(n, nameof(length));
        }

        var name = ObjectKey(key);
        if (length == 0)
        {
            // S3 has no empty byte range (RFC 9110 §14.1.1: last-pos >= first-pos): ask for the metadata only.
            return await EmptyReadAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var request = new GetObjectRequest { BucketName = _bucket, Key = name };
        if (offset > 0 || length is not null)
        {
            // RFC 9110 §14.1.2: "bytes=first-last" (inclusive), or "bytes=first-" to the end.
            request.ByteRange = length is { } count && count <= long.MaxValue - offset
                ? new ByteRange(offset, offset + count - 1)
                : new ByteRange(string.Create(CultureInfo.InvariantCulture, $"bytes={offset}-"));
        }

        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsMissing(e))
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The range starts at or past the end (or the object is empty): an empty read, as on the local backend.
            return await EmptyReadAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var info = new BlobInfo(TotalLength(response), response.Headers.ContentType ?? MediaContentTypes.Of(key), Quoted(response.ETag), Utc(response.LastModified));
        return new BlobRead(new S3ObjectStream(response), info);
    }

    private async Task<BlobRead?> EmptyReadAsync(string key, CancellationToken cancellationToken) =>
        await StatAsync(key, cancellationToken).ConfigureAwait(false) is { } info ? new BlobRead(Stream.Null, info) : null;

    public string? LocalPathOf(string key) => null;

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        // DeleteObject succeeds for a key that does not exist.
        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = ObjectKey(key) }, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var list = new ListObjectsV2Request { BucketName = _bucket, Prefix = ObjectKey(prefix) + "/", MaxKeys = DeleteBatch };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(list, cancellationToken).ConfigureAwait(false);
            if (page.S3Objects is { Count: > 0 } objects)
            {
                var deleted = await _client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = _bucket,
                    Objects = [.. objects.Select(o => new KeyVersion { Key = o.Key })],
                    Quiet = true,
                }, cancellationToken).ConfigureAwait(false);
                if (deleted.DeleteErrors is { Count: > 0 } errors)
                {
                    throw new IOException(string.Create(CultureInfo.InvariantCulture,
                        $"S3 refused to delete {errors.Count} objects under {list.Prefix}: {errors[0].Code} {errors[0].Message} ({errors[0].Key})"));
                }
            }

            if (page.IsTruncated != true)
            {
                return;
            }

            list.ContinuationToken = page.NextContinuationToken;
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private string ObjectKey(string key)
    {
        BlobKeys.ThrowIfUnsafe(key);
        return _prefix is null ? key : _prefix + "/" + key;
    }

    /// <summary>NoSuchKey (GET) or a bare 404 (HEAD has no body); a missing bucket is a configuration error, not a missing object.</summary>
    private static bool IsMissing(AmazonS3Exception e) => e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket";

    /// <summary>The whole object's length: from <c>Content-Range: bytes first-last/complete</c> (RFC 9110 §14.4) for a range.</summary>
    private static long TotalLength(GetObjectResponse response)
    {
        var range = response.ContentRange;
        if (!string.IsNullOrEmpty(range))
        {
            var slash = range.LastIndexOf('/');
            if (slash >= 0 && long.TryParse(range.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var complete))
            {
                return complete;
            }
        }

        return response.ContentLength;
    }

    /// <summary>S3 sends ETags quoted; some compatible servers do not. BlobInfo promises a quoted strong validator.</summary>
    private static string Quoted(string? etag) => etag is null ? "\"\"" : etag.StartsWith('"') ? etag : "\"" + etag + "\"";

    private static DateTimeOffset Utc(DateTime? time) => time switch
    {
        null => DateTimeOffset.UnixEpoch,
        { Kind: DateTimeKind.Local } t => new DateTimeOffset(t.ToUniversalTime()),
        { } t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Created S3 bucket {Bucket}")]
        public static partial void BucketCreated(ILogger logger, string bucket);

        [LoggerMessage(EventId = 4302, Level = LogLevel.Warning, Message = "Could not abort the multipart upload of {Key} after {Cause}: {Error}")]
        public static partial void AbortFailed(ILogger logger, string key, string cause, string error);
    }
}

/// <summary>An object's body; disposing it ends the response (and returns its connection to the pool).</summary>
internal sealed class S3ObjectStream(GetObjectResponse response) : ForwardOnlyReadStream
{
    private readonly Stream _body = response.ResponseStream;

    public override int Read(Span<byte> buffer) => _body.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _body.ReadAsync(buffer, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            response.Dispose();
        }

        base.Dispose(disposing);
    }
}
