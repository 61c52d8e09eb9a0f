using System.Net;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// A viewer who started on the fast-start preview has loaded that version's media playlists and keeps fetching its
/// segments for the whole video: the preview must outlive the switch to the full ladder, then go when due.
/// </summary>
[Collection("jobs-retention")]
public sealed class RetiredPresentationTestsSqlite(JobsRetentionApp app) : RetiredPresentationTests(app), IClassFixture<JobsRetentionApp>;

[Collection("jobs-retention")]
public sealed class RetiredPresentationTestsPostgres(JobsRetentionPostgresApp app) : RetiredPresentationTests(app), IClassFixture<JobsRetentionPostgresApp>;

public abstract class RetiredPresentationTests(JobsRetentionApp app)
{
    [Fact]
    public async Task A_replaced_preview_keeps_playing_until_its_retention_runs_out()
    {
        var (video, job, _, owner) = await app.EnqueueAsync(Clips.Plain(4));
        var preview = VodPrefixes.Preview(video, job);
        await app.WaitForAsync(video, owner, ["ready"]);
        Assert.Equal(VodPrefixes.Full(video, job), await app.VodPrefixAsync(video));

        // Right after the full ladder replaced it (retention 3 s + 4 s of video), the preview is stored and served
        // under its own version, segments included.
        var version = preview[(preview.LastIndexOf('/') + 1)..];
        var master = await app.Http.GetStringAsync($"vod/{video}/{version}/master.m3u8");
        var playlist = master.Split('\n').First(l => l.EndsWith(".m3u8", StringComparison.Ordinal) && !l.StartsWith('#'));
        var media = await app.Http.GetStringAsync($"vod/{video}/{version}/{playlist}");
        var segment = media.Split('\n').First(l => l.EndsWith(".m4s", StringComparison.Ordinal));
        using (var r = await app.Http.GetAsync($"vod/{video}/{version}/{segment}"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        // Then the worker's sweep deletes it, and forgets it.
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (Directory.Exists(app.LocalBlob(preview)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.False(Directory.Exists(app.LocalBlob(preview)), "the retired preview was never deleted");
        // The sweep deletes the files first and then the row (in that order, so a failure leaves it to retry): the
        // row may still be there for a moment after the folder is gone.
        await using var db = await app.Db.OpenAsync(CancellationToken.None);
        long rows;
        while ((rows = await db.ScalarAsync<long>("SELECT COUNT(*) FROM retired_presentations WHERE prefix = @p", [("p", preview)], CancellationToken.None)) > 0
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0L, rows);
        using (var gone = await app.Http.GetAsync($"vod/{video}/{version}/{segment}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.True(Directory.Exists(app.LocalBlob(VodPrefixes.Full(video, job))), "the current version must stay");
    }
}
