using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Storage;

namespace StreamVerse.ControlPlane.Tests.Storage;

/// <summary>
/// What every <see cref="IBlobStorage"/> backend promises, run against each: the local filesystem in a temporary
/// directory and S3 against the real s3rver that setup.sh starts, in a fresh bucket and prefix per class.
/// </summary>
public abstract class BlobStorageContract
{
    /// <summary>Above the S3 backend's default multipart threshold (16 MiB), not a multiple of the part size.</summary>
    public const int LargeFileBytes = (20 * 1024 * 1024) + 12345;

    internal abstract IBlobStorage Storage { get; }

    [Fact]
    public async Task Put_then_get_round_trips_bytes_and_type()
    {
        var body = "#EXTM3U\n#EXT-X-VERSION:7\n"u8.ToArray();
        await Storage.PutAsync("rt/index.m3u8", body, "application/vnd.apple.mpegurl", default);

        var got = await Storage.GetAsync("rt/index.m3u8", default);
        Assert.NotNull(got);
        Assert.Equal("application/vnd.apple.mpegurl", got.Value.ContentType);
        Assert.Equal(body, await ReadAllAsync(got.Value.Content));
    }

    [Fact]
    public async Task Content_types_are_kept_whether_or_not_the_key_implies_them()
    {
        // An avatar key has no extension: the type must come from what was stored, not from the key.
        await Storage.PutAsync("ct/avatar-1", Bytes(64, 1), "image/png", default);
        await Storage.PutAsync("ct/poster.jpg", Bytes(64, 2), "image/jpeg", default);
        await Storage.PutAsync("ct/manifest.mpd", Bytes(64, 3), "application/dash+xml", default);

        Assert.Equal("image/png", (await Storage.GetAsync("ct/avatar-1", default))!.Value.ContentType);
        Assert.Equal("image/png", (await Storage.StatAsync("ct/avatar-1", default))!.ContentType);
        Assert.Equal("image/jpeg", (await Storage.StatAsync("ct/poster.jpg", default))!.ContentType);
        await using (var read = await Storage.OpenReadAsync("ct/manifest.mpd", 0, 10, default))
        {
            Assert.Equal("application/dash+xml", read!.Info.ContentType);
        }

        // Replacing an object replaces its type too.
        await Storage.PutAsync("ct/avatar-1", Bytes(64, 4), "image/webp", default);
        Assert.Equal("image/webp", (await Storage.StatAsync("ct/avatar-1", default))!.ContentType);
    }

