using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Custom video thumbnails (issue 16): an uploaded picture, re-encoded by MediaCore, served like the poster; back to automatic.</summary>
public abstract class ThumbnailTests(ControlPlaneApp app)
{
    [Fact]
    public async Task An_uploaded_thumbnail_replaces_the_poster_under_the_videos_playback_rules_until_removed()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var id = (await app.NewVideoAsync(owner, channel, "public", playable: true)).GetProperty("id").GetString()!;

        using var content = new ByteArrayContent(ChannelPictureTests.Pictures.Read("pattern.webp"));
        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{id}/thumbnail", owner.AccessToken, content: content))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var video = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}");
        var url = video.GetProperty("thumbnailUrl").GetString()!;
        Assert.Matches($"^/vod/{id}/custom/thumbnail-[A-Za-z0-9_-]+\\.jpg$", url);
        using (var get = await app.Http.GetAsync(url.TrimStart('/')))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("image/jpeg", get.Content.Headers.ContentType?.MediaType);
            Assert.Equal(("mjpeg", 640, 360), ChannelPictureTests.Pictures.Probe(await get.Content.ReadAsByteArrayAsync()));
        }

        // Private: the owner reads it under a token of their own; without one it is refused.
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{id}", owner.AccessToken, new { visibility = "private" });
        var mine = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken);
        var tokenised = mine.GetProperty("thumbnailUrl").GetString()!;
        Assert.StartsWith("/vod/t/", tokenised, StringComparison.Ordinal);
        Assert.EndsWith(url["/vod/".Length..], tokenised, StringComparison.Ordinal);
        using (var get = await app.Http.GetAsync(tokenised.TrimStart('/')))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        using (var get = await app.Http.GetAsync(url.TrimStart('/')))
        {
            Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        }

        // Someone else's private video does not exist for them; an external URL is never a thumbnail.
        var other = await app.NewUserAsync();
        using (var again = new ByteArrayContent(ChannelPictureTests.Pictures.Read("pattern.png")))
        using (var r = await app.SendAsync(HttpMethod.Put, $"api/v1/videos/{id}/thumbnail", other.AccessToken, content: again))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{id}", owner.AccessToken, new { thumbnailUrl = "https://evil.test.invalid/t.jpg" }, HttpStatusCode.BadRequest);

        // Back to the automatic thumbnail: what the transcode made (here none), and the picture is gone.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{id}/thumbnail", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("thumbnailUrl").ValueKind);
        Assert.Empty(Directory.GetFiles(Path.Combine(app.DataDir, "blobs", "vod", id, "custom")));
    }
}

[Collection("sqlite")]
public sealed class ThumbnailTestsSqlite(SqliteApp app) : ThumbnailTests(app);

[Collection("postgres")]
public sealed class ThumbnailTestsPostgres(PostgresApp app) : ThumbnailTests(app);

/// <summary>A frame chosen as the thumbnail, from a real transcode (SQLite only, like <see cref="JobTranscodeTests"/>).</summary>
[Collection("jobs-sqlite")]
public sealed class ThumbnailFrameTests(JobsSqliteApp app)
{
    /// <summary>Two seconds of red, then two of blue, 160x120.</summary>
    private static string RedThenBlue() => Clips.Make("red-then-blue.mp4",
        "-f", "lavfi", "-i", "color=c=red:s=160x120:r=25:d=2", "-f", "lavfi", "-i", "color=c=blue:s=160x120:r=25:d=2",
        "-filter_complex", "[0][1]concat=n=2:v=1:a=0", "-c:v", "libx264", "-preset", "ultrafast");

    /// <summary>The picture's average colour (ffmpeg scales it to one pixel).</summary>
    private static (int R, int G, int B) Colour(byte[] jpeg)
    {
        var path = Path.Combine(Clips.Root, Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path + ".jpg", jpeg);
        var r = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffmpeg", "-v", "error", "-i", path + ".jpg", "-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt", "rgb24", path + ".rgb");
        Assert.True(r.ExitCode == 0, r.StdErr);
        var bytes = File.ReadAllBytes(path + ".rgb");
        File.Delete(path + ".jpg");
        File.Delete(path + ".rgb");
        return (bytes[0], bytes[1], bytes[2]);
    }

    private async Task<(int R, int G, int B)> FrameAsync(string id, Persona owner, double at)
    {
        var video = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{id}/thumbnail/frame", owner.AccessToken, new { atSeconds = at });
        var url = video.GetProperty("thumbnailUrl").GetString()!;
        Assert.Contains("/custom/thumbnail-", url, StringComparison.Ordinal);
        return Colour(await app.Http.GetByteArrayAsync(url.TrimStart('/')));
    }

    [Fact]
    public async Task The_frame_at_the_chosen_time_becomes_the_thumbnail()
    {
        var (id, _, _, owner) = await app.EnqueueAsync(RedThenBlue());
        var ready = await app.WaitForAsync(id, owner, ["ready"]);
        var poster = ready.GetProperty("thumbnailUrl").GetString();

        var blue = await FrameAsync(id, owner, 3.0);
        Assert.True(blue.B > 150 && blue.R < 80, $"at 3 s: {blue}");
        var red = await FrameAsync(id, owner, 0.5);
        Assert.True(red.R > 150 && red.B < 80, $"at 0.5 s: {red}");
        Assert.Single(Directory.GetFiles(app.LocalBlob($"vod/{id}/custom")), f => f.EndsWith(".jpg", StringComparison.Ordinal));

        var late = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{id}/thumbnail/frame", owner.AccessToken, new { atSeconds = 99 }, HttpStatusCode.BadRequest);
        Assert.Contains("duration", late.GetProperty("errors").GetProperty("atSeconds")[0].GetString()!, StringComparison.Ordinal);
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{id}/thumbnail/frame", owner.AccessToken, new { }, HttpStatusCode.BadRequest);

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{id}/thumbnail", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(poster, (await app.VideoAsync(id, owner)).GetProperty("thumbnailUrl").GetString());
    }
}
