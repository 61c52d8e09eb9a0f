using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Tests.Storage;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// The real daemon process with <c>--log-format json</c> and every category at Debug, through a whole run that handles
/// every kind of secret: a login (password, tokens), a publish with a control-plane stream key and one with a static
/// key, a private stream played with a playback token, blobs on S3 (its secret key), mail (the SMTP password), a signing
/// key. Every line is one JSON object; none contains any of those secrets (issue 24, "Logs, traces, metrics").
/// </summary>
public sealed class JsonLogTests
{
    private const string StaticStreamKey = "static-publish-key-Qm4Zx7Lw";
    private const string JwtKey = "c2lnbmluZy1rZXktZm9yLWxvZy10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVm";

    [Fact]
    public async Task A_whole_run_logs_one_json_object_per_line_and_no_secret()
    {
        var data = Directory.CreateTempSubdirectory("sv-log-").FullName;
        var http = FreePort();
        var rtmp = FreePort();
        var bucket = TestS3.NewBucketName();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "StreamVerse.Origin.dll"),
            "--data", data, "--http", $"127.0.0.1:{http}", "--rtmp", $"127.0.0.1:{rtmp}", "--log-format", "json",
            "--Logging:LogLevel:Default", "Debug", "--Logging:LogLevel:Microsoft", "Debug", "--Logging:LogLevel:Microsoft.AspNetCore", "Debug",
            "--stream", "static=" + StaticStreamKey,
            "--StreamVerse:ControlPlane:Jwt:SigningKey", JwtKey,
            "--StreamVerse:ControlPlane:Mail:RequireVerifiedEmailToPublish", "false",
            "--StreamVerse:Storage:Backend", "s3", "--StreamVerse:Storage:Bucket", bucket, "--StreamVerse:Storage:ServiceUrl", TestS3.Endpoint,
            "--StreamVerse:Storage:ForcePathStyle", "true", "--StreamVerse:Storage:AccessKeyId", TestS3.AccessKey,
            "--StreamVerse:Storage:SecretAccessKey", TestS3.SecretKey, "--StreamVerse:Storage:CreateBucket", "true",
        }.Concat(TestSmtpServer.DaemonArgs()))
        {
            psi.ArgumentList.Add(a);
        }

        var output = new StringBuilder();
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { lock (output) { if (e.Data is not null) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { lock (output) { if (e.Data is not null) { output.AppendLine("STDERR " + e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Output() { lock (output) { return output.ToString(); } }

        var secrets = new List<string> { StaticStreamKey, JwtKey, TestS3.SecretKey, "smtp-test-password", ControlPlaneApp.Password };
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/"), Timeout = TimeSpan.FromSeconds(60) };
            await Until(async () => { try { return (await client.GetAsync("healthz")).IsSuccessStatusCode; } catch (HttpRequestException) { return false; } }, "healthy: " + Output());

            // An account: registered, logged in, refreshed (password, access and refresh tokens).
            var email = ControlPlaneApp.NewEmail();
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("api/v1/auth/register", new { email, password = ControlPlaneApp.Password, handle = ControlPlaneApp.NewHandle() })).StatusCode);
            var login = await Json(await client.PostAsJsonAsync("api/v1/auth/login", new { email, password = ControlPlaneApp.Password }));
            var access = login.GetProperty("accessToken").GetString()!;
            var refresh = login.GetProperty("refreshToken").GetString()!;
            secrets.AddRange([access, refresh]);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", access);

            // A channel's stream key, published with; the stream made private and played with a playback token.
            var channel = (await Json(await client.PostAsJsonAsync("api/v1/channels", new { name = "logs" }))).GetProperty("id").GetString()!;
            var key = await Json(await client.PostAsync($"api/v1/channels/{channel}/stream-keys", null));
            var streamKey = key.GetProperty("key").GetString()!;
            secrets.Add(streamKey);
            using (var publisher = Ffmpeg($"rtmp://127.0.0.1:{rtmp}/live/{streamKey}", 6))
            using (var staticPublisher = Ffmpeg($"rtmp://127.0.0.1:{rtmp}/live/{StaticStreamKey}", 3))
            {
                string? videoId = null;
                await Until(async () =>
                {
                    var keys = await Json(await client.GetAsync($"api/v1/channels/{channel}/stream-keys"));
                    videoId = keys.GetProperty("items")[0].GetProperty("liveVideoId") is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
                    return videoId is not null;
                }, "live: " + Output());
                Assert.Equal(HttpStatusCode.OK, (await client.PatchAsJsonAsync($"api/v1/videos/{videoId}", new { visibility = "private" })).StatusCode);
                var issued = await Json(await client.PostAsJsonAsync($"api/v1/videos/{videoId}/playback-token", new { }));
                secrets.Add(issued.GetProperty("token").GetString()!);
                var hls = issued.GetProperty("hlsUrl").GetString()!.TrimStart('/');
                await Until(async () => (await client.GetAsync(hls)).IsSuccessStatusCode, "token playback");

                // An avatar: a blob written to S3 with the secret key.
                using var avatar = new ByteArrayContent(Convert.FromBase64String(
                    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="));
                avatar.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                Assert.True((await client.PutAsync("api/v1/me/avatar", avatar)).IsSuccessStatusCode, Output());
                await publisher.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                await staticPublisher.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }

            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("api/v1/auth/refresh", new { refreshToken = refresh })).StatusCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
                if (!process.WaitForExit(30_000))
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            process.WaitForExit();
            Directory.Delete(data, recursive: true);
        }

        var lines = Output().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.Contains("StreamVerse listening", StringComparison.Ordinal));
        var withRequest = 0;
        foreach (var line in lines)
        {
            foreach (var secret in secrets)
            {
                Assert.False(line.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(4, secret.Length)]}...) in: {line}");
            }

            if (line.StartsWith("STDERR ", StringComparison.Ordinal))
            {
                continue;
            }

            using var json = JsonDocument.Parse(line);
            var entry = json.RootElement;
            foreach (var property in new[] { "Timestamp", "EventId", "LogLevel", "Category", "Message" })
            {
                Assert.True(entry.TryGetProperty(property, out _), $"{property} missing: {line}");
            }

            if (entry.TryGetProperty("Scopes", out var scopes) && scopes.EnumerateArray().Any(s => s.ValueKind == JsonValueKind.Object
                    && s.TryGetProperty("RequestId", out _)) && scopes.EnumerateArray().Any(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("TraceId", out _)))
            {
                withRequest++;
            }
        }

        Assert.True(withRequest > 0, "no line names its request and trace");
    }

    private static Process Ffmpeg(string url, int seconds)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[]
        {
            "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-g", "25", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-f", "flv", url,
        })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "never happened: " + what);
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
