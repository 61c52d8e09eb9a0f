using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Private and premium playback: a viewer who is still entitled plays a long video to its end (the token covers the
/// presentation, not just <c>TokenLifetime</c>), and one who loses access is refused before the token expires.
/// TokenLifetime is 10 s here (the "1 h" of a default install) and the daemon's clock can be moved forward.
/// </summary>
public abstract class PlaybackWithdrawalTests(ShortTokenApp app)
{
    /// <summary>The origin's answer to the token's VOD index: 403 (refused by the gate) or 404 (admitted; nothing is published).</summary>
    private async Task<HttpStatusCode> OriginAsync(string token, string video)
    {
        using var r = await app.Http.GetAsync($"vod/t/{token}/{video}/index.m3u8");
        return r.StatusCode;
    }

    private async Task<string> TokenAsync(string video, Persona viewer) =>
        (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { })).GetProperty("token").GetString()!;

    private async Task<string> VideoAsync(Persona owner, string visibility, double? durationSeconds)
    {
        var video = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), visibility)).GetProperty("id").GetString()!;
        if (durationSeconds is not null)
        {
            // As the transcoder records it when the video becomes ready.
            await using var db = await app.Get<Data.Database>().OpenAsync(CancellationToken.None);
            await db.ExecAsync("UPDATE videos SET duration_seconds = @d, status = 'ready' WHERE id = @id", [("d", durationSeconds), ("id", video)], CancellationToken.None);
        }

        return video;
    }

    [Fact]
    public async Task A_premium_viewers_token_for_a_long_video_outlives_the_default_lifetime()
    {
        var owner = await app.NewUserAsync("creator");
        var longVideo = await VideoAsync(owner, "premium", durationSeconds: 120);
        var live = await VideoAsync(owner, "premium", durationSeconds: null);
        var viewer = await app.NewUserAsync(premium: true);

        var issued = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{longVideo}/playback-token", viewer.AccessToken, new { });
        var token = issued.GetProperty("token").GetString()!;
        var lifetime = issued.GetProperty("expiresAt").GetDateTimeOffset() - app.Clock.GetUtcNow();
        Assert.InRange(lifetime.TotalSeconds, 10 + 240 - 5, 10 + 240 + 1); // TokenLifetime + 2 x the duration
        var liveToken = await TokenAsync(live, viewer);

        // Past the old lifetime (10 s) and past the video's own duration: the long video's token still plays; the
        // token of a video with no duration (live) has TokenLifetime and has expired (its player asks for a new one).
        app.Clock.Advance(TimeSpan.FromSeconds(150));
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(token, longVideo));
        Assert.Equal(HttpStatusCode.Forbidden, await OriginAsync(liveToken, live));
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(await TokenAsync(live, viewer), live));

        // Capped by MaxTokenLifetime (6 h here): a day-long video gets the cap, not two days.
        var day = await VideoAsync(owner, "premium", durationSeconds: 86_400);
        var capped = await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{day}/playback-token", viewer.AccessToken, new { });
        Assert.InRange((capped.GetProperty("expiresAt").GetDateTimeOffset() - app.Clock.GetUtcNow()).TotalHours, 6 - 0.01, 6);
    }

    [Fact]
    public async Task A_viewer_who_loses_the_premium_flag_is_refused_with_the_same_token()
    {
        var owner = await app.NewUserAsync("creator");
        var video = await VideoAsync(owner, "premium", durationSeconds: 600);
        var viewer = await app.NewUserAsync(premium: true);
        var other = await app.NewUserAsync(premium: true);
        var token = await TokenAsync(video, viewer);
        var othersToken = await TokenAsync(video, other);
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(token, video));

        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{viewer.Id}/premium", (await app.AdminAsync()).AccessToken, new { premium = false });

        // This process at once; another process sharing the database at its next reload (every CacheRefreshInterval).
        Assert.Equal(HttpStatusCode.Forbidden, await OriginAsync(token, video));
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(othersToken, video)); // only that viewer's tokens
        var elsewhere = new PlaybackRevocations(app.Get<Data.Database>(), app.Get<IOptions<PlaybackOptions>>(), app.Clock);
        await elsewhere.ReloadAsync(CancellationToken.None);
        var gate = new PlaybackGate(app.Get<ProtectedVideos>(), app.Get<PlaybackTokens>(), elsewhere, app.Clock);
        Assert.False(gate.Allows(video, token, null));
        Assert.True(gate.Allows(video, othersToken, null));

        // And the account no longer gets a new one.
        await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { }, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Making_a_video_private_refuses_earlier_tokens_of_others()
    {
        var owner = await app.NewUserAsync("creator");
        var video = await VideoAsync(owner, "public", durationSeconds: 600);
        var viewer = await app.NewUserAsync();
        var token = await TokenAsync(video, viewer);
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(token, video));

        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "private" });
        Assert.Equal(HttpStatusCode.Forbidden, await OriginAsync(token, video));
        var elsewhere = new PlaybackRevocations(app.Get<Data.Database>(), app.Get<IOptions<PlaybackOptions>>(), app.Clock);
        await elsewhere.ReloadAsync(CancellationToken.None);
        Assert.True(elsewhere.Voids(video, viewer.Id, app.Clock.GetUtcNow().AddSeconds(-1).ToUnixTimeMilliseconds()));

        // The owner's new token plays, and saving the same visibility again (an edit of the title) withdraws nothing.
        var owners = await TokenAsync(video, owner);
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(owners, video));
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{video}", owner.AccessToken, new { visibility = "private", title = "Renamed" });
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(owners, video));
    }

    [Fact]
    public async Task A_demoted_admins_tokens_for_others_private_videos_are_refused()
    {
        var owner = await app.NewUserAsync("creator");
        var video = await VideoAsync(owner, "private", durationSeconds: 600);
        var moderator = await app.NewUserAsync("admin");
        var token = await TokenAsync(video, moderator);
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(token, video));

        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{moderator.Id}/role", (await app.AdminAsync()).AccessToken, new { role = "user" });
        Assert.Equal(HttpStatusCode.Forbidden, await OriginAsync(token, video));
        Assert.Equal(HttpStatusCode.NotFound, await OriginAsync(await TokenAsync(video, owner), video));
    }
}

/// <summary>TokenLifetime 10 s, MaxTokenLifetime 6 h, and a clock the tests move forward.</summary>
public abstract class ShortTokenApp : ControlPlaneApp
{
    internal ShiftableTime Clock { get; } = new();

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Playback:TokenLifetime", "00:00:10",
        "--StreamVerse:ControlPlane:Playback:MaxTokenLifetime", "06:00:00",
    ];

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<TimeProvider>(Clock);
    }
}

public sealed class ShortTokenSqliteApp : ShortTokenApp
{
    public override string Provider => "sqlite";
}

public sealed class ShortTokenPostgresApp : ShortTokenApp
{
    public override string Provider => "postgres";
}

/// <summary>Real time plus an offset that only grows.</summary>
internal sealed class ShiftableTime : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}

public sealed class PlaybackWithdrawalTestsSqlite(ShortTokenSqliteApp app) : PlaybackWithdrawalTests(app), IClassFixture<ShortTokenSqliteApp>;

public sealed class PlaybackWithdrawalTestsPostgres(ShortTokenPostgresApp app) : PlaybackWithdrawalTests(app), IClassFixture<ShortTokenPostgresApp>;