    [Fact]
    public async Task PutFile_streams_a_multi_megabyte_file_intact()
    {
        var file = Path.Combine(Path.GetTempPath(), "sv-blob-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(LargeFileBytes));
            byte[] expected;
            await using (var source = File.OpenRead(file))
            {
                expected = await SHA256.HashDataAsync(source);
            }

            await Storage.PutFileAsync("big/video_1.m4s", file, "video/mp4", default);

            var info = await Storage.StatAsync("big/video_1.m4s", default);
            Assert.Equal(LargeFileBytes, info!.Length);
            Assert.Equal("video/mp4", info.ContentType);
            var got = await Storage.GetAsync("big/video_1.m4s", default);
            await using (var content = got!.Value.Content)
            {
                Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(await SHA256.HashDataAsync(content)));
            }

            // A range deep inside the file, across the S3 backend's 8 MiB part boundary.
            var offset = (8L * 1024 * 1024) - 100;
            await using var read = await Storage.OpenReadAsync("big/video_1.m4s", offset, 200, default);
            var slice = await ReadAllAsync(read!.Content);
            var whole = await File.ReadAllBytesAsync(file);
            Assert.Equal(whole.AsSpan((int)offset, 200).ToArray(), slice);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Stat_reports_length_type_and_a_quoted_validator_that_changes_with_the_content()
    {
        await Storage.PutAsync("stat/a.vtt", Bytes(1000, 5), "text/vtt", default);
        var first = await Storage.StatAsync("stat/a.vtt", default);
        Assert.NotNull(first);
        Assert.Equal(1000, first.Length);
        Assert.Equal("text/vtt", first.ContentType);
        Assert.Matches("^\"[^\"]+\"$", first.ETag);
        Assert.True(first.LastModified > new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), first.LastModified.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        await Storage.PutAsync("stat/a.vtt", Bytes(999, 6), "text/vtt", default);
        var second = await Storage.StatAsync("stat/a.vtt", default);
        Assert.Equal(999, second!.Length);
        Assert.NotEqual(first.ETag, second.ETag);
    }

    /// <summary>length -1 stands for null (to the end).</summary>
    [Theory]
    [InlineData(0, 100, 0, 100)]        // the start
    [InlineData(400, 200, 400, 200)]    // the middle
    [InlineData(900, -1, 900, 100)]     // to the end
    [InlineData(0, -1, 0, 1000)]        // the whole object
    [InlineData(950, 100, 950, 50)]     // a length past the end is cut at the end
    [InlineData(1000, 10, 0, 0)]        // starting at the end: nothing
    [InlineData(5000, -1, 0, 0)]        // starting past the end: nothing
    [InlineData(10, 0, 0, 0)]           // zero-length
    [InlineData(999, 1, 999, 1)]        // the last byte
    public async Task OpenRead_returns_the_requested_range_and_describes_the_whole_object(long offset, long length, int expectedStart, int expectedLength)
    {
        var body = Bytes(1000, 7);
        await Storage.PutAsync("range/seg.m4s", body, "video/mp4", default);
        var stat = await Storage.StatAsync("range/seg.m4s", default);

        await using var read = await Storage.OpenReadAsync("range/seg.m4s", offset, length < 0 ? null : length, default);
        Assert.NotNull(read);
        Assert.Equal(body.AsSpan(expectedStart, expectedLength).ToArray(), await ReadAllAsync(read.Content));
        Assert.Equal(1000, read.Info.Length);
        Assert.Equal("video/mp4", read.Info.ContentType);
        Assert.Equal(stat!.ETag, read.Info.ETag);
    }

    [Fact]
    public async Task An_empty_object_reads_as_empty()
    {
        await Storage.PutAsync("empty/e.json", ReadOnlyMemory<byte>.Empty, "application/json", default);
        Assert.Equal(0, (await Storage.StatAsync("empty/e.json", default))!.Length);
        await using (var read = await Storage.OpenReadAsync("empty/e.json", 0, null, default))
        {
            Assert.Empty(await ReadAllAsync(read!.Content));
            Assert.Equal(0, read.Info.Length);
        }

        var got = await Storage.GetAsync("empty/e.json", default);
        Assert.Empty(await ReadAllAsync(got!.Value.Content));
    }

    [Fact]
    public async Task A_missing_key_is_null_everywhere()
    {
        Assert.Null(await Storage.GetAsync("missing/nothing.mp4", default));
        Assert.Null(await Storage.StatAsync("missing/nothing.mp4", default));
        Assert.Null(await Storage.OpenReadAsync("missing/nothing.mp4", 0, null, default));
        Assert.Null(await Storage.OpenReadAsync("missing/nothing.mp4", 10, 20, default));
        Assert.Null(await Storage.OpenReadAsync("missing/nothing.mp4", 0, 0, default));
    }

    [Fact]
    public async Task Put_replaces_an_existing_object()
    {
        await Storage.PutAsync("replace/x.m4s", Bytes(500, 8), "video/mp4", default);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, Bytes(300, 9));
            await Storage.PutFileAsync("replace/x.m4s", file, "video/mp4", default);
        }
        finally
        {
            File.Delete(file);
        }

