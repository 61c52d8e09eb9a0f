using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Real transcodes through the daemon's queue (SQLite only, to keep the suite's CPU time down; the SQL they use is
/// covered on both databases by <see cref="JobQueueTests"/>).
/// </summary>
[Collection("jobs-sqlite")]
public sealed class JobTranscodeTests(JobsSqliteApp app)
{
    private static ToolResult Tool(string tool, params string[] args) => TestProcesses.Run(TimeSpan.FromMinutes(2), tool, args);

    private static void Plays(string master)
    {
        var r = Tool("ffmpeg", "-v", "error", "-i", master, "-f", "null", "-");
        Assert.True(r.ExitCode == 0 && r.StdErr.Trim().Length == 0, $"{master}: {r.StdErr}");
    }

    /// <summary>The clean-up after the final database update is asynchronous to the API: give it a moment.</summary>
    private async Task NothingLeftBehind(string job, string source)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (File.Exists(source) || Directory.Exists(Path.Combine(app.WorkDir, job)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"source kept: {File.Exists(source)}, work dir kept: {Directory.Exists(Path.Combine(app.WorkDir, job))}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Awkward_clip_plays_from_its_lowest_rung_first_then_becomes_ready()
    {
        var (video, job, source, owner) = await app.EnqueueAsync(Clips.Awkward());
        var preview = VodPrefixes.Preview(video, job);
        var full = VodPrefixes.Full(video, job);
        var prefixes = new List<string?>();
        var progress = new List<double>();
        var previewChecks = new List<bool>();
        var v = await app.WaitForAsync(video, owner, ["ready"], async v =>
        {
            if (v.GetProperty("processingProgress").ValueKind == JsonValueKind.Number)
            {
                progress.Add(v.GetProperty("processingProgress").GetDouble());
            }

            var prefix = await app.VodPrefixAsync(video);
            if (prefixes.Count == 0 || prefixes[^1] != prefix)
            {
                prefixes.Add(prefix);
            }

            if (prefix == preview)
            {
                // Published means complete: both manifests are there while the video still says "processing".
                var now = await app.VideoAsync(video, owner);
                var complete = File.Exists(app.LocalBlob(preview + "/master.m3u8")) && File.Exists(app.LocalBlob(preview + "/manifest.mpd"))
                    && now.GetProperty("playbackPath").GetString() == $"/vod/{video}/index.m3u8" && now.GetProperty("status").GetString() == "processing";
                if (await app.VodPrefixAsync(video) == preview)
                {
                    previewChecks.Add(complete); // (only while still published: the full ladder deletes it)
                }
            }
        });

        Assert.Equal([null, preview, full], prefixes);

        // The origin serves what the job published: /vod/{id}/index.* name the full ladder's version and play over HTTP.
        var version = full[(full.LastIndexOf('/') + 1)..];
        var index = await app.Http.GetStringAsync($"vod/{video}/index.m3u8");
        Assert.Contains(version + "/", index, StringComparison.Ordinal);
        Assert.Contains("<BaseURL>" + version + "/</BaseURL>", await app.Http.GetStringAsync($"vod/{video}/index.mpd"), StringComparison.Ordinal);
        Plays($"{app.BaseUrl}/vod/{video}/index.m3u8");
        using (var poster = await app.Http.GetAsync($"vod/{video}/poster.jpg"))
        {
            Assert.Equal(HttpStatusCode.OK, poster.StatusCode);
        }

        Assert.NotEmpty(previewChecks);
        Assert.All(previewChecks, Assert.True);
        Assert.Equal(progress.Order(), progress); // never backwards
        Assert.Contains(progress, p => p is > 0 and < 100);
        Assert.Equal(100, progress[^1]);

        Assert.Equal(100, v.GetProperty("processingProgress").GetDouble());
        Assert.Equal(JsonValueKind.Null, v.GetProperty("failureReason").ValueKind);
        Assert.Equal($"/vod/{video}/poster.jpg", v.GetProperty("thumbnailUrl").GetString());
        Assert.Equal($"/vod/{video}/{version}/storyboard.vtt", v.GetProperty("storyboardUrl").GetString());
        using (var storyboard = await app.Http.GetAsync(v.GetProperty("storyboardUrl").GetString()!.TrimStart('/')))
        {
            Assert.Equal(HttpStatusCode.OK, storyboard.StatusCode);
            Assert.Contains("storyboard.jpg#xywh=", await storyboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var sprite = await app.Http.GetAsync($"vod/{video}/{version}/storyboard.jpg"))
        {
            Assert.Equal(HttpStatusCode.OK, sprite.StatusCode);
        }
        Assert.InRange(v.GetProperty("durationSeconds").GetDouble(), 9.5, 10.5);

        // Upright (90° tag: 241x321 on display) on both rungs, 5.1 downmixed to stereo, and it plays.
        var master = File.ReadAllText(app.LocalBlob(full + "/master.m3u8"));
        Assert.Contains("RESOLUTION=240x320", master, StringComparison.Ordinal);
        Assert.Contains("RESOLUTION=120x160", master, StringComparison.Ordinal);
        Assert.True(File.Exists(app.LocalBlob(full + "/manifest.mpd")));
        Assert.True(File.Exists(app.LocalBlob(full + "/poster.jpg")));
        Plays(app.LocalBlob(full + "/master.m3u8"));

        var channels = Tool("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels", "-of", "csv=p=0", app.LocalBlob(full + "/manifest.mpd"));
        Assert.Equal("2", channels.StdOut.Trim().Split('\n')[0].Trim());

        // The preview is gone once the full ladder is published; so are the work dir and the source.
        Assert.False(Directory.Exists(app.LocalBlob(preview)));
        await NothingLeftBehind(job, source);

        var info = await app.JobAsync(video, owner);
        Assert.Equal("succeeded", info.GetProperty("state").GetString());
        var created = info.GetProperty("createdAt").GetDateTimeOffset();
        var playable = info.GetProperty("playableAt").GetDateTimeOffset();
        var finished = info.GetProperty("finishedAt").GetDateTimeOffset();
        Assert.True(created <= playable && playable <= finished);
    }

    public static TheoryData<string, string[]> BadInputs => new()
    {
        { "empty", ["empty"] },
        { "truncated", ["truncated"] },
        { "not-media", ["not a media file"] },
        { "unsupported-codec", ["codec", "not supported"] },
        { "absurd-dimensions", ["10000x16", "outside"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_fails_with_a_readable_reason_and_leaves_nothing(string kind, string[] words)
    {
        var clip = kind switch
        {
            "empty" => Clips.Empty(),
            "truncated" => Clips.Truncated(),
            "not-media" => Clips.NotMedia(),
            "unsupported-codec" => Clips.UnsupportedCodec(),
            _ => Clips.AbsurdDimensions(),
        };
        var (video, job, source, owner) = await app.EnqueueAsync(clip);
        var v = await app.WaitForAsync(video, owner, ["failed"]);
        var reason = v.GetProperty("failureReason").GetString()!;
        Assert.All(words, w => Assert.Contains(w, reason, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(app.DataDir, reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetFileName(source), reason, StringComparison.Ordinal);
        Assert.StartsWith("/live/", v.GetProperty("playbackPath").GetString(), StringComparison.Ordinal); // nothing published
        var info = await app.JobAsync(video, owner);
        Assert.Equal(("failed", 1), (info.GetProperty("state").GetString(), info.GetProperty("attempts").GetInt32()));
        Assert.Null(await app.VodPrefixAsync(video));
        Assert.False(Directory.Exists(app.LocalBlob("vod/" + video)) && Directory.EnumerateFileSystemEntries(app.LocalBlob("vod/" + video)).Any());
        await NothingLeftBehind(job, source);

        using var health = await app.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Audio_only_source_becomes_an_audio_only_presentation()
    {
        var (video, job, source, owner) = await app.EnqueueAsync(Clips.AudioOnly());
        var v = await app.WaitForAsync(video, owner, ["ready"]);
        Assert.Equal(JsonValueKind.Null, v.GetProperty("thumbnailUrl").ValueKind);
        Assert.InRange(v.GetProperty("durationSeconds").GetDouble(), 2.5, 3.5);
        var master = app.LocalBlob(VodPrefixes.Full(video, job) + "/master.m3u8");
        var text = File.ReadAllText(master);
        Assert.Contains("mp4a.40.2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("RESOLUTION", text, StringComparison.Ordinal);
        Plays(master);
        var track = Assert.Single(v.GetProperty("audioTracks").EnumerateArray());
        Assert.Equal(("und", "Audio", true), (track.GetProperty("language").GetString(), track.GetProperty("name").GetString(), track.GetProperty("default").GetBoolean()));
        await NothingLeftBehind(job, source);
    }

    [Fact]
    public async Task A_source_with_two_languages_keeps_both_as_audio_tracks_of_the_video()
    {
        // Matroska: the mp4 muxer writes no track title.
        var clip = Clips.Make("two-languages.mkv",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000", "-map", "0:v", "-map", "1:a", "-map", "2:a",
            "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "title=Fran\u00e7ais");
        var (video, job, source, owner) = await app.EnqueueAsync(clip);
        var v = await app.WaitForAsync(video, owner, ["ready"]);

        Assert.Equal([("en", "English", true), ("fr", "Fran\u00e7ais", false)],
            v.GetProperty("audioTracks").EnumerateArray().Select(t => (t.GetProperty("language").GetString(), t.GetProperty("name").GetString(), t.GetProperty("default").GetBoolean())));

        // What the origin serves has both renditions.
        var index = await app.Http.GetStringAsync($"vod/{video}/index.m3u8");
        Assert.Contains("LANGUAGE=\"en\",NAME=\"English\",DEFAULT=YES", index, StringComparison.Ordinal);
        Assert.Contains("LANGUAGE=\"fr\",NAME=\"Fran\u00e7ais\",DEFAULT=NO", index, StringComparison.Ordinal);
        var mpd = await app.Http.GetStringAsync($"vod/{video}/index.mpd");
        Assert.Contains("lang=\"fr\"", mpd, StringComparison.Ordinal);
        Plays($"{app.BaseUrl}/vod/{video}/index.m3u8");

        // Anonymous viewers get the same list (the video is public).
        using var anonymous = await app.Http.GetAsync($"api/v1/videos/{video}");
        using var doc = JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(2, doc.RootElement.GetProperty("audioTracks").GetArrayLength());
        await NothingLeftBehind(job, source);
    }

    [Fact]
    public async Task A_source_with_one_rung_skips_the_fast_start()
    {
        var clip = Clips.Make("small-160.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast");
        var (video, job, source, owner) = await app.EnqueueAsync(clip);
        var prefixes = new List<string?>();
        await app.WaitForAsync(video, owner, ["ready"], async _ =>
        {
            var prefix = await app.VodPrefixAsync(video);
            if (prefixes.Count == 0 || prefixes[^1] != prefix)
            {
                prefixes.Add(prefix);
            }
        });

        Assert.Equal([null, VodPrefixes.Full(video, job)], prefixes);
        Assert.False(Directory.Exists(app.LocalBlob(VodPrefixes.Preview(video, job))));
        var master = File.ReadAllText(app.LocalBlob(VodPrefixes.Full(video, job) + "/master.m3u8"));
        Assert.Single(master.Split('\n'), l => l.StartsWith("#EXT-X-STREAM-INF", StringComparison.Ordinal));
        Assert.Empty((await app.VideoAsync(video, owner)).GetProperty("audioTracks").EnumerateArray()); // no sound, no track
        await NothingLeftBehind(job, source);
    }

    [Fact]
    public async Task A_failing_job_does_not_stop_a_good_one_queued_with_it()
    {
        var owner = await app.NewUserAsync("creator");
        var bad = await app.EnqueueAsync(Clips.Truncated(), owner);
        var good = await app.EnqueueAsync(Clips.Plain(3), owner);
        Assert.Equal("failed", (await app.WaitForAsync(bad.Video, owner, ["failed", "ready"])).GetProperty("status").GetString());
        Assert.Equal("ready", (await app.WaitForAsync(good.Video, owner, ["failed", "ready"])).GetProperty("status").GetString());
        Plays(app.LocalBlob(VodPrefixes.Full(good.Video, good.Job) + "/master.m3u8"));
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_and_removes_its_output()
    {
        var clip = Clips.Make("long-640.mp4", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine",
            "-t", "60", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest");
        var (video, job, source, owner) = await app.EnqueueAsync(clip);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await app.JobAsync(video, owner)).GetProperty("state").GetString() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "job never started");
            await Task.Delay(20);
        }

        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{video}/job", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        var info = await app.JobAsync(video, owner);
        Assert.Equal("cancelled", info.GetProperty("state").GetString());
        var v = await app.VideoAsync(video, owner);
        Assert.Equal(("draft", "cancelled"), (v.GetProperty("status").GetString(), v.GetProperty("failureReason").GetString()));
        Assert.Null(await app.VodPrefixAsync(video));

        // The worker notices at once (same process) and removes its work dir and whatever it had stored.
        deadline = DateTime.UtcNow.AddSeconds(30);
        while ((Directory.Exists(Path.Combine(app.WorkDir, job))
            || (Directory.Exists(app.LocalBlob("vod/" + video)) && Directory.EnumerateFiles(app.LocalBlob("vod/" + video), "*", SearchOption.AllDirectories).Any())))
        {
            Assert.True(DateTime.UtcNow < deadline, "cancelled job left files behind");
            await Task.Delay(50);
        }

        Assert.False(File.Exists(source));
        Assert.Equal("cancelled", (await app.JobAsync(video, owner)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Transient_storage_failures_are_retried_with_backoff()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        app.Blobs.FailPuts(video, 2);
        var source = app.Upload(Clips.Plain(2));
        var job = await app.Get<IVideoJobQueue>().EnqueueTranscodeAsync(video, source, default);

        var waits = new List<(int Attempts, TimeSpan Backoff, string? Error)>();
        var v = await app.WaitForAsync(video, owner, ["ready", "failed"], async _ =>
        {
            var j = await app.JobAsync(video, owner);
            if (j.GetProperty("state").GetString() == "queued" && j.GetProperty("attempts").GetInt32() > 0)
            {
                waits.Add((j.GetProperty("attempts").GetInt32(),
                    j.GetProperty("runAfter").GetDateTimeOffset() - j.GetProperty("startedAt").GetDateTimeOffset(),
                    j.GetProperty("error").GetString()));
            }
        });

        Assert.Equal("ready", v.GetProperty("status").GetString());
        var info = await app.JobAsync(video, owner);
        Assert.Equal(("succeeded", 3), (info.GetProperty("state").GetString(), info.GetProperty("attempts").GetInt32()));
        Assert.NotEmpty(waits);
        foreach (var (attempts, backoff, error) in waits)
        {
            // RetryBaseDelay 0.5 s, doubling: at least 0.5 s after attempt 1, 1 s after attempt 2.
            Assert.True(backoff >= TimeSpan.FromSeconds(0.5 * Math.Pow(2, attempts - 1)) - TimeSpan.FromMilliseconds(1), $"attempt {attempts}: backoff {backoff}");
            Assert.Contains("injected storage failure", error, StringComparison.Ordinal);
            Assert.DoesNotContain(app.DataDir, error, StringComparison.Ordinal);
        }

        Plays(app.LocalBlob(VodPrefixes.Full(video, job) + "/master.m3u8"));
    }

    [Fact]
    public async Task Storage_that_keeps_failing_fails_the_job_after_MaxAttempts()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        app.Blobs.FailPuts(video, 1000);
        var source = app.Upload(Clips.Plain(2));
        var job = await app.Get<IVideoJobQueue>().EnqueueTranscodeAsync(video, source, default);
        var v = await app.WaitForAsync(video, owner, ["failed"]);
        var reason = v.GetProperty("failureReason").GetString()!;
        Assert.Contains("after 3 attempts", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(app.DataDir, reason, StringComparison.Ordinal);
        Assert.Equal(3, (await app.JobAsync(video, owner)).GetProperty("attempts").GetInt32());
        Assert.Null(await app.VodPrefixAsync(video));
        await NothingLeftBehind(job, source);
        app.Blobs.FailPuts(video, 0);
    }

    [Fact]
    public async Task Two_jobs_run_at_once_with_concurrency_two()
    {
        var owner = await app.NewUserAsync("creator");
        var clip = Clips.Make("plain-640-20.mp4", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "20", "-c:v", "libx264", "-preset", "ultrafast");
        var a = await app.EnqueueAsync(clip, owner);
        var b = await app.EnqueueAsync(clip, owner);
        var both = false;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var sa = (await app.JobAsync(a.Video, owner)).GetProperty("state").GetString();
            var sb = (await app.JobAsync(b.Video, owner)).GetProperty("state").GetString();
            both |= sa == "running" && sb == "running";
            if (sa == "succeeded" && sb == "succeeded")
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline && sa != "failed" && sb != "failed", $"{sa} {sb}");
            await Task.Delay(20);
        }

        Assert.True(both, "the two jobs never ran at the same time");
    }

    [Fact]
    public async Task Deleting_a_video_deletes_its_presentation_and_jobs()
    {
        var (video, job, _, owner) = await app.EnqueueAsync(Clips.Plain(2));
        await app.WaitForAsync(video, owner, ["ready"]);
        Assert.True(File.Exists(app.LocalBlob(VodPrefixes.Full(video, job) + "/master.m3u8")));
        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{video}", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.False(Directory.Exists(app.LocalBlob("vod/" + video)));
        Assert.Null(await app.Get<JobStore>().StateAsync(job, default));
    }

    [Fact]
    public void Error_text_loses_server_paths()
    {
        Assert.Equal("Could not find file '…'.", JobWorker.Redact("Could not find file '/var/lib/sv/data/uploads/x.mp4'."));
        Assert.Equal("disk full at … (28)", JobWorker.Redact("disk full at /srv/a-b/c.d (28)"));
        Assert.Equal("ratio 1/2 and a/b stay", JobWorker.Redact("ratio 1/2 and a/b stay"));
    }
}
