using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Replacing the source of a video that already plays: fast start is for the first publication only, so viewers keep
/// every rung of the previous presentation while the new source is processed, then switch to the new full ladder.
/// </summary>
[Collection("jobs-sqlite")]
public sealed class SourceReplacementTestsSqlite(JobsSqliteApp app) : SourceReplacementTests(app);

[Collection("jobs-postgres")]
public sealed class SourceReplacementTestsPostgres(JobsPostgresApp app) : SourceReplacementTests(app);

public abstract class SourceReplacementTests(JobsApp app)
{
    private static int Variants(string master) => master.Split('\n').Count(l => l.StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal));

    [Fact]
    public async Task A_replaced_source_keeps_the_previous_full_ladder_until_the_new_one_is_published()
    {
        var (video, first, _, owner) = await app.EnqueueAsync(Clips.Plain(4));
        await app.WaitForAsync(video, owner, ["ready"]);
        var before = await app.Http.GetStringAsync($"vod/{video}/index.m3u8");
        Assert.Equal(2, Variants(before)); // the test ladder: 240p and 120p
        Assert.Contains(first + "/", before, StringComparison.Ordinal);

        // The new source's full ladder is transcoded, then its stores are held: this is the moment a fast start
        // would have published its single preview rung.
        var hold = app.Blobs.HoldFullLadderPuts(video);
        try
        {
            var second = await app.Get<IVideoJobQueue>().EnqueueTranscodeAsync(video, app.Upload(Clips.Plain(3)), default);
            var seen = new List<string>();
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (!hold.Reached.IsCompleted)
            {
                Assert.True(DateTime.UtcNow < deadline, "the new full ladder was never stored");
                seen.Add(await app.Http.GetStringAsync($"vod/{video}/index.m3u8"));
                await Task.WhenAny(hold.Reached, Task.Delay(50));
            }

            var during = await app.Http.GetStringAsync($"vod/{video}/index.m3u8");
            seen.Add(during);
            Assert.Equal(VodPrefixes.Full(video, first), await app.VodPrefixAsync(video));
            Assert.All(seen, index =>
            {
                Assert.Equal(2, Variants(index));
                Assert.Contains(first + "/", index, StringComparison.Ordinal);
            });
            Assert.Contains("<BaseURL>" + first + "/</BaseURL>", await app.Http.GetStringAsync($"vod/{video}/index.mpd"), StringComparison.Ordinal);
            Assert.Equal("processing", (await app.VideoAsync(video, owner)).GetProperty("status").GetString());

            hold.Release();
            await app.WaitForAsync(video, owner, ["ready"]);
            var after = await app.Http.GetStringAsync($"vod/{video}/index.m3u8");
            Assert.Equal(2, Variants(after));
            Assert.Contains(second + "/", after, StringComparison.Ordinal);
            Assert.Equal(VodPrefixes.Full(video, second), await app.VodPrefixAsync(video));
            Assert.Equal("succeeded", (await app.JobAsync(video, owner)).GetProperty("state").GetString());
        }
        finally
        {
            hold.Release();
        }
    }

    [Fact]
    public async Task A_first_publication_still_starts_with_the_preview()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        var hold = app.Blobs.HoldFullLadderPuts(video);
        try
        {
            var job = await app.Get<IVideoJobQueue>().EnqueueTranscodeAsync(video, app.Upload(Clips.Plain(4)), default);
            await hold.Reached.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.Equal(VodPrefixes.Preview(video, job), await app.VodPrefixAsync(video));
            Assert.Equal(1, Variants(await app.Http.GetStringAsync($"vod/{video}/index.m3u8")));
        }
        finally
        {
            hold.Release();
        }
    }
}
