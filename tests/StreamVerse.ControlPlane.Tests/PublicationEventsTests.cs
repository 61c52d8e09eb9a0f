using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.StreamKeys;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>A video's first publication and a channel going live are written to the outbox with the change itself.</summary>
public abstract class PublicationEventsTests(ControlPlaneApp app)
{
    private Database Db => app.Get<Database>();

    /// <summary>A store on time three days ahead: jobs it queues are not due for the daemon's own worker.</summary>
    private JobStore FutureStore() => new(Db, new ShiftedTime(TimeSpan.FromDays(3)), app.Get<VodCatalog>(), app.Get<VideoPublication>(), app.Get<StreamVerse.ControlPlane.Events.Outbox>());

    private async Task<List<(string Type, string Payload)>> EventsAboutAsync(string videoId)
    {
        await using var db = await Db.OpenAsync(default);
        return await db.QueryAsync("SELECT type, payload FROM outbox WHERE payload LIKE @p AND type NOT LIKE 'jobs.%' ORDER BY seq", [("p", $"%\"{videoId}\"%")],
            (r, _) => (r.GetString(0), r.GetString(1)), default);
    }

    private async Task PublishAsync(JobStore store, string video)
    {
        var job = (await store.EnqueueAsync(video, Path.Combine(app.DataDir, "none.mp4"), 3, default)).JobId;
        var claimed = (await store.ClaimAsync("test:" + Guid.NewGuid().ToString("N")[..8], 100, TimeSpan.FromMinutes(5), default)).Single(j => j.Id == job);
        var (published, _) = await store.PublishFullAsync(claimed, claimed.LeaseOwner!, new TranscodeOutput(2, HasPoster: false, AudioTracks: []), TimeSpan.Zero, default);
        Assert.True(published);
    }

    [Fact]
    public async Task A_public_video_becoming_ready_is_published_once_even_when_its_source_is_replaced()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, "public")).GetProperty("id").GetString()!;
        var store = FutureStore();
        await PublishAsync(store, video);
        await PublishAsync(store, video); // a replaced source finishing again is no new publication

        var events = await EventsAboutAsync(video);
        var published = Assert.Single(events);
        Assert.Equal("videos.video-published.v1", published.Type);
        using var payload = JsonDocument.Parse(published.Payload);
        Assert.Equal(video, payload.RootElement.GetProperty("videoId").GetString());
        Assert.Equal(channel, payload.RootElement.GetProperty("channelId").GetString());
        Assert.Equal("vod", payload.RootElement.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_private_video_is_published_when_it_is_made_public()
    {
        var owner = await app.NewUserAsync("creator");
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "private")).GetProperty("id").GetString()!;
        await PublishAsync(FutureStore(), video);
        Assert.Empty(await EventsAboutAsync(video));

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "public" });
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "unlisted" });
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "public" });
        Assert.Equal(["videos.video-published.v1"], (await EventsAboutAsync(video)).Select(e => e.Type));
    }

    [Fact]
    public async Task A_public_broadcast_starting_publishes_the_video_and_the_channel_going_live()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var key = (await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", owner.AccessToken, expect: HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        var video = (await app.Get<LiveIngest>().ResolveAsync(key, default))!;

        var events = await EventsAboutAsync(video);
        Assert.Equal(["videos.video-published.v1", "channels.channel-went-live.v1"], events.Select(e => e.Type));
        using var live = JsonDocument.Parse(events[1].Payload);
        Assert.Equal(channel, live.RootElement.GetProperty("channelId").GetString());
        Assert.Equal("live", JsonDocument.Parse(events[0].Payload).RootElement.GetProperty("kind").GetString());
    }
}

[Collection("sqlite")]
public sealed class PublicationEventsTestsSqlite(SqliteApp app) : PublicationEventsTests(app);

[Collection("postgres")]
public sealed class PublicationEventsTestsPostgres(PostgresApp app) : PublicationEventsTests(app);
