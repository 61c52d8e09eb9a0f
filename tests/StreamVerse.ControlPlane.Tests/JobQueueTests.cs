using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// The queue's logic against SQLite and PostgreSQL: claiming, superseding, cancelling, recovery of abandoned jobs,
/// a permanent failure, and one real transcode per database. Jobs the daemon's worker must not touch are queued
/// through a <see cref="JobStore"/> on shifted time (due days from now).
/// </summary>
public abstract class JobQueueTests(JobsApp app)
{
    private JobStore FutureStore(TimeSpan shift) => new(app.Db, new ShiftedTime(shift), app.Get<StreamVerse.ControlPlane.Videos.VodCatalog>(),
        app.Get<StreamVerse.ControlPlane.Videos.VideoPublication>(), app.Get<StreamVerse.ControlPlane.Events.Outbox>());

    private async Task<(string Video, Persona Owner)> NewVideoAsync(Persona? owner = null)
    {
        owner ??= await app.NewUserAsync("creator");
        return ((await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!, owner);
    }

    [Fact]
    public async Task Claims_are_atomic_when_workers_race()
    {
        var store = FutureStore(TimeSpan.FromDays(2));
        var owner = await app.NewUserAsync("creator");
        var mine = new HashSet<string>();
        var videos = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var (video, _) = await NewVideoAsync(owner);
            videos.Add(video);
            mine.Add((await store.EnqueueAsync(video, "/nonexistent/source-" + i, 3, default)).JobId);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var got = new List<string>();
            while (true)
            {
                var batch = await store.ClaimAsync($"racer-{w}", 2, TimeSpan.FromMinutes(1), default);
                if (batch.Count == 0)
                {
                    return got;
                }

                got.AddRange(batch.Select(j => j.Id));
            }
        })));

        var claimed = claims.SelectMany(c => c).Where(mine.Contains).ToList();
        Assert.Equal(mine.Count, claimed.Count); // none twice
        Assert.Equal(mine.Order(), claimed.Order());
        foreach (var video in videos)
        {
            var job = (await store.LatestAsync(video, default))!;
            Assert.Equal(JobState.Running, job.State);
            Assert.Equal(1, job.Attempts);
            Assert.StartsWith("racer-", job.LeaseOwner, StringComparison.Ordinal);
            await store.CancelAsync(video, default);
        }
    }

    [Fact]
    public async Task Cancelling_a_replacement_leaves_a_ready_video_ready_with_no_failure()
    {
        var (video, owner) = await NewVideoAsync();
        await using (var db = await app.Db.OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET status = 'ready', vod_prefix = @p WHERE id = @id", [("p", $"vod/{video}/v1"), ("id", video)], default);
        }

        await FutureStore(TimeSpan.FromDays(1)).EnqueueAsync(video, app.Upload(Clips.Plain(2)), 3, default);
        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{video}/job", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        Assert.Equal("cancelled", (await app.JobAsync(video, owner)).GetProperty("state").GetString());
        var v = await app.VideoAsync(video, owner);
        Assert.Equal("ready", v.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, v.GetProperty("failureReason").ValueKind);
        Assert.StartsWith($"/vod/{video}/", v.GetProperty("playbackPath").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_queued_job_puts_the_video_back_to_draft_and_removes_the_source()
    {
        var (video, owner) = await NewVideoAsync();
        var source = app.Upload(Clips.Plain(2));
        await FutureStore(TimeSpan.FromDays(1)).EnqueueAsync(video, source, 3, default);
        Assert.Equal("processing", (await app.VideoAsync(video, owner)).GetProperty("status").GetString());
        Assert.Equal("queued", (await app.JobAsync(video, owner)).GetProperty("state").GetString());

        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{video}/job", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        var job = await app.JobAsync(video, owner);
        Assert.Equal("cancelled", job.GetProperty("state").GetString());
        Assert.NotEqual(JsonValueKind.Null, job.GetProperty("finishedAt").ValueKind);
        var v = await app.VideoAsync(video, owner);
        Assert.Equal("draft", v.GetProperty("status").GetString());
        Assert.Equal("cancelled", v.GetProperty("failureReason").GetString());
        Assert.StartsWith("/live/", v.GetProperty("playbackPath").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(source));

        // Nothing left to cancel: still 204 (idempotent), and the job stays cancelled.
        using (var r = await app.SendAsync(HttpMethod.Delete, $"api/v1/videos/{video}/job", owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
    }

    [Fact]
    public async Task Abandoned_jobs_go_back_to_the_queue_and_ones_without_attempts_left_fail()
    {
        const string Node = "abcdef0123456789";
        var store = FutureStore(TimeSpan.FromDays(3));
        var owner = await app.NewUserAsync("creator");
        var (again, _) = await NewVideoAsync(owner);
        var (spent, _) = await NewVideoAsync(owner);
        var againJob = (await store.EnqueueAsync(again, "/nonexistent/a", 3, default)).JobId;
        var spentJob = (await store.EnqueueAsync(spent, "/nonexistent/b", 1, default)).JobId;
        var claimed = (await store.ClaimAsync(Node + ":old", 10, TimeSpan.FromHours(1), default)).Select(j => j.Id).ToList();
        Assert.Contains(againJob, claimed);
        Assert.Contains(spentJob, claimed);

        // A new run of the same node: the old run's leases are abandoned even though they have not expired.
        var (requeued, exhausted) = await store.RecoverAsync(Node, Node + ":new", default);
        Assert.True(requeued >= 1);
        var a = (await store.LatestAsync(again, default))!;
        Assert.Equal((JobState.Queued, 1, (string?)null), (a.State, a.Attempts, a.LeaseOwner));
        var b = Assert.Single(exhausted, j => j.Id == spentJob);
        Assert.True(await store.FailAsync(b, null, "interrupted", "Processing was interrupted 1 times", default));
        var failed = await app.VideoAsync(spent, owner);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("interrupted", failed.GetProperty("failureReason").GetString(), StringComparison.Ordinal);

        // Another node's job whose lease ran out is abandoned too; one whose lease is current is not.
        Assert.Contains(againJob, (await store.ClaimAsync("fedcba9876543210:live", 10, TimeSpan.FromSeconds(30), default)).Select(j => j.Id));
        await store.RecoverAsync("0000000000000000", "0000000000000000:me", default);
        Assert.Equal(JobState.Running, (await store.LatestAsync(again, default))!.State);
        await FutureStore(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1)).RecoverAsync("0000000000000000", "0000000000000000:me", default);
        a = (await store.LatestAsync(again, default))!;
        Assert.Equal((JobState.Queued, 2), (a.State, a.Attempts));
        await store.CancelAsync(again, default);
    }

    [Fact]
    public async Task Input_that_is_not_media_fails_at_once_with_a_readable_reason()
    {
        var (video, _, source, owner) = await app.EnqueueAsync(Clips.NotMedia());
        var v = await app.WaitForAsync(video, owner, ["failed"]);
        var reason = v.GetProperty("failureReason").GetString()!;
        Assert.Contains("not a media file", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("/", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetFileName(source), reason, StringComparison.Ordinal);
        var job = await app.JobAsync(video, owner);
        Assert.Equal(("failed", 1), (job.GetProperty("state").GetString(), job.GetProperty("attempts").GetInt32()));
        Assert.False(File.Exists(source));
    }

    [Fact]
    public async Task A_newer_upload_supersedes_the_unfinished_job_and_its_clip_becomes_playable()
    {
        var (video, owner) = await NewVideoAsync();
        var oldSource = app.Upload(Clips.Plain(2));
        var oldJob = (await FutureStore(TimeSpan.FromDays(1)).EnqueueAsync(video, oldSource, 3, default)).JobId;

        var source = app.Upload(Clips.Plain(3));
        var job = await app.Get<IVideoJobQueue>().EnqueueTranscodeAsync(video, source, default);
        Assert.Equal(JobState.Cancelled, await app.Get<JobStore>().StateAsync(oldJob, default));
        Assert.False(File.Exists(oldSource));

        var v = await app.WaitForAsync(video, owner, ["ready"]);
        Assert.Equal(100, v.GetProperty("processingProgress").GetDouble());
        Assert.Equal($"/vod/{video}/index.m3u8", v.GetProperty("playbackPath").GetString());
        Assert.Equal($"/vod/{video}/index.mpd", v.GetProperty("dashPath").GetString());
        Assert.InRange(v.GetProperty("durationSeconds").GetDouble(), 2.5, 3.5);
        // (Not GET .../job, which WaitForAsync also polls: the superseded job was created "a day from now", so it is
        // the latest by creation time. The job itself ends after its clean-up.)
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await app.Get<JobStore>().StateAsync(job, default) is var state && state != JobState.Succeeded)
        {
            Assert.True(state == JobState.Running && DateTime.UtcNow < deadline, state);
            await Task.Delay(50);
        }

        Assert.Equal(VodPrefixes.Full(video, job), await app.VodPrefixAsync(video));

        var master = app.LocalBlob(VodPrefixes.Full(video, job) + "/master.m3u8");
        var decoded = StreamVerse.Tests.Shared.TestProcesses.Run(TimeSpan.FromMinutes(1), "ffmpeg", "-v", "error", "-i", master, "-f", "null", "-");
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim().Length == 0, decoded.StdErr);
        Assert.False(File.Exists(source));
    }
}

[Collection("jobs-sqlite")]
public sealed class JobQueueTestsSqlite(JobsSqliteApp app) : JobQueueTests(app);

[Collection("jobs-postgres")]
public sealed class JobQueueTestsPostgres(JobsPostgresApp app) : JobQueueTests(app);
