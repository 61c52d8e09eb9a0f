using System.Diagnostics;
using System.Globalization;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Issue 17: revoking a key or ending the broadcast through the API disconnects the running publisher at once (not at
/// the idle timeout), and the creator reads the publish's health. Real ffmpeg publishes against the real daemon.
/// </summary>
[Collection("sqlite")]
public sealed class LiveControlTests(SqliteApp app)
{
    /// <summary>At least this long from the API call to ffmpeg's exit would mean the idle timeout (30 s), not the disconnect, ended it.</summary>
    private static readonly TimeSpan WellBeforeIdleTimeout = TimeSpan.FromSeconds(10);

    private sealed record Publisher(Process Process, Task<string> StandardError) : IDisposable
    {
        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }

    /// <summary>ffmpeg publishing 25 fps with a keyframe every <paramref name="gop"/> frames, at real time.</summary>
    private static Publisher Ffmpeg(string url, int seconds, int gop = 50)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[]
        {
            "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-g", gop.ToString(CultureInfo.InvariantCulture), "-keyint_min", gop.ToString(CultureInfo.InvariantCulture), "-sc_threshold", "0",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-f", "flv", url,
        })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        return new Publisher(p, p.StandardError.ReadToEndAsync());
    }

    private string RtmpUrl(string key) => $"rtmp://127.0.0.1:{app.RtmpPort}/live/{key}";

    private static Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout)
        where T : struct => LiveKeys.WaitForAsync(probe, what, timeout);

    private Task<(string Channel, string KeyId, string Key, Persona Creator)> KeyAsync() => LiveKeys.NewAsync(app);

    private async Task<string> LiveVideoAsync(string channel, string keyId, Persona creator) =>
        (await WaitForAsync(async () =>
        {
            var keys = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken);
            var id = keys.GetProperty("items").EnumerateArray().Single(x => x.GetProperty("id").GetString() == keyId).GetProperty("liveVideoId");
            return id.ValueKind == JsonValueKind.String ? id : (JsonElement?)null;
        }, "live video", TimeSpan.FromSeconds(30))).GetString()!;

    /// <summary>The first media playlist the master names, once the stream has one.</summary>
    private async Task<string> MediaPlaylistAsync(string videoId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using (var r = await app.Http.GetAsync($"live/{videoId}/index.m3u8"))
            {
                if (r.IsSuccessStatusCode)
                {
                    var text = await r.Content.ReadAsStringAsync();
                    return $"live/{videoId}/" + text.Split('\n').Select(l => l.Trim()).First(l => l.Length > 0 && !l.StartsWith('#'));
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("master playlist");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Issue 19: the health counts the live video's distinct viewers from their requests: two players, each with its own
    /// CMCD session id and polling several times, are two more viewers; a third request of one of them is not.
    /// </summary>
    [Fact]
    public async Task Live_health_counts_distinct_viewers_by_their_cmcd_sessions()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        using var publisher = Ffmpeg(RtmpUrl(key), 40);
        var videoId = await LiveVideoAsync(channel, keyId, creator);
        var playlist = await MediaPlaylistAsync(videoId); // this client (no CMCD: its address and user agent) is a viewer too

        async Task<int> ViewersAsync() => (await WaitForAsync(async () =>
        {
            var h = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/live/health", creator.AccessToken);
            var p = h.GetProperty("publishes").EnumerateArray().SingleOrDefault();
            return p.ValueKind == JsonValueKind.Object ? p.GetProperty("viewers").GetInt32() : (int?)null;
        }, "health", TimeSpan.FromSeconds(30)));

        var before = await ViewersAsync();
        Assert.True(before >= 1, $"the test's own requests made {before} viewers");
        foreach (var sid in new[] { "player-one", "player-two", "player-one" })
        {
            for (var poll = 0; poll < 3; poll++)
            {
                // As hls.js sends it in query mode: one URL-encoded CMCD argument.
                using var r = await app.Http.GetAsync(playlist + "?CMCD=" + Uri.EscapeDataString($"bl=3000,mtp=5000,ot=m,sf=h,sid=\"{sid}\",st=l"));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }
        }

        Assert.Equal(before + 2, await ViewersAsync());
    }

    [Fact]
    public async Task Revoking_the_key_disconnects_the_publisher_ends_the_playlist_and_refuses_the_key()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        using var publisher = Ffmpeg(RtmpUrl(key), 60);
        var videoId = await LiveVideoAsync(channel, keyId, creator);
        var playlist = await MediaPlaylistAsync(videoId);

        // Health: 2 s GOPs at 25 fps fit the 2 s segments, so no warning.
        var health = await WaitForAsync(async () =>
        {
            var h = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/live/health", creator.AccessToken);
            var p = h.GetProperty("publishes").EnumerateArray().SingleOrDefault();
            return p.ValueKind == JsonValueKind.Object && p.GetProperty("keyframeIntervalSeconds").ValueKind == JsonValueKind.Number ? p : (JsonElement?)null;
        }, "health with a keyframe interval", TimeSpan.FromSeconds(30));
        Assert.Equal(keyId, health.GetProperty("streamKeyId").GetString());
        Assert.Equal(videoId, health.GetProperty("videoId").GetString());
        Assert.Equal(2.0, health.GetProperty("keyframeIntervalSeconds").GetDouble(), 2);
        Assert.Equal(25.0, health.GetProperty("frameRate").GetDouble(), 1);
        Assert.True(health.GetProperty("bitrateKbps").GetDouble() > 0);
        Assert.True(health.GetProperty("audioFrames").GetInt64() > 0);
        Assert.Empty(health.GetProperty("warnings").EnumerateArray());

        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/stream-keys/{keyId}", creator.AccessToken, expect: HttpStatusCode.NoContent);
        await publisher.Process.WaitForExitAsync().WaitAsync(WellBeforeIdleTimeout);
        Assert.NotEqual(0, publisher.Process.ExitCode);
        Assert.Contains("The stream key was revoked.", await publisher.StandardError, StringComparison.Ordinal);

        // The broadcast ended: its playlist says so, the video is no longer live, nothing is running.
        await WaitForAsync(async () =>
        {
            using var r = await app.Http.GetAsync(playlist);
            return (await r.Content.ReadAsStringAsync()).Contains("#EXT-X-ENDLIST", StringComparison.Ordinal) ? true : (bool?)null;
        }, "ENDLIST", TimeSpan.FromSeconds(20));
        await WaitForAsync(async () =>
        {
            var v = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{videoId}", creator.AccessToken);
            return v.GetProperty("status").GetString() == "ended" ? true : (bool?)null;
        }, "ended status", TimeSpan.FromSeconds(20));
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/live/health", creator.AccessToken)).GetProperty("publishes").EnumerateArray());

        // A republish with the revoked key hears NetStream.Publish.Failed.
        using var again = Ffmpeg(RtmpUrl(key), 2);
        await again.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, again.Process.ExitCode);
        Assert.Contains("Invalid stream key.", await again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Banning_the_creator_disconnects_the_running_publish_ends_the_playlist_and_refuses_the_key()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        using var publisher = Ffmpeg(RtmpUrl(key), 60);
        var videoId = await LiveVideoAsync(channel, keyId, creator);
        var playlist = await MediaPlaylistAsync(videoId);

        // Issue 21: a moderator bans the creator on a report of the account; the media path hears it through ILivePublishers.
        var report = await app.JsonAsync(HttpMethod.Post, "api/v1/reports", (await app.NewUserAsync()).AccessToken,
            new { kind = "account", objectId = creator.Id, reason = "hateful", text = "live abuse" }, HttpStatusCode.Created);
        var moderator = await app.NewUserAsync("moderator");
        await app.JsonAsync(HttpMethod.Post, $"api/v1/moderation/cases/{report.GetProperty("caseId").GetString()}/actions", moderator.AccessToken,
            new { action = "ban", reason = "rule 4" }, HttpStatusCode.Created);
        await publisher.Process.WaitForExitAsync().WaitAsync(WellBeforeIdleTimeout);
        Assert.NotEqual(0, publisher.Process.ExitCode);
        Assert.Contains("The broadcast was ended by moderation", await publisher.StandardError, StringComparison.Ordinal);
        await WaitForAsync(async () =>
        {
            using var r = await app.Http.GetAsync(playlist);
            return (await r.Content.ReadAsStringAsync()).Contains("#EXT-X-ENDLIST", StringComparison.Ordinal) ? true : (bool?)null;
        }, "ENDLIST", TimeSpan.FromSeconds(20));

        // The key stays refused while the account is banned.
        using var again = Ffmpeg(RtmpUrl(key), 2);
        await again.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, again.Process.ExitCode);
        Assert.Contains("Invalid stream key.", await again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ending_the_broadcast_disconnects_the_publisher_and_warns_of_a_long_keyframe_interval()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        using var publisher = Ffmpeg(RtmpUrl(key), 60, gop: 75); // 3 s GOPs against 2 s segments
        var videoId = await LiveVideoAsync(channel, keyId, creator);
        var health = await WaitForAsync(async () =>
        {
            var h = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/live/health", creator.AccessToken);
            var p = h.GetProperty("publishes").EnumerateArray().SingleOrDefault();
            return p.ValueKind == JsonValueKind.Object && p.GetProperty("keyframeIntervalSeconds").ValueKind == JsonValueKind.Number ? p : (JsonElement?)null;
        }, "health with a keyframe interval", TimeSpan.FromSeconds(30));
        Assert.Equal(3.0, health.GetProperty("keyframeIntervalSeconds").GetDouble(), 2);
        Assert.Contains(health.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("longer than the segment target duration", StringComparison.Ordinal));

        var ended = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/live/end", creator.AccessToken);
        Assert.Equal(1, ended.GetProperty("disconnected").GetInt32());
        await publisher.Process.WaitForExitAsync().WaitAsync(WellBeforeIdleTimeout);
        Assert.NotEqual(0, publisher.Process.ExitCode);
        Assert.Contains("The broadcast was ended by the channel.", await publisher.StandardError, StringComparison.Ordinal);
        await WaitForAsync(async () =>
        {
            var v = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{videoId}", creator.AccessToken);
            return v.GetProperty("status").GetString() == "ended" ? true : (bool?)null;
        }, "ended status", TimeSpan.FromSeconds(20));
        Assert.Equal(0, (await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/live/end", creator.AccessToken)).GetProperty("disconnected").GetInt32());
    }
}
