using System.Diagnostics;
using System.Globalization;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Real RTMP publishes (ffmpeg) with control-plane stream keys, and real players (ffprobe) on tokenised URLs.</summary>
public abstract class LivePublishTests(ControlPlaneApp app)
{
    private static Process Ffmpeg(string url, int seconds)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[]
        {
            "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-g", "25", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-f", "flv", url,
        })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEndAsync();
        return p;
    }

    private static async Task<(int Code, string Out, string Err)> Run(string file, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish: {await e}");
        }

        return (p.ExitCode, await o, await e);
    }

    private string RtmpUrl(string key) => $"rtmp://127.0.0.1:{app.RtmpPort}/live/{key}";

    private async Task<JsonElement> WaitForAsync(Func<Task<JsonElement?>> probe, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } v)
            {
                return v;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException(what);
    }

    [Fact]
    public async Task Revoked_key_is_refused_fresh_key_goes_live_private_stream_needs_a_token()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);

        // A revoked key: ffmpeg's publish is refused.
        var revoked = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created);
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/stream-keys/{revoked.GetProperty("id").GetString()}", creator.AccessToken, expect: HttpStatusCode.NoContent);
        using (var refused = Ffmpeg(RtmpUrl(revoked.GetProperty("key").GetString()!), 2))
        {
            await refused.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, refused.ExitCode);
        }

        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}", creator.AccessToken)).GetProperty("items").EnumerateArray());

        // A fresh key: live.
        var fresh = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created);
        var keyId = fresh.GetProperty("id").GetString()!;
        using var publisher = Ffmpeg(RtmpUrl(fresh.GetProperty("key").GetString()!), 12);
        try
        {
            var key = await WaitForAsync(async () =>
            {
                var keys = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken);
                var k = keys.GetProperty("items").EnumerateArray().Single(x => x.GetProperty("id").GetString() == keyId);
                return k.GetProperty("liveVideoId").ValueKind == JsonValueKind.String ? k : null;
            }, "live video record", TimeSpan.FromSeconds(20));
            var videoId = key.GetProperty("liveVideoId").GetString()!;
            var video = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{videoId}", creator.AccessToken);
            Assert.Equal("live", video.GetProperty("status").GetString());

            // Public while live: the plain URL plays.
            await WaitForAsync(async () =>
            {
                using var r = await app.Http.GetAsync($"live/{videoId}/index.m3u8");
                return r.IsSuccessStatusCode ? default(JsonElement) : null;
            }, "public master playlist", TimeSpan.FromSeconds(20));

            // Private: 403 without a token, plays with one (ffprobe resolves every relative URI under the token).
            await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{videoId}", creator.AccessToken, new { visibility = "private" });
            using (var r = await app.Http.GetAsync($"live/{videoId}/index.m3u8"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            }

            var issued = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{videoId}/playback-token", creator.AccessToken, new { });
            var url = app.BaseUrl + issued.GetProperty("hlsUrl").GetString();
            var (code, stdout, stderr) = await Run("ffprobe", TimeSpan.FromSeconds(60), "-v", "error", "-show_entries", "stream=codec_type,width,height", "-of", "json", url);
            Assert.True(code == 0, stderr);
            Assert.Contains("\"width\": 320", stdout);

            var (dashCode, dashOut, dashErr) = await Run("ffprobe", TimeSpan.FromSeconds(60), "-v", "error", "-show_entries", "stream=codec_type", "-of", "json", app.BaseUrl + issued.GetProperty("dashUrl").GetString());
            Assert.True(dashCode == 0, dashErr);
            Assert.Contains("video", dashOut);

            await publisher.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, publisher.ExitCode);
            await WaitForAsync(async () =>
            {
                var v = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{videoId}", creator.AccessToken);
                return v.GetProperty("status").GetString() == "ended" ? v : null;
            }, "ended status", TimeSpan.FromSeconds(20));

            // The ended stream's recording plays with the token. Deleted, the video plays to nobody, though its
            // recording stays on disk until RecordingRetention: not as a public stream, not with the old token.
            using (var r = await app.Http.GetAsync(issued.GetProperty("hlsUrl").GetString()!.TrimStart('/')))
            {
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }

            await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{videoId}", creator.AccessToken, expect: HttpStatusCode.NoContent);
            foreach (var path in (string[])[$"live/{videoId}/index.m3u8", $"live/{videoId}/index.mpd", issued.GetProperty("hlsUrl").GetString()!.TrimStart('/')])
            {
                using var r = await app.Http.GetAsync(path);
                Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            }
        }
        finally
        {
            if (!publisher.HasExited)
            {
                publisher.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Each_broadcast_is_its_own_video_and_recording()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var created = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken, expect: HttpStatusCode.Created);
        var (keyId, key) = (created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!);
        var broadcasts = new List<string>();
        foreach (var seconds in new[] { 4, 2 })
        {
            using var publisher = Ffmpeg(RtmpUrl(key), seconds);
            try
            {
                var video = await WaitForAsync(async () =>
                {
                    var keys = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken);
                    var id = keys.GetProperty("items").EnumerateArray().Single(x => x.GetProperty("id").GetString() == keyId).GetProperty("liveVideoId");
                    return id.ValueKind == JsonValueKind.String && !broadcasts.Contains(id.GetString()!) ? id : null;
                }, "a new broadcast", TimeSpan.FromSeconds(20));
                var id = video.GetString()!;
                broadcasts.Add(id);

                // The channel says what is live now: this broadcast.
                Assert.Equal(id, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("liveVideoId").GetString());
                await publisher.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(0, publisher.ExitCode);
                var ended = await WaitForAsync(async () =>
                {
                    var v = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", creator.AccessToken);
                    return v.GetProperty("status").GetString() == "ended" ? v : null;
                }, "ended status", TimeSpan.FromSeconds(20));

                // The media time published, not null: ffmpeg sent `seconds` of 25 fps video.
                Assert.InRange(ended.GetProperty("durationSeconds").GetDouble(), seconds - 0.5, seconds + 0.5);
                Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("liveVideoId").ValueKind);
            }
            finally
            {
                if (!publisher.HasExited)
                {
                    publisher.Kill(entireProcessTree: true);
                }
            }
        }

        Assert.Equal(2, broadcasts.Distinct().Count());
        var listed = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}");
        Assert.Equal(broadcasts.Order(), listed.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("id").GetString()!).Order());

        // The first recording was not replaced by the second: each plays its own length.
        for (var i = 0; i < 2; i++)
        {
            var (code, stdout, stderr) = await Run("ffprobe", TimeSpan.FromSeconds(60), "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                $"{app.BaseUrl}/live/{broadcasts[i]}/index.m3u8");
            Assert.True(code == 0, stderr);
            Assert.InRange(double.Parse(stdout.Trim(), CultureInfo.InvariantCulture), (i == 0 ? 4 : 2) - 1.0, (i == 0 ? 4 : 2) + 1.0);
        }

        // A recording is not an upload target: its media is the broadcast's.
        using var put = new HttpRequestMessage(HttpMethod.Put, $"api/v1/videos/{broadcasts[0]}/source") { Content = new ByteArrayContent(new byte[16]) };
        put.Headers.Authorization = new("Bearer", creator.AccessToken);
        using var refused = await app.Http.SendAsync(put);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
    }
}

[Collection("sqlite")]
public sealed class LivePublishTestsSqlite(SqliteApp app) : LivePublishTests(app);

[Collection("postgres")]
public sealed class LivePublishTestsPostgres(PostgresApp app) : LivePublishTests(app);
