using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Storage;

/// <summary>Config section <c>StreamVerse:Storage</c>: where blobs (avatars, VOD presentations) are kept.</summary>
internal sealed class StorageOptions
{
    public const string Section = "StreamVerse:Storage";

    /// <summary>S3's smallest part (all but the last), 5 MiB (Amazon S3 multipart upload limits).</summary>
    public const long MinPartBytes = 5L * 1024 * 1024;

    /// <summary><c>local</c> (DATA/blobs) or <c>s3</c>.</summary>
    public string Backend { get; set; } = "local";

    public string? Bucket { get; set; }

    /// <summary>Keys are stored as <c>{Prefix}/{key}</c>, so several deployments can share a bucket.</summary>
    public string? Prefix { get; set; }

    /// <summary>Endpoint of an S3-compatible service (MinIO, Ceph, s3rver...); absent: AWS for <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    /// <summary>Path-style URLs (<c>endpoint/bucket/key</c>) instead of virtual-hosted (<c>bucket.endpoint/key</c>).</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Both or neither; neither: the SDK's default chain (environment, profile, container or EC2 instance role).</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    /// <summary>Create the bucket at start if it does not exist (development, s3rver); off for deployments.</summary>
    public bool CreateBucket { get; set; }

    /// <summary>Files at least this large are uploaded in parts.</summary>
    public long MultipartThresholdBytes { get; set; } = 16L * 1024 * 1024;

    public long MultipartPartBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>Parts of one file in flight at once.</summary>
    public int MultipartConcurrency { get; set; } = 4;

    public bool IsS3 => string.Equals(Backend, "s3", StringComparison.OrdinalIgnoreCase);

    /// <summary>The prefix without surrounding slashes, or null for none.</summary>
    public string? NormalizedPrefix => string.IsNullOrEmpty(Prefix?.Trim('/')) ? null : Prefix.Trim('/');
}

/// <summary>Refuses bad storage configuration at start with messages that name the key (never its value when secret).</summary>
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    private const string S = StorageOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var failures = new List<string>();
        if (!o.IsS3 && !string.Equals(o.Backend, "local", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add(S + "Backend must be local or s3");
        }

        if (o.IsS3)
        {
            // Amazon S3 general purpose bucket naming rules: 3-63 of [a-z0-9.-], starting and ending alphanumeric.
            if (string.IsNullOrEmpty(o.Bucket))
            {
                failures.Add(S + "Bucket is required when Backend is s3");
            }
            else if (!BucketName().IsMatch(o.Bucket))
            {
                failures.Add(S + "Bucket must be 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit");
            }

            if (o.NormalizedPrefix is { } prefix && !BlobKeys.IsSafe(prefix))
            {
                failures.Add(S + "Prefix must be '/'-separated segments of A-Z a-z 0-9 . _ - (none empty or starting with '.')");
            }

            if (o.ServiceUrl is not null && (!Uri.TryCreate(o.ServiceUrl, UriKind.Absolute, out var url)
                || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.UserInfo.Length > 0))
            {
                failures.Add(S + "ServiceUrl must be an absolute http or https URL without credentials");
            }

            if (string.IsNullOrEmpty(o.Region) || !RegionName().IsMatch(o.Region))
            {
                failures.Add(S + "Region must be a region name such as us-east-1");
            }

            if (string.IsNullOrEmpty(o.AccessKeyId) != string.IsNullOrEmpty(o.SecretAccessKey))
            {
                failures.Add(S + "AccessKeyId and " + S + "SecretAccessKey must be given together (or neither, for the SDK's default credentials)");
            }

            if (o.MultipartPartBytes < StorageOptions.MinPartBytes || o.MultipartPartBytes > 5L * 1024 * 1024 * 1024)
            {
                failures.Add(S + "MultipartPartBytes must be between 5242880 (5 MiB) and 5368709120 (5 GiB)");
            }

            if (o.MultipartThresholdBytes < StorageOptions.MinPartBytes)
            {
                failures.Add(S + "MultipartThresholdBytes must be at least 5242880 (5 MiB)");
            }

            if (o.MultipartConcurrency is < 1 or > 64)
            {
                failures.Add(S + "MultipartConcurrency must be between 1 and 64");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z0-9-]{1,40}$")]
    private static partial Regex RegionName();
}
