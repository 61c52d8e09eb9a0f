using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Tests.Shared;

namespace StreamVerse.Functional.Tests.Infrastructure;

/// <summary>
/// A VOD presentation published on a real origin daemon the way the job runner publishes one: MediaCore's ladder output
/// under the local blob store's <c>DATA/blobs/vod/{id}/{version}</c> and <c>videos.vod_prefix</c> set in the embedded database.
/// </summary>
public static class VodPresentations
{
    public const string AdminEmail = "vod-admin@test.invalid";
    public const string Password = "correct horse battery staple";

    /// <summary>Origin flags these helpers need: the bootstrap admin that creates the videos.</summary>
    public static readonly string[] OriginArgs = ["--StreamVerse:ControlPlane:BootstrapAdminEmail", AdminEmail];

    /// <summary>A 5 s 640x360 clip with a tone, transcoded once per test run (rungs 360p and 240p, 2 s segments).</summary>
    public static readonly Lazy<Task<string>> Ladder = new(async () =>
    {
        var root = Directory.CreateTempSubdirectory("sv-vod-ladder-").FullName;
        var source = Path.Combine(root, "src.mp4");
        var made = TestProcesses.Run(TimeSpan.FromSeconds(120), "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", source);
        Assert.True(made.ExitCode == 0, made.StdErr);
        var output = Path.Combine(root, "ladder");
        await new Transcoder().TranscodeAsync(source, output, new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(2), Preset = "ultrafast" }, null, CancellationToken.None);
        return output;
    });

    /// <summary>Creates a video of <paramref name="visibility"/> on <paramref name="origin"/>, stores the ladder as version v1 and publishes it; returns the id and an admin access token.</summary>
    public static async Task<(string Id, string AccessToken)> PublishAsync(Daemon origin, string visibility = "public")
    {
        var ladder = await Ladder.Value;
        using (var register = await origin.Http.PostAsJsonAsync("api/v1/auth/register", new { email = AdminEmail, password = Password, handle = "vodadmin" }))
        {
            // 202 the first time; the account may exist from an earlier call on this origin.
            Assert.True(register.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict or HttpStatusCode.BadRequest, await register.Content.ReadAsStringAsync());
        }

        var token = (await JsonAsync(origin, HttpMethod.Post, "api/v1/auth/login", null, new { email = AdminEmail, password = Password })).GetProperty("accessToken").GetString()!;
        var channel = (await JsonAsync(origin, HttpMethod.Post, "api/v1/channels", token, new { name = "vod " + Guid.NewGuid().ToString("N")[..6] })).GetProperty("id").GetString()!;
        var id = (await JsonAsync(origin, HttpMethod.Post, "api/v1/videos", token, new { channelId = channel, title = "vod", visibility })).GetProperty("id").GetString()!;

        var folder = Path.Combine(origin.DataDir, "blobs", "vod", id, "v1");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(ladder))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        await using (var db = new SqliteConnection($"Data Source={Path.Combine(origin.DataDir, "controlplane.db")}"))
        {
            await db.OpenAsync();
            await using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE videos SET vod_prefix = $p, status = 'ready' WHERE id = $id";
            cmd.Parameters.AddWithValue("$p", $"vod/{id}/v1");
            cmd.Parameters.AddWithValue("$id", id);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }

        return (id, token);
    }

    /// <summary>Every file of the presentation, as <c>v1/{name}</c>.</summary>
    public static async Task<string[]> FilesAsync() =>
        [.. Directory.EnumerateFiles(await Ladder.Value).Select(f => "v1/" + Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    public static async Task<JsonElement> JsonAsync(Daemon daemon, HttpMethod method, string path, string? token, object? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await daemon.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