        var got = await Storage.GetAsync("replace/x.m4s", default);
        Assert.Equal(Bytes(300, 9), await ReadAllAsync(got!.Value.Content));
        Assert.Equal(300, (await Storage.StatAsync("replace/x.m4s", default))!.Length);
    }

    [Fact]
    public async Task Delete_removes_one_object_and_is_idempotent()
    {
        await Storage.PutAsync("del/a.jpg", Bytes(10, 10), "image/jpeg", default);
        await Storage.PutAsync("del/b.jpg", Bytes(10, 11), "image/jpeg", default);

        await Storage.DeleteAsync("del/a.jpg", default);
        Assert.Null(await Storage.StatAsync("del/a.jpg", default));
        Assert.NotNull(await Storage.StatAsync("del/b.jpg", default));

        await Storage.DeleteAsync("del/a.jpg", default);
        await Storage.DeleteAsync("never/was/here.jpg", default);
    }

    [Fact]
    public async Task DeletePrefix_removes_that_prefix_only()
    {
        string[] doomed = ["dp/v1/master.m3u8", "dp/v1/720p/video_1.m4s", "dp/v1/720p/deeper/x.m4s"];
        string[] kept = ["dp/v10/master.m3u8", "dp/v1.m3u8", "dp/v2/master.m3u8", "other/v1/master.m3u8"];
        foreach (var key in doomed.Concat(kept))
        {
            await Storage.PutAsync(key, Bytes(20, 12), MediaContentTypes.Of(key), default);
        }

        await Storage.DeletePrefixAsync("dp/v1", default);

        foreach (var key in doomed)
        {
            Assert.Null(await Storage.StatAsync(key, default));
        }

        foreach (var key in kept)
        {
            Assert.True(await Storage.StatAsync(key, default) is not null, key + " was deleted with dp/v1");
        }

        // Nothing there: nothing to do.
        await Storage.DeletePrefixAsync("dp/never", default);
    }

    [Fact]
    public async Task DeletePrefix_removes_more_objects_than_one_delete_batch()
    {
        const int count = 1003;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await Storage.PutAsync($"many/seg_{i:D4}.m4s", Bytes(8, i), "video/mp4", ct));
        await Storage.PutAsync("many-sibling/keep.m4s", Bytes(8, 1), "video/mp4", default);

        await Storage.DeletePrefixAsync("many", default);

        foreach (var i in new[] { 0, 1, 500, 999, 1000, 1001, 1002 })
        {
            Assert.Null(await Storage.StatAsync($"many/seg_{i:D4}.m4s", default));
        }

        Assert.NotNull(await Storage.StatAsync("many-sibling/keep.m4s", default));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("trailing/")]
    [InlineData("a//b")]
    [InlineData("../up")]
    [InlineData("a/../../b")]
    [InlineData(".hidden")]
    [InlineData("a/.git/config")]
    [InlineData("sp ace")]
    [InlineData("back\\slash")]
    [InlineData("q?x=1")]
    [InlineData("pct%2e%2e")]
    [InlineData("uni\u00e9")]
    [InlineData("x.type")]
    public async Task Unsafe_keys_are_refused_by_every_operation(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.PutAsync(key, Bytes(1, 1), "video/mp4", default));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.PutFileAsync(key, "/dev/null", "video/mp4", default));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.GetAsync(key, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.StatAsync(key, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.OpenReadAsync(key, 0, null, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.DeleteAsync(key, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.DeletePrefixAsync(key, default));
    }

    internal static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }
}

public sealed class LocalStorageFixture : IDisposable
{
    public string DataDir { get; } = Directory.CreateTempSubdirectory("sv-blobs-").FullName;

    internal LocalBlobStorage Storage => new(Options.Create(new ControlPlaneOptions { DataPath = DataDir }));

    public void Dispose() => Directory.Delete(DataDir, recursive: true);
}

public sealed class LocalBlobStorageTests(LocalStorageFixture fixture) : BlobStorageContract, IClassFixture<LocalStorageFixture>
{
    internal override IBlobStorage Storage { get; } = fixture.Storage;

    [Fact]
    public async Task Objects_are_files_under_data_blobs_for_sendfile()
    {
        await Storage.PutAsync("local/v/seg.m4s", Bytes(100, 1), "video/mp4", default);
        var path = Storage.LocalPathOf("local/v/seg.m4s");
        Assert.Equal(Path.Combine(fixture.DataDir, "blobs", "local", "v", "seg.m4s"), path);
        Assert.Equal(Bytes(100, 1), await File.ReadAllBytesAsync(path!));
    }
}

/// <summary>A fresh bucket (and a prefix, so keys are not at the bucket's root) per test class; every request the client sends is recorded.</summary>
public sealed class S3StorageFixture : IAsyncLifetime
{
    public string Bucket { get; } = TestS3.NewBucketName();

    public string Prefix { get; } = "deploy-" + Guid.NewGuid().ToString("N")[..8] + "/blobs";

    internal AmazonS3Client Client { get; private set; } = null!;

    internal S3BlobStorage Storage { get; private set; } = null!;

