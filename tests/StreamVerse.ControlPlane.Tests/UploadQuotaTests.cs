using System.Globalization;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Two unfinished uploads and 1000 bytes a day per account (issue 21's quotas).</summary>
public abstract class QuotaUploadsApp : UploadsApp
{
    protected override IEnumerable<string> UploadArgs =>
        ["--StreamVerse:ControlPlane:Uploads:MaxConcurrentPerAccount", "2", "--StreamVerse:ControlPlane:Uploads:MaxBytesPerDay", "1000"];
}

public sealed class QuotaUploadsSqliteApp : QuotaUploadsApp
{
    public override string Provider => "sqlite";
}

public sealed class QuotaUploadsPostgresApp : QuotaUploadsApp
{
    public override string Provider => "postgres";
}

/// <summary>Upload quotas per account, over tus and the single-request PUT alike, on both engines.</summary>
public abstract class UploadQuotaTests(UploadsApp app)
{
    private async Task<(Persona Owner, string VideoId)> OwnerWithVideoAsync()
    {
        var owner = await app.NewUserAsync("creator");
        return (owner, (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!);
    }

    private async Task<HttpResponseMessage> TusCreateAsync(Persona owner, string videoId, long length) =>
        await UploadTests.SendTusAsync(app, HttpMethod.Post, "api/v1/uploads", owner, null, "1.0.0",
            ("Upload-Length", length.ToString(CultureInfo.InvariantCulture)), ("Upload-Metadata", UploadTests.Meta(("videoId", videoId))));

    private async Task<HttpResponseMessage> PutAsync(Persona owner, string videoId, int length) =>
        await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{videoId}/source", owner.AccessToken, content: new ByteArrayContent(new byte[length]));

    private static async Task AssertQuotaAsync(HttpResponseMessage r, string says)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
        Assert.True(int.Parse(r.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) >= 1);
        Assert.Contains(says, await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_third_unfinished_upload_is_refused_over_tus_and_put_until_one_finishes()
    {
        var (owner, video) = await OwnerWithVideoAsync();
        var first = await UploadTests.CreateAsync(app, owner, video, 10);
        await UploadTests.CreateAsync(app, owner, video, 10);
        using (var third = await TusCreateAsync(owner, video, 10))
        {
            await AssertQuotaAsync(third, "unfinished uploads");
        }

        using (var put = await PutAsync(owner, video, 10))
        {
            await AssertQuotaAsync(put, "unfinished uploads");
        }

        // Another account, and an admin, are not held by this one's count.
        var (other, otherVideo) = await OwnerWithVideoAsync();
        await UploadTests.CreateAsync(app, other, otherVideo, 10);
        using (var admin = await TusCreateAsync(await app.AdminAsync(), video, 10))
        {
            Assert.Equal(HttpStatusCode.Created, admin.StatusCode);
        }

        // Finishing one makes room.
        using (var patch = await UploadTests.SendTusAsync(app, HttpMethod.Patch, first, owner, UploadTests.Chunk(new byte[10]), "1.0.0", ("Upload-Offset", "0")))
        {
            Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
        }

        await UploadTests.CreateAsync(app, owner, video, 10);
    }

    [Fact]
    public async Task Bytes_started_in_24_hours_are_capped_with_a_retry_after()
    {
        var (owner, video) = await OwnerWithVideoAsync();
        await UploadTests.CreateAsync(app, owner, video, 600);
        using (var over = await TusCreateAsync(owner, video, 401))
        {
            await AssertQuotaAsync(over, "600 are used");
        }

        using (var put = await PutAsync(owner, video, 401))
        {
            await AssertQuotaAsync(put, "at most 1000 bytes in 24 hours");
        }

        await UploadTests.CreateAsync(app, owner, video, 400); // exactly the rest fits

        // A day later the window has moved on.
        await using (var db = await app.Get<StreamVerse.ControlPlane.Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE upload_usage SET created_at = @t WHERE owner_id = @o", [("t", DateTimeOffset.UtcNow.AddHours(-25)), ("o", owner.Id)], default);
            await db.ExecAsync("UPDATE uploads SET completed_at = @t WHERE owner_id = @o", [("t", DateTimeOffset.UtcNow), ("o", owner.Id)], default);
        }

        await UploadTests.CreateAsync(app, owner, video, 1000);
    }
}

public sealed class UploadQuotaTestsSqlite(QuotaUploadsSqliteApp app) : UploadQuotaTests(app), IClassFixture<QuotaUploadsSqliteApp>;

public sealed class UploadQuotaTestsPostgres(QuotaUploadsPostgresApp app) : UploadQuotaTests(app), IClassFixture<QuotaUploadsPostgresApp>;
