using System.Net.Http.Headers;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// <c>GET /internal/v1/invalidations</c>: which videos edges must drop, written with the change that makes their untokenised
/// answers wrong, readable only with the edge credential derived from the playback signing key.
/// </summary>
public abstract class EdgeInvalidationFeedTests(ControlPlaneApp app)
{
    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> FeedAsync(string query, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "internal/v1/invalidations" + query);
        request.Headers.Authorization = authorization;
        var response = await app.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private AuthenticationHeaderValue Edge => new(EdgeInvalidations.Scheme, app.Get<PlaybackTokens>().EdgeFeedCredential());

    private static List<string> Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("videoId").GetString()!)];

    [Fact]
    public async Task Only_the_edge_credential_opens_the_feed()
    {
        var admin = await app.AdminAsync();
        foreach (var authorization in new AuthenticationHeaderValue?[]
        {
            null,
            new("Bearer", admin.AccessToken),
            new(EdgeInvalidations.Scheme, EdgeInvalidations.Credential(System.Text.Encoding.UTF8.GetBytes("another deployment's playback signing key!!"))),
            new(EdgeInvalidations.Scheme, ""),
        })
        {
            var (status, body, response) = await FeedAsync("", authorization);
            using (response)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, status);
                Assert.Equal(EdgeInvalidations.Scheme, response.Headers.WwwAuthenticate.Single().Scheme);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
                Assert.False(body.TryGetProperty("items", out _));
            }
        }

        var (ok, page, okResponse) = await FeedAsync("", Edge);
        using (okResponse)
        {
            Assert.Equal(HttpStatusCode.OK, ok);
            Assert.True(page.GetProperty("reset").GetBoolean());
            // Twice the test app's CacheRefreshInterval (0.5 s) plus a second.
            Assert.Equal(2, page.GetProperty("holdSeconds").GetInt32());
            Assert.True(okResponse.Headers.CacheControl!.NoStore);
        }

        var (bad, problem, badResponse) = await FeedAsync("?after=x", Edge);
        using (badResponse)
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad);
            Assert.True(problem.GetProperty("errors").TryGetProperty("after", out _), problem.ToString());
        }
    }

    [Fact]
    public async Task Made_private_and_deleted_videos_are_listed_in_order_and_nothing_else()
    {
        var (_, start, r0) = await FeedAsync("", Edge);
        r0.Dispose();
        var cursor = start.GetProperty("last").GetInt64();

        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        string NewId(JsonElement video) => video.GetProperty("id").GetString()!;
        var madePrivate = NewId(await app.NewVideoAsync(creator, channel));
        var madePremium = NewId(await app.NewVideoAsync(creator, channel));
        var renamed = NewId(await app.NewVideoAsync(creator, channel));
        var unlisted = NewId(await app.NewVideoAsync(creator, channel));
        var deleted = NewId(await app.NewVideoAsync(creator, channel));
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{madePrivate}", creator.AccessToken, new { visibility = "private" });
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{renamed}", creator.AccessToken, new { title = "renamed" });
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{unlisted}", creator.AccessToken, new { visibility = "unlisted" });
        await app.JsonAsync(HttpMethod.Patch, $"api/v1/videos/{madePremium}", (await app.AdminAsync()).AccessToken, new { visibility = "premium" });
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{deleted}", creator.AccessToken, expect: HttpStatusCode.NoContent);

        // A deleted account takes its videos with it; a deleted channel too.
        var leaver = await app.NewUserAsync("creator");
        var leaverVideo = NewId(await app.NewVideoAsync(leaver, await app.NewChannelAsync(leaver)));
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me", leaver.AccessToken, new { password = ControlPlaneApp.Password }, HttpStatusCode.NoContent);
        var channelVideo = NewId(await app.NewVideoAsync(creator, channel = await app.NewChannelAsync(creator)));
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/channels/{channel}", creator.AccessToken, expect: HttpStatusCode.NoContent);

        var (status, page, r1) = await FeedAsync($"?after={cursor}", Edge);
        r1.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(page.GetProperty("reset").GetBoolean());
        var mine = new HashSet<string> { madePrivate, madePremium, renamed, unlisted, deleted, leaverVideo, channelVideo };
        // Other tests share this app: only this test's videos are compared, in feed order.
        Assert.Equal([madePrivate, madePremium, deleted, leaverVideo, channelVideo], Ids(page).Where(mine.Contains));
        var seqs = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs[^1], page.GetProperty("last").GetInt64());

        // Caught up: nothing new from the last seq; a cursor the feed never gave (another database's) resets.
        var (_, again, r2) = await FeedAsync($"?after={page.GetProperty("last").GetInt64()}", Edge);
        r2.Dispose();
        Assert.DoesNotContain(Ids(again), mine.Contains);
        var (_, foreign, r3) = await FeedAsync($"?after={page.GetProperty("last").GetInt64() + 1_000_000}", Edge);
        r3.Dispose();
        Assert.True(foreign.GetProperty("reset").GetBoolean());
    }
}

[Collection("sqlite")]
public sealed class EdgeInvalidationFeedTestsSqlite(SqliteApp app) : EdgeInvalidationFeedTests(app);

[Collection("postgres")]
public sealed class EdgeInvalidationFeedTestsPostgres(PostgresApp app) : EdgeInvalidationFeedTests(app);
