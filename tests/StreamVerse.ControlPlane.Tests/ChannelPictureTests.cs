using System.Globalization;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Channel avatar and banner (issue 16): uploaded, decoded and re-encoded by MediaCore, served with cache headers, deleted.</summary>
public abstract class ChannelPictureTests(ControlPlaneApp app)
{
    /// <summary>Pictures made once by the ffmpeg CLI (not our code): 640x360 test patterns and a 5000x8 strip.</summary>
    internal static class Pictures
    {
        private static readonly Lazy<string> Dir = new(() =>
        {
            var dir = Directory.CreateTempSubdirectory("sv-pictures-").FullName;
            foreach (var (name, size) in new[] { ("pattern.png", "640x360"), ("pattern.jpg", "640x360"), ("pattern.webp", "640x360"), ("strip.png", "5000x8") })
            {
                var r = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffmpeg", "-v", "error", "-f", "lavfi", "-i", $"testsrc2=size={size}:rate=1", "-frames:v", "1", Path.Combine(dir, name));
                Assert.True(r.ExitCode == 0, r.StdErr);
            }

            return dir;
        });

        public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Dir.Value, name));

        /// <summary>ffprobe's codec, width and height of a picture.</summary>
        public static (string Codec, int Width, int Height) Probe(byte[] picture)
        {
            var path = Path.Combine(Dir.Value, Guid.NewGuid().ToString("N") + ".bin");
            File.WriteAllBytes(path, picture);
            var r = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", path);
            File.Delete(path);
            Assert.True(r.ExitCode == 0, r.StdErr);
            var parts = r.StdOut.Trim().Split(',');
            return (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
        }
    }

    private async Task<HttpResponseMessage> PutAsync(string path, Persona who, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        return await app.SendAsync(HttpMethod.Put, path, who.AccessToken, content: content);
    }

    private string Blobs(string owner, string channel) => Path.Combine(app.DataDir, "blobs", "channel-images", owner, channel);

    [Fact]
    public async Task Avatar_and_banner_are_reencoded_served_with_cache_headers_and_deleted()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);

        // A PNG avatar with bytes after its end (a polyglot's payload) comes back as a JPEG of our own, at most 512 wide.
        var png = Pictures.Read("pattern.png").Concat("<script>alert(1)</script>"u8.ToArray()).ToArray();
        using (var r = await PutAsync($"api/v1/channels/{channel}/avatar", owner, png))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var resource = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}");
        var avatarUrl = resource.GetProperty("avatarUrl").GetString()!;
        Assert.StartsWith($"/api/v1/channels/{channel}/avatar?v=", avatarUrl, StringComparison.Ordinal);
        using (var get = await app.Http.GetAsync(avatarUrl.TrimStart('/')))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("image/jpeg", get.Content.Headers.ContentType?.MediaType);
            Assert.Equal("public, max-age=31536000, immutable", get.Headers.CacheControl?.ToString());
            Assert.Equal("nosniff", get.Headers.GetValues("X-Content-Type-Options").Single());
            var bytes = await get.Content.ReadAsByteArrayAsync();
            Assert.Equal(("mjpeg", 512, 288), Pictures.Probe(bytes));
            Assert.DoesNotContain("<script>", System.Text.Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }

        // The URL without the version names whatever is current: cached briefly only.
        using (var unversioned = await app.Http.GetAsync($"api/v1/channels/{channel}/avatar"))
        {
            Assert.Equal("public, max-age=300", unversioned.Headers.CacheControl?.ToString());
        }

        // A WebP banner is not enlarged; a JPEG one replaces it, and the replaced blob goes.
        using (var r = await PutAsync($"api/v1/channels/{channel}/banner", owner, Pictures.Read("pattern.webp")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using (var r = await PutAsync($"api/v1/channels/{channel}/banner", owner, Pictures.Read("pattern.jpg")))
        {
            var updated = await r.Content.ReadFromJsonAsync<JsonElement>();
            var bannerUrl = updated.GetProperty("bannerUrl").GetString()!;
            Assert.Equal(("mjpeg", 640, 360), Pictures.Probe(await app.Http.GetByteArrayAsync(bannerUrl.TrimStart('/'))));
        }

        Assert.Equal(2, Directory.GetFiles(Blobs(owner.Id, channel)).Count(f => !f.EndsWith(".type", StringComparison.Ordinal)));

        // Another account may not change them; the owner removes one.
        var other = await app.NewUserAsync();
        using (var r = await PutAsync($"api/v1/channels/{channel}/avatar", other, Pictures.Read("pattern.png")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/avatar", other.AccessToken, expect: HttpStatusCode.Forbidden);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/avatar", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("avatarUrl").ValueKind);
        await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/avatar", expect: HttpStatusCode.NotFound);

        // Deleting the channel deletes its pictures.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}", owner.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.False(Directory.Exists(Blobs(owner.Id, channel)) && Directory.EnumerateFiles(Blobs(owner.Id, channel)).Any());
    }

    [Fact]
    public async Task Pictures_that_are_not_images_too_large_or_undecodable_are_refused_with_a_reason()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var cases = new (byte[] Body, HttpStatusCode Status, string Says)[]
        {
            ("<svg onload=alert(1)>"u8.ToArray(), HttpStatusCode.UnsupportedMediaType, "PNG, JPEG or WebP"),
            (Pictures.Read("strip.png"), HttpStatusCode.UnprocessableEntity, "5000x8 pixels"),
            (Pictures.Read("pattern.png")[..64], HttpStatusCode.UnprocessableEntity, "could not be used"),
        };
        foreach (var (body, status, says) in cases)
        {
            using var r = await PutAsync($"api/v1/channels/{channel}/banner", owner, body);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == status, $"{(int)r.StatusCode}: {text}");
            Assert.Contains(says, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!, StringComparison.Ordinal);
        }

        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("bannerUrl").ValueKind);
    }

    [Fact]
    public async Task Deleting_the_account_deletes_its_channels_pictures()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        using (var r = await PutAsync($"api/v1/channels/{channel}/banner", owner, Pictures.Read("pattern.jpg")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.NotEmpty(Directory.GetFiles(Blobs(owner.Id, channel)));
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", owner.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);
        Assert.False(Directory.Exists(Blobs(owner.Id, channel)) && Directory.EnumerateFiles(Blobs(owner.Id, channel)).Any());
    }
}

[Collection("sqlite")]
public sealed class ChannelPictureTestsSqlite(SqliteApp app) : ChannelPictureTests(app);

[Collection("postgres")]
public sealed class ChannelPictureTestsPostgres(PostgresApp app) : ChannelPictureTests(app);
