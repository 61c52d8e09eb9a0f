using System.Diagnostics;
using System.Globalization;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Issue 17, SRT ingest: real ffmpeg (<c>-f mpegts srt://...</c>) and srt-live-transmit publish to the real daemon with a
/// channel's stream key in the SRT stream id; the stream plays over LL-HLS; a bad key or a playback request is refused
/// during the handshake and creates nothing; revoking the key disconnects the caller; a caller back within the reconnect
/// window continues the same broadcast.
/// </summary>
[Collection("sqlite")]
public sealed class SrtIngestTests(SqliteApp app)
{
    private static readonly TimeSpan WellBeforeIdleTimeout = TimeSpan.FromSeconds(10);

    private sealed record Tool(Process Process, Task<string> StandardError) : IDisposable
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

    private string SrtUrl(string streamId) => $"srt://127.0.0.1:{app.SrtPort}?streamid={streamId}";

    private static Tool Start(string tool, bool stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = stdin };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        return new Tool(p, p.StandardError.ReadToEndAsync());
    }

    /// <summary>ffmpeg publishing MPEG-TS over SRT at real time: 160x120 at 25 fps, a keyframe every second, AAC.</summary>
    private Tool Ffmpeg(string streamId, int seconds) => Start("ffmpeg", false,
        "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", seconds.ToString(CultureInfo.InvariantCulture),
        "-c:v", "libx264", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", SrtUrl(streamId));

    private static Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout)
        where T : struct => LiveKeys.WaitForAsync(probe, what, timeout);

    private Task<(string Channel, string KeyId, string Key, Persona Creator)> KeyAsync() => LiveKeys.NewAsync(app);

    private async Task<string?> LiveVideoIdAsync(string channel, string keyId, Persona creator)
    {
        var keys = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", creator.AccessToken);
        var id = keys.GetProperty("items").EnumerateArray().Single(x => x.GetProperty("id").GetString() == keyId).GetProperty("liveVideoId");
        return id.ValueKind == JsonValueKind.String ? id.GetString() : null;
    }

    private async Task<string> LiveVideoAsync(string channel, string keyId, Persona creator) =>
        (await WaitForAsync(async () => await LiveVideoIdAsync(channel, keyId, creator) is { } id ? (JsonElement?)JsonSerializer.SerializeToElement(id) : null,
            "live video", TimeSpan.FromSeconds(30))).GetString()!;

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

    private static int MediaSequence(string playlist) =>
        int.Parse(playlist.Split('\n').First(l => l.StartsWith("#EXT-X-MEDIA-SEQUENCE:", StringComparison.Ordinal))["#EXT-X-MEDIA-SEQUENCE:".Length..].Trim(), CultureInfo.InvariantCulture);

    private static int Segments(string playlist) => playlist.Split('\n').Count(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal));

    private async Task<string> PlaylistAsync(string path)
    {
        using var r = await app.Http.GetAsync(path);
        return await r.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task An_ffmpeg_srt_publish_goes_live_plays_reports_link_health_and_ends_on_revocation()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        using var publisher = Ffmpeg($"#!::r={key},m=publish", 60);
        var videoId = await LiveVideoAsync(channel, keyId, creator);
        var playlist = await MediaPlaylistAsync(videoId);

        // The LL-HLS playlist advances: segments are added while the publish runs.
        var first = await WaitForAsync(async () => Segments(await PlaylistAsync(playlist)) is var n && n >= 1 ? n + (MediaSequence(await PlaylistAsync(playlist)) * 1000) : (int?)null,
            "a first segment", TimeSpan.FromSeconds(30));
        await WaitForAsync(async () => Segments(await PlaylistAsync(playlist)) + (MediaSequence(await PlaylistAsync(playlist)) * 1000) > first ? true : (bool?)null,
            "the playlist to advance", TimeSpan.FromSeconds(30));
        Assert.Contains("#EXT-X-PART:", await PlaylistAsync(playlist), StringComparison.Ordinal);

        // An independent player reads it: ffprobe opens the multivariant playlist and decodes H.264 160x120; the
        // multivariant playlist announces both tracks (AAC-LC from the ADTS headers).
        var probe = TestProcesses.Run(TimeSpan.FromSeconds(60), "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0",
            $"{app.BaseUrl}/live/{videoId}/index.m3u8");
        Assert.True(probe.ExitCode == 0, probe.StdErr);
        Assert.Contains("h264,160,120", probe.StdOut, StringComparison.Ordinal);
        var master = await PlaylistAsync($"live/{videoId}/index.m3u8");
        Assert.Contains("avc1.", master, StringComparison.Ordinal);
        Assert.Contains("mp4a.40.2", master, StringComparison.Ordinal);

        // Health names the protocol and carries SRT's own link statistics.
        var health = await WaitForAsync(async () =>
        {
            var h = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/live/health", creator.AccessToken);
            var p = h.GetProperty("publishes").EnumerateArray().SingleOrDefault();
            return p.ValueKind == JsonValueKind.Object && p.GetProperty("keyframeIntervalSeconds").ValueKind == JsonValueKind.Number ? p : (JsonElement?)null;
        }, "health with a keyframe interval", TimeSpan.FromSeconds(30));
        Assert.Equal("srt", health.GetProperty("protocol").GetString());
        Assert.Equal(videoId, health.GetProperty("videoId").GetString());
        Assert.Equal(1.0, health.GetProperty("keyframeIntervalSeconds").GetDouble(), 2);
        Assert.Equal(25.0, health.GetProperty("frameRate").GetDouble(), 1);
        Assert.True(health.GetProperty("audioFrames").GetInt64() > 0);
        var link = health.GetProperty("link");
        Assert.True(link.GetProperty("packetsReceived").GetInt64() > 0);
        Assert.Equal(0, link.GetProperty("continuityErrors").GetInt64());

        // Revoking the key disconnects the caller and ends the broadcast (no reconnect window for a deliberate end).
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}/stream-keys/{keyId}", creator.AccessToken, expect: HttpStatusCode.NoContent);
        await publisher.Process.WaitForExitAsync().WaitAsync(WellBeforeIdleTimeout);
        Assert.NotEqual(0, publisher.Process.ExitCode);
        await WaitForAsync(async () => (await PlaylistAsync(playlist)).Contains("#EXT-X-ENDLIST", StringComparison.Ordinal) ? true : (bool?)null,
            "ENDLIST", TimeSpan.FromSeconds(5));
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/live/health", creator.AccessToken)).GetProperty("publishes").EnumerateArray());

        // The revoked key is now refused in the handshake.
        using var again = Ffmpeg($"#!::r={key},m=publish", 2);
        await again.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, again.Process.ExitCode);
    }

    [Theory]
    [InlineData("#!::r=sk_not-a-key,m=publish")]
    [InlineData("KEY_AS_PLAYBACK")]
    [InlineData("sk_not-a-key")]
    public async Task A_refused_caller_hears_a_reject_in_the_handshake_and_nothing_is_created(string streamId)
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        streamId = streamId == "KEY_AS_PLAYBACK" ? $"#!::r={key},m=request" : streamId;
        // A 60 s clip at real time: ffmpeg ending well before it means it was refused, and it says so.
        using var publisher = Ffmpeg(streamId, 60);
        await publisher.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, publisher.Process.ExitCode);
        Assert.Contains("reject", (await publisher.StandardError).ToLowerInvariant(), StringComparison.Ordinal);

        Assert.Null(await LiveVideoIdAsync(channel, keyId, creator));
        var videos = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={channel}", creator.AccessToken);
        Assert.Empty(videos.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Srt_live_transmit_pushing_a_ts_file_with_a_bare_key_goes_live()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        var ts = Path.Combine(Directory.CreateTempSubdirectory("sv-srt-").FullName, "clip.ts");
        var made = TestProcesses.Run(TimeSpan.FromSeconds(60), "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6",
            "-c:v", "libx264", "-g", "25", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", ts);
        Assert.True(made.ExitCode == 0, made.StdErr);

        using var transmit = Start("srt-live-transmit", true, "-q", "-a:no", "file://con", SrtUrl(key));
        await using (var file = File.OpenRead(ts))
        {
            // At about real time in 1316-byte messages (7 TS packets), as a live source would send.
            var buffer = new byte[1316];
            var total = new FileInfo(ts).Length;
            var clock = Stopwatch.StartNew();
            long sent = 0;
            int read;
            while ((read = await file.ReadAsync(buffer)) > 0)
            {
                await transmit.Process.StandardInput.BaseStream.WriteAsync(buffer.AsMemory(0, read));
                await transmit.Process.StandardInput.BaseStream.FlushAsync();
                sent += read;
                var due = TimeSpan.FromSeconds(6.0 * sent / total);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }
            }
        }

        var videoId = await LiveVideoAsync(channel, keyId, creator);
        var playlist = await MediaPlaylistAsync(videoId);
        await WaitForAsync(async () => Segments(await PlaylistAsync(playlist)) >= 2 ? true : (bool?)null, "two segments", TimeSpan.FromSeconds(30));
        transmit.Process.StandardInput.Close();
        await transmit.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_caller_back_within_the_reconnect_window_continues_the_same_broadcast()
    {
        var (channel, keyId, key, creator) = await KeyAsync();
        string videoId, playlist;
        using (var first = Ffmpeg($"#!::r={key},m=publish", 4))
        {
            videoId = await LiveVideoAsync(channel, keyId, creator);
            playlist = await MediaPlaylistAsync(videoId);
            await first.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        // SRT has no unpublish: a caller that leaves may come back; within the window (10 s) it is the same broadcast.
        using var second = Ffmpeg($"#!::r={key},m=publish", 30);
        await WaitForAsync(async () => (await PlaylistAsync(playlist)).Contains("#EXT-X-DISCONTINUITY", StringComparison.Ordinal) ? true : (bool?)null,
            "a discontinuity in the same playlist", TimeSpan.FromSeconds(30));
        Assert.Equal(videoId, await LiveVideoIdAsync(channel, keyId, creator));
        Assert.DoesNotContain("#EXT-X-ENDLIST", await PlaylistAsync(playlist), StringComparison.Ordinal);
    }
}
