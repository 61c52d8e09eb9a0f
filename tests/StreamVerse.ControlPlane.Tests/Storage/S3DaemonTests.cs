using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests.Storage;

/// <summary>The daemon configured with <c>StreamVerse:Storage:Backend=s3</c>, its bucket created at start (<c>CreateBucket</c>).</summary>
public sealed class S3StorageApp : ControlPlaneApp
{
    public const string Prefix = "streamverse";

    public string Bucket { get; } = TestS3.NewBucketName();

    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:Storage:Backend", "s3",
        "--StreamVerse:Storage:Bucket", Bucket,
        "--StreamVerse:Storage:Prefix", Prefix,
        "--StreamVerse:Storage:ServiceUrl", TestS3.Endpoint,
        "--StreamVerse:Storage:ForcePathStyle", "true",
        "--StreamVerse:Storage:AccessKeyId", TestS3.AccessKey,
        "--StreamVerse:Storage:SecretAccessKey", TestS3.SecretKey,
        "--StreamVerse:Storage:CreateBucket", "true",
    ];
}

/// <summary>Owns the daemon and removes its bucket afterwards.</summary>
public sealed class S3DaemonFixture : IAsyncLifetime
{
    private bool _started;

    public S3StorageApp App { get; } = new();

    public async Task InitializeAsync()
    {
        try
        {
            await App.InitializeAsync();
            _started = true;
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"The daemon with S3 storage did not start (is s3rver running at {TestS3.Endpoint}? ./setup.sh deps starts it): {e.Message}", e);
        }
    }

    public async Task DisposeAsync()
    {
        // When the start failed (no s3rver) there is no client or bucket to clean up, and the failure says why.
        if (_started)
        {
            await App.DisposeAsync();
            await TestS3.DeleteBucketAsync(App.Bucket);
        }
    }
}

public sealed class S3DaemonTests(S3DaemonFixture fixture) : IClassFixture<S3DaemonFixture>
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    private S3StorageApp App => fixture.App;

    [Fact]
    public void The_daemon_uses_the_S3_backend()
    {
        var storage = App.Get<IBlobStorage>();
        Assert.IsType<S3BlobStorage>(storage);
        Assert.Equal(App.Bucket, App.Get<IOptions<StorageOptions>>().Value.Bucket);
    }

    [Fact]
    public async Task Avatars_are_stored_in_and_served_from_the_bucket()
    {
        using var s3 = TestS3.Client();
        var user = await App.NewUserAsync();
        var avatars = S3StorageApp.Prefix + "/avatars/" + user.Id;

        using (var r = await App.SendAsync(HttpMethod.Put, "api/v1/me/avatar", user.AccessToken, content: Image(Png, "image/png")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var stored = Assert.Single(await TestS3.ListAsync(s3, App.Bucket, avatars));
        Assert.False(Directory.Exists(Path.Combine(App.DataDir, "blobs")), "an avatar reached DATA/blobs with the s3 backend");
        var first = await AvatarAsync(user.Id);

        // A new avatar replaces the object; the old one is deleted from the bucket.
        using (var r = await App.SendAsync(HttpMethod.Put, "api/v1/me/avatar", user.AccessToken, content: Image(Png, "image/png")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var replaced = Assert.Single(await TestS3.ListAsync(s3, App.Bucket, avatars));
        Assert.NotEqual(stored, replaced);
        Assert.Equal(first, await AvatarAsync(user.Id)); // the same picture, re-encoded the same way, under the new key

        using (var r = await App.SendAsync(HttpMethod.Delete, "api/v1/me/avatar", user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Empty(await TestS3.ListAsync(s3, App.Bucket, avatars));
        using var gone = await App.SendAsync(HttpMethod.Get, $"api/v1/users/{user.Id}/avatar");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>The served avatar: the uploaded picture as MediaCore re-encoded it (a JPEG, whatever was sent; see "Pictures").</summary>
    private async Task<byte[]> AvatarAsync(string userId)
    {
        using var r = await App.SendAsync(HttpMethod.Get, $"api/v1/users/{userId}/avatar");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("image/jpeg", r.Content.Headers.ContentType?.MediaType);
        var bytes = await r.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xFF, 0xD8, 0xFF], bytes[..3]);
        return bytes;
    }

    private static ByteArrayContent Image(byte[] bytes, string type)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new(type);
        return content;
    }
}

/// <summary>Bad storage configuration stops the daemon with a message naming the key, and never the secret.</summary>
public sealed class StorageConfigurationTests
{
    [Theory]
    [InlineData("Backend=ftp", "StreamVerse:Storage:Backend")]
    [InlineData("Backend=s3", "StreamVerse:Storage:Bucket is required")]
    [InlineData("Backend=s3;Bucket=Not_A_Bucket", "StreamVerse:Storage:Bucket must")]
    [InlineData("Backend=s3;Bucket=ok-bucket;Prefix=../escape", "StreamVerse:Storage:Prefix")]
    [InlineData("Backend=s3;Bucket=ok-bucket;ServiceUrl=localhost:9000", "StreamVerse:Storage:ServiceUrl")]
    [InlineData("Backend=s3;Bucket=ok-bucket;ServiceUrl=http://user:pw@127.0.0.1:9000", "StreamVerse:Storage:ServiceUrl")]
    [InlineData("Backend=s3;Bucket=ok-bucket;Region=US East", "StreamVerse:Storage:Region")]
    [InlineData("Backend=s3;Bucket=ok-bucket;SecretAccessKey=hunter2-secret", "StreamVerse:Storage:AccessKeyId")]
    [InlineData("Backend=s3;Bucket=ok-bucket;MultipartPartBytes=1024", "StreamVerse:Storage:MultipartPartBytes")]
    public async Task Refused_at_start(string settings, string named)
    {
        var data = Directory.CreateTempSubdirectory("sv-cfg-").FullName;
        try
        {
            var args = new List<string> { "--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0" };
            foreach (var pair in settings.Split(';'))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                args.AddRange(["--StreamVerse:Storage:" + pair[..eq], pair[(eq + 1)..]]);
            }

            var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = OriginHost.Build([.. args]);
                await app.StartAsync();
            });
            var message = string.Join(" ", e.Failures);
            Assert.Contains(named, message);
            Assert.DoesNotContain("hunter2", message);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