    /// <summary>The SDK request type of every request sent, e.g. UploadPartRequest.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public async Task InitializeAsync()
    {
        await TestS3.CreateBucketAsync(Bucket);
        var options = TestS3.Options(Bucket, Prefix);
        Client = S3BlobStorage.CreateClient(options);
        Client.BeforeRequestEvent += (_, e) =>
        {
            if (e is Amazon.Runtime.WebServiceRequestEventArgs request)
            {
                Requests.Enqueue(request.Request.GetType().Name);
            }
        };
        Storage = new S3BlobStorage(Client, ownsClient: false, options, NullLogger<S3BlobStorage>.Instance);
    }

    public async Task DisposeAsync()
    {
        // Nothing to clean up when the server was not there (InitializeAsync already failed with why).
        if (Storage is not null)
        {
            Client.Dispose();
            await TestS3.DeleteBucketAsync(Bucket);
        }
    }
}

public sealed class S3BlobStorageTests(S3StorageFixture fixture) : BlobStorageContract, IClassFixture<S3StorageFixture>
{
    internal override IBlobStorage Storage => fixture.Storage;

    [Fact]
    public async Task Objects_live_under_the_configured_prefix_and_have_no_local_path()
    {
        await Storage.PutAsync("pfx/a.m4s", Bytes(10, 1), "video/mp4", default);
        var head = await fixture.Client.GetObjectMetadataAsync(fixture.Bucket, fixture.Prefix + "/pfx/a.m4s");
        Assert.Equal(10, head.ContentLength);
        Assert.Equal("video/mp4", head.Headers.ContentType);
        Assert.Null(Storage.LocalPathOf("pfx/a.m4s"));
    }

    [Fact]
    public async Task A_file_above_the_threshold_is_uploaded_in_parts_and_a_small_one_in_one_put()
    {
        var file = Path.Combine(Path.GetTempPath(), "sv-blob-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(LargeFileBytes));
            fixture.Requests.Clear();
            await Storage.PutFileAsync("parts/big.m4s", file, "video/mp4", default);
            var sent = fixture.Requests.ToArray();

            // 20 MiB + 12345 bytes in 8 MiB parts: 3 parts, one initiate, one complete, no single PUT.
            Assert.Equal(3, sent.Count(r => r == nameof(UploadPartRequest)));
            Assert.Single(sent, nameof(InitiateMultipartUploadRequest));
            Assert.Single(sent, nameof(CompleteMultipartUploadRequest));
            Assert.DoesNotContain(nameof(PutObjectRequest), sent);

            await File.WriteAllBytesAsync(file, Bytes(1024, 3));
            fixture.Requests.Clear();
            await Storage.PutFileAsync("parts/small.m4s", file, "video/mp4", default);
            Assert.Equal([nameof(PutObjectRequest)], fixture.Requests.ToArray());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task DeletePrefix_leaves_another_deployments_prefix_in_the_same_bucket_alone()
    {
        using var otherClient = TestS3.Client();
        var other = new S3BlobStorage(otherClient, ownsClient: false, TestS3.Options(fixture.Bucket, "other-deployment"), NullLogger<S3BlobStorage>.Instance);
        await other.PutAsync("shared/name.m4s", Bytes(10, 1), "video/mp4", default);
        await Storage.PutAsync("shared/name.m4s", Bytes(10, 2), "video/mp4", default);

        await Storage.DeletePrefixAsync("shared", default);

        Assert.Null(await Storage.StatAsync("shared/name.m4s", default));
        var kept = await other.GetAsync("shared/name.m4s", default);
        Assert.Equal(Bytes(10, 1), await ReadAllAsync(kept!.Value.Content));
        await other.DeleteAsync("shared/name.m4s", default);
    }

    [Fact]
    public async Task A_missing_bucket_is_an_error_not_a_missing_object()
    {
        using var client = TestS3.Client();
        var lost = new S3BlobStorage(client, ownsClient: false, TestS3.Options(TestS3.NewBucketName(), null), NullLogger<S3BlobStorage>.Instance);
        var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => lost.GetAsync("a.m4s", default));
        Assert.Equal("NoSuchBucket", e.ErrorCode);
        await Assert.ThrowsAsync<AmazonS3Exception>(() => lost.OpenReadAsync("a.m4s", 0, 10, default));
    }
}
