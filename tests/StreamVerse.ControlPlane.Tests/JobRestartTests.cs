using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>A daemon of its own (it is restarted), SQLite.</summary>
[Collection("jobs-restart")]
public sealed class JobRestartTests(JobsSqliteApp app) : IClassFixture<JobsSqliteApp>
{
    [Fact]
    public async Task A_job_interrupted_by_a_stop_and_a_crash_resumes_after_its_preview_and_completes()
    {
        var clip = Clips.Make("restart-640.mp4", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine",
            "-t", "40", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest");
        var (video, job, source, owner) = await app.EnqueueAsync(clip);
        var preview = VodPrefixes.Preview(video, job);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (await app.VodPrefixAsync(video) != preview)
        {
            Assert.True(DateTime.UtcNow < deadline, "no preview published");
            Assert.Equal("running", (await app.JobAsync(video, owner)).GetProperty("state").GetString());
            await Task.Delay(20);
        }

        var node = app.Worker.Node;
        await app.RestartAsync(async () =>
        {
            // A graceful stop hands the job back without counting the run; the published preview stays.
            await using var database = app.StandaloneDatabase();
            await using var db = await database.OpenAsync(default);
            var (state, attempts) = (await db.SingleAsync("SELECT state, attempts FROM jobs WHERE id = @id", [("id", job)],
                (r, _) => Tuple.Create(r.GetString(0), Convert.ToInt32(r.GetValue(1))), default))!;
            Assert.Equal(("queued", 0), (state, attempts));
            Assert.Equal(preview, await db.ScalarAsync<string>("SELECT vod_prefix FROM videos WHERE id = @v", [("v", video)], default));
            Assert.False(Directory.Exists(Path.Combine(app.WorkDir, job)));

            // Now make it look like a crash instead: still "running", leased to the dead run of this node for another
            // hour, with a half-written work dir and half an upload of the full ladder.
            await db.ExecAsync("UPDATE jobs SET state = 'running', attempts = 1, lease_owner = @o, lease_expires_at = @exp WHERE id = @id",
                [("o", node + ":dead"), ("exp", DateTimeOffset.UtcNow.AddHours(1)), ("id", job)], default);
            Directory.CreateDirectory(Path.Combine(app.WorkDir, job, ".full.partial-0"));
            File.WriteAllText(Path.Combine(app.WorkDir, job, ".full.partial-0", "360p_1.m4s"), "half");
            var halfUpload = app.LocalBlob(VodPrefixes.Full(video, job) + "/360p_1.m4s");
            Directory.CreateDirectory(Path.GetDirectoryName(halfUpload)!);
            File.WriteAllText(halfUpload, "half");
        });

        var v = await app.WaitForAsync(video, owner, ["ready", "failed"]);
        Assert.Equal("ready", v.GetProperty("status").GetString());
        var info = await app.JobAsync(video, owner);
        Assert.Equal(("succeeded", 2), (info.GetProperty("state").GetString(), info.GetProperty("attempts").GetInt32()));

        var full = VodPrefixes.Full(video, job);
        Assert.Equal(full, await app.VodPrefixAsync(video));
        Assert.False(File.Exists(app.LocalBlob(full + "/360p_1.m4s")), "a stale half upload survived");
        Assert.False(Directory.Exists(app.LocalBlob(preview)));
        Assert.False(Directory.Exists(Path.Combine(app.WorkDir, job)));
        Assert.False(File.Exists(source));

        var master = app.LocalBlob(full + "/master.m3u8");
        var duration = TestProcesses.Run(TimeSpan.FromMinutes(1), "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", master);
        Assert.InRange(double.Parse(duration.StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture), 39, 41);
        var decoded = TestProcesses.Run(TimeSpan.FromMinutes(2), "ffmpeg", "-v", "error", "-i", master, "-f", "null", "-");
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim().Length == 0, decoded.StdErr);
    }
}
