using Amazon.S3;
using Amazon.S3.Model;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests.Storage;

/// <summary>
/// The S3-compatible server that <c>./setup.sh</c> starts (s3rver on 127.0.0.1:9555): endpoint and credentials from
/// <c>$STREAMVERSE_TEST_S3_ENDPOINT</c> / <c>_ACCESS_KEY</c> / <c>_SECRET_KEY</c> or the file setup.sh writes. Tests
/// that need it fail (never skip) when it is not there: CI runs setup.sh first.
/// </summary>
internal static class TestS3
{
    public const string EnvFile = TestS3Server.EnvFile;

    public static string Endpoint => TestS3Server.Endpoint;

    public static string AccessKey => TestS3Server.AccessKey;

    public static string SecretKey => TestS3Server.SecretKey;

    public static string NewBucketName() => "sv-test-" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Options for the test server (path style: s3rver has no DNS for virtual-hosted buckets).</summary>
    public static StorageOptions Options(string bucket, string? prefix) => new()
    {
        Backend = "s3",
        Bucket = bucket,
        Prefix = prefix,
        ServiceUrl = Endpoint,
        ForcePathStyle = true,
        AccessKeyId = AccessKey,
        SecretAccessKey = SecretKey,
    };

    public static AmazonS3Client Client() => S3BlobStorage.CreateClient(Options("unused", null));

    /// <summary>Creates a fresh bucket, or fails with what to do when the server does not answer.</summary>
    public static async Task CreateBucketAsync(string bucket)
    {
        using var client = Client();
        try
        {
            await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"The test S3 server at {Endpoint} did not answer (is s3rver running? ./setup.sh deps starts it on 127.0.0.1:9555 and writes {EnvFile}): {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Removes a test bucket and everything in it, so s3rver's directory does not grow run after run.</summary>
    public static async Task DeleteBucketAsync(string bucket)
    {
        using var client = Client();
        var keys = await ListAsync(client, bucket, "");
        foreach (var batch in keys.Chunk(1000))
        {
            await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = [.. batch.Select(k => new KeyVersion { Key = k })] });
        }

        await client.DeleteBucketAsync(bucket);
    }

    public static async Task<List<string>> ListAsync(IAmazonS3 client, string bucket, string prefix)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        while (true)
        {
            var page = await client.ListObjectsV2Async(request);
            keys.AddRange(page.S3Objects?.Select(o => o.Key) ?? []);
            if (page.IsTruncated != true)
            {
                return keys;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }
}
