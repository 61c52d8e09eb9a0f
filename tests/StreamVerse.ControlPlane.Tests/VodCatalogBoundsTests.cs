using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The VOD catalog caches lookups by the id in the URL: only ids a video can have become keys.</summary>
[Collection("sqlite")]
public sealed class VodCatalogBoundsTests(SqliteApp app)
{
    [Fact]
    public async Task An_id_longer_than_any_video_id_is_answered_without_becoming_a_cache_key()
    {
        var catalog = app.Get<VodCatalog>();
        var before = catalog.Count;
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(await catalog.ResolveAsync(new string('v', 4000) + i, default));
        }

        Assert.Equal(before, catalog.Count);

        // Through the origin too: a long id in the path is a 404 like any unknown video.
        using var r = await app.Http.GetAsync($"vod/{new string('v', 4000)}/index.m3u8");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal(before, catalog.Count);
    }
}
