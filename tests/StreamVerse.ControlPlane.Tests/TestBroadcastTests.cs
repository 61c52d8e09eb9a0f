using StreamVerse.ControlPlane.StreamKeys;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Private test broadcasts (issue 16): a key whose broadcasts start private, for the owner to check before going public.</summary>
public abstract class TestBroadcastTests(ControlPlaneApp app)
{
    [Fact]
    public async Task A_test_keys_broadcast_is_private_until_the_owner_makes_it_public()
    {
        var owner = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(owner);
        var created = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", owner.AccessToken, new { privateTest = true }, HttpStatusCode.Created);
        Assert.True(created.GetProperty("privateTest").GetBoolean());
        var plain = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/stream-keys", owner.AccessToken, expect: HttpStatusCode.Created);
        Assert.False(plain.GetProperty("privateTest").GetBoolean());

        // What an RTMP publish with the key does (LivePublishTests publishes for real).
        var ingest = app.Get<LiveIngest>();
        var first = (await ingest.ResolveAsync(created.GetProperty("key").GetString()!, default))!;
        var mine = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{first}", owner.AccessToken);
        Assert.Equal(("private", "live"), (mine.GetProperty("visibility").GetString(), mine.GetProperty("status").GetString()));
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{first}", expect: HttpStatusCode.NotFound);
        Assert.Equal(JsonValueKind.Null, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("liveVideoId").ValueKind);

        // Going public: the broadcast becomes what viewers see live now.
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{first}", owner.AccessToken, new { visibility = "public" });
        await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{first}");
        Assert.Equal(first, (await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}")).GetProperty("liveVideoId").GetString());

        // The next test broadcast starts private again, whatever the previous one became.
        var second = (await ingest.ResolveAsync(created.GetProperty("key").GetString()!, default))!;
        Assert.Equal("private", (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{second}", owner.AccessToken)).GetProperty("visibility").GetString());
        var listed = await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/stream-keys", owner.AccessToken);
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), k => k.GetProperty("privateTest").GetBoolean() && k.GetProperty("liveVideoId").GetString() == second);
    }
}

[Collection("sqlite")]
public sealed class TestBroadcastTestsSqlite(SqliteApp app) : TestBroadcastTests(app);

[Collection("postgres")]
public sealed class TestBroadcastTestsPostgres(PostgresApp app) : TestBroadcastTests(app);
