using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVerse.Functional.Tests.Infrastructure;
using StreamVerse.Tests.Shared;
using Xunit.Abstractions;

namespace StreamVerse.Functional.Tests.Browser;

/// <summary>
/// Issue 4 end to end, with clients nobody here wrote: an awkward clip (B-frames, odd size, rotation tag, 5.1 audio)
/// is uploaded with tus-js-client (interrupted and resumed), the daemon's job queue transcodes it in-process into a
/// ladder, and the ladder is checked and played over HTTP at <c>/vod/{id}/...</c>: ffprobe (rungs, keyframes
/// identical across rungs, segment durations within the target), ffmpeg (every variant decodes), hls.js in headless
/// Chromium (plays and switches through every level) and dash.js (plays the MPD). The same pipeline on the S3
/// backend (the s3rver that setup.sh starts) shows the origin serving VOD from either storage.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class VodPipelineTests(ITestOutputHelper output)
{
    private const string AdminEmail = "vod-admin@test.invalid";
    private const string Password = "vod pipeline password 1";
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    /// <summary>Small rungs and ultrafast so the 2-core CI machine transcodes the clip in seconds.</summary>
    private static readonly string[] LadderArgs =
    [
        "--StreamVerse:ControlPlane:BootstrapAdminEmail", AdminEmail,
        "--StreamVerse:ControlPlane:Jobs:Ladder:Preset", "ultrafast",
        "--StreamVerse:ControlPlane:Jobs:ProgressInterval", "00:00:00.05",
        "--StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration", "00:00:02",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Height", "360",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Bitrate", "700000",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Height", "240",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Bitrate", "300000",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:2:Height", "144",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:2:Bitrate", "120000",
    ];

    [Fact]
    public async Task Tus_upload_becomes_an_aligned_ladder_that_ffmpeg_hls_js_and_dash_js_play()
    {
        Node.RequireDependencies();
        var clip = AwkwardClip();
        await using var daemon = await Daemon.StartAsync(LadderArgs);
        var (token, videoId) = await NewVideoAsync(daemon);

        // tus-js-client, interrupted after ~40 % and resumed from the offset the daemon reports.
        var size = new FileInfo(clip).Length;
        var upload = await Node.RunAsync("tus-upload.mjs", Long, $"{daemon.BaseUrl}/api/v1/uploads", token, clip, videoId,
            "--interrupt-after", (size * 2 / 5).ToString(CultureInfo.InvariantCulture), "--chunk-size", "65536");
        Assert.True(upload.ExitCode == 0, $"tus-upload.mjs failed: {upload.Stderr}\n{daemon.Output}");
        var uploaded = JsonDocument.Parse(upload.Stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(size, uploaded.GetProperty("bytes").GetInt64());
        var resumedFrom = uploaded.GetProperty("resumedFrom").GetInt64();
        Assert.InRange(resumedFrom, 1, size - 1);

        var (video, progress) = await WaitReadyAsync(daemon, token, videoId);
        Assert.Contains(progress, p => p is > 0 and < 100); // progress was visible on the video record while it ran
        Assert.Equal($"/vod/{videoId}/index.m3u8", video.GetProperty("playbackPath").GetString());

        // The master: one variant per rung, portrait (the rotation tag applied), highest first.
        var master = await daemon.Http.GetStringAsync($"vod/{videoId}/index.m3u8");
        var variants = VariantUris(master);
        var resolutions = Resolution().Matches(master).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["360x638", "240x426", "144x256"], resolutions); // 361x641 on display; never upscaled, even sizes
        Assert.Equal(3, variants.Count);
        Assert.Contains("TYPE=AUDIO", master, StringComparison.Ordinal);

        // Segments within the target duration; keyframes identical across rungs; every variant decodes.
        List<string>? keyframesOfFirst = null;
        foreach (var uri in variants)
        {
            var url = $"{daemon.BaseUrl}/vod/{videoId}/{uri}";
            var media = await daemon.Http.GetStringAsync(url);
            var target = double.Parse(TargetDuration().Match(media).Groups[1].Value, CultureInfo.InvariantCulture);
            var durations = Extinf().Matches(media).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(durations);
            Assert.All(durations, d => Assert.True(d <= target + 0.5, $"{uri}: EXTINF {d} over the target {target}"));
            Assert.All(durations.SkipLast(1), d => Assert.InRange(d, 1.9, 2.1)); // 2 s segments = fixed GOP

            var keyframes = await ProbeAsync("-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries", "frame=pts_time", "-of", "csv=p=0", url);
            var times = keyframes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            Assert.True(times.Count >= 4, $"{uri}: {times.Count} keyframes");
            keyframesOfFirst ??= times;
            Assert.Equal(keyframesOfFirst, times);

            var decode = await Tool.RunAsync("ffmpeg", Long, "-v", "error", "-i", url, "-f", "null", "-");
            Assert.True(decode.ExitCode == 0 && decode.Stderr.Trim().Length == 0, $"ffmpeg decoding {uri}: {decode.Stderr}");
        }

        // The audio: 5.1 in, stereo AAC out, decodable.
        var audio = await ProbeAsync("-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,channels", "-of", "csv=p=0", $"{daemon.BaseUrl}/vod/{videoId}/index.m3u8");
        Assert.Contains("aac,2", audio, StringComparison.Ordinal);

        // hls.js: plays, and is forced through every level (lowest first); each level's pictures must be decoded.
        var hls = await PlayAsync(daemon, ["PLAY_SWITCH_LEVELS=1", "PLAY_SWITCH_EVERY=2"], "hls", $"{daemon.BaseUrl}/vod/{videoId}/index.m3u8", 18);
        Assert.Equal(3, hls.GetProperty("levels").GetInt32());
        Assert.True(hls.GetProperty("switchOk").GetBoolean(), "hls.js did not switch through every level: " + hls);

        // dash.js: the static MPD.
        var dash = await PlayAsync(daemon, [], "dash", $"{daemon.BaseUrl}/vod/{videoId}/index.mpd", 6);
        Assert.Equal(3, dash.GetProperty("levels").GetInt32());
    }

    [Fact]
    public async Task The_same_pipeline_on_s3_storage_serves_vod_from_the_bucket()
    {
        var bucket = "sv-func-" + Guid.NewGuid().ToString("N")[..12];
        var clip = AwkwardClip();
        await using var daemon = await Daemon.StartAsync([.. LadderArgs,
            "--StreamVerse:Storage:Backend", "s3", "--StreamVerse:Storage:Bucket", bucket, "--StreamVerse:Storage:Prefix", "func",
            "--StreamVerse:Storage:ServiceUrl", TestS3Server.Endpoint, "--StreamVerse:Storage:ForcePathStyle", "true",
            "--StreamVerse:Storage:AccessKeyId", TestS3Server.AccessKey, "--StreamVerse:Storage:SecretAccessKey", TestS3Server.SecretKey,
            "--StreamVerse:Storage:CreateBucket", "true"]);
        var (token, videoId) = await NewVideoAsync(daemon);

        // The plain single-request upload this time.
        using (var put = new HttpRequestMessage(HttpMethod.Put, $"api/v1/videos/{videoId}/source") { Content = new StreamContent(File.OpenRead(clip)) })
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
            using var accepted = await daemon.Http.SendAsync(put);
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        }

        await WaitReadyAsync(daemon, token, videoId);
        Assert.False(Directory.Exists(Path.Combine(daemon.DataDir, "blobs", "vod")), "the presentation went to the local disk, not to S3");

        var master = await daemon.Http.GetStringAsync($"vod/{videoId}/index.m3u8");
        foreach (var uri in VariantUris(master))
        {
            var decode = await Tool.RunAsync("ffmpeg", Long, "-v", "error", "-i", $"{daemon.BaseUrl}/vod/{videoId}/{uri}", "-f", "null", "-");
            Assert.True(decode.ExitCode == 0 && decode.Stderr.Trim().Length == 0, $"ffmpeg decoding {uri} from S3: {decode.Stderr}");
        }

        // A byte range of a segment is passed through to the bucket.
        var media = await daemon.Http.GetStringAsync($"vod/{videoId}/{VariantUris(master)[0]}");
        var segment = media.Split('\n').First(l => l.EndsWith(".m4s", StringComparison.Ordinal));
        var dir = VariantUris(master)[0][..VariantUris(master)[0].LastIndexOf('/')];
        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"vod/{videoId}/{dir}/{segment}");
        ranged.Headers.Range = new RangeHeaderValue(8, 23);
        using var partial = await daemon.Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes", partial.Content.Headers.ContentRange?.Unit);
        var whole = await daemon.Http.GetByteArrayAsync($"vod/{videoId}/{dir}/{segment}");
        Assert.Equal(whole.AsSpan(8, 16).ToArray(), await partial.Content.ReadAsByteArrayAsync());
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    /// <summary>
    /// 24 s of 641x361 (4:4:4: x264 refuses odd 4:2:0) with B-frames, 5.1 AAC, then a 90° rotation tag (FFmpeg 5.1
    /// writes it as a display matrix only when stream-copying): every awkward property the issue names.
    /// </summary>
    private static string AwkwardClip()
    {
        var path = Path.Combine(Path.GetTempPath(), "sv-vod-awkward-v4.mp4");
        if (File.Exists(path))
        {
            return path;
        }

        var plain = path + "." + Guid.NewGuid().ToString("N") + ".plain.mp4";
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".mp4";
        var r = TestProcesses.Run(TimeSpan.FromSeconds(120), "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,scale=641:361", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
            "-t", "24", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "3", "-pix_fmt", "yuv444p",
            "-c:a", "aac", "-ac", "6", "-channel_layout", "5.1", "-shortest", plain);
        Assert.True(r.ExitCode == 0, "ffmpeg could not make the clip: " + r.StdErr);
        r = TestProcesses.Run(TimeSpan.FromSeconds(60), "ffmpeg", "-v", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v", "rotate=90", temp);
        File.Delete(plain);
        Assert.True(r.ExitCode == 0, "ffmpeg could not tag the clip: " + r.StdErr);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    private static async Task<(string Token, string VideoId)> NewVideoAsync(Daemon daemon)
    {
        using (var reg = await daemon.Http.PostAsJsonAsync("api/v1/auth/register", new { email = AdminEmail, password = Password, handle = "vodadmin", displayName = "VOD" }))
        {
            Assert.True(reg.IsSuccessStatusCode, await reg.Content.ReadAsStringAsync());
        }

        using var login = await daemon.Http.PostAsJsonAsync("api/v1/auth/login", new { email = AdminEmail, password = Password });
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        var channel = await PostAsync(daemon, token, "api/v1/channels", new { name = "vod" });
        var video = await PostAsync(daemon, token, "api/v1/videos", new { channelId = channel.GetProperty("id").GetString(), title = "awkward clip", visibility = "public" });
        return (token, video.GetProperty("id").GetString()!);
    }

    private static async Task<JsonElement> PostAsync(Daemon daemon, string token, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await daemon.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the video record until it is ready; returns it and every progress value seen.</summary>
    private async Task<(JsonElement Video, List<double> Progress)> WaitReadyAsync(Daemon daemon, string token, string videoId)
    {
        var progress = new List<double>();
        var deadline = DateTime.UtcNow.AddSeconds(240);
        while (DateTime.UtcNow < deadline)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/videos/{videoId}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await daemon.Http.SendAsync(request);
            var video = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if (video.TryGetProperty("processingProgress", out var p) && p.ValueKind == JsonValueKind.Number)
            {
                progress.Add(p.GetDouble());
            }

            switch (video.GetProperty("status").GetString())
            {
                case "ready":
                    output.WriteLine($"ready; progress seen: {string.Join(' ', progress.Distinct())}");
                    return (video, progress);
                case "failed":
                    Assert.Fail($"the job failed: {video.GetProperty("failureReason")}\n{daemon.Output}");
                    break;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the video did not become ready in 240 s:\n" + daemon.Output);
        return default;
    }

    private async Task<JsonElement> PlayAsync(Daemon daemon, string[] env, string kind, string url, int seconds)
    {
        using var tool = Tool.StartIn(Node.BrowserDir, "env", [.. env, "node", "play.mjs", kind, url, seconds.ToString(CultureInfo.InvariantCulture)]);
        var code = await tool.WaitAsync(Long);
        output.WriteLine($"{kind}: {tool.Stdout}");
        var line = tool.Stdout.Trim().Split('\n')[^1];
        Assert.True(code == 0, $"{kind} player failed ({code}): {line}\n{tool.Stderr}\n{daemon.Output}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static async Task<string> ProbeAsync(params string[] args)
    {
        var r = await Tool.RunAsync("ffprobe", Long, args);
        Assert.True(r.ExitCode == 0, "ffprobe: " + r.Stderr);
        return r.Stdout;
    }

    private static List<string> VariantUris(string master) =>
        master.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    [GeneratedRegex(@"RESOLUTION=(\d+x\d+)")]
    private static partial Regex Resolution();

    [GeneratedRegex(@"#EXT-X-TARGETDURATION:(\d+)")]
    private static partial Regex TargetDuration();

    [GeneratedRegex(@"#EXTINF:([0-9.]+)")]
    private static partial Regex Extinf();
}
