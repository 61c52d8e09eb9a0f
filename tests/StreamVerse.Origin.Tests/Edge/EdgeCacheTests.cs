using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Tests.Edge;

public sealed class EdgeCacheTests
{
    private static CacheEntry Entry(int size, byte fill) => new()
    {
        Body = Enumerable.Repeat(fill, size).ToArray(),
        ContentType = "video/mp4",
        ETag = $"\"e{fill}\"",
        CacheControl = "public, max-age=31536000, immutable",
        FetchedAtMs = 1,
        FreshUntilMs = long.MaxValue / 2,
        StaleUntilMs = long.MaxValue / 2,
    };

    [Fact]
    public async Task Objects_move_to_disk_past_the_memory_budget_and_are_dropped_past_the_disk_budget()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-edge-cache-" + Guid.NewGuid().ToString("N"));
        // 1 MiB in memory, 6 MiB in all; 1,000 objects of 16 KiB (memory is evicted a page of ~170 records at a time).
        using (var cache = new EdgeCache(dir, 1L << 20, 6L << 20, NullLogger<EdgeCache>.Instance))
        {
            for (var i = 0; i < 1000; i++)
            {
                cache.Put($"/live/a/s/video_{i}.m4s", Entry(16 * 1024, (byte)i));
                if (i % 50 == 0)
                {
                    await Task.Delay(20);
                }
            }

            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((cache.MemoryBytes > 1L << 20 || cache.TotalBytes > 6L << 20) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.InRange(cache.MemoryBytes, 1, 1L << 20);
            Assert.InRange(cache.TotalBytes, 1, 6L << 20);

            // The newest is in memory (same instance), a middle one comes back from disk intact, the oldest is gone.
            var newest = await cache.GetAsync("/live/a/s/video_999.m4s", CancellationToken.None);
            Assert.NotNull(newest);
            Assert.Equal(0, cache.DiskReads);
            var middle = await cache.GetAsync("/live/a/s/video_700.m4s", CancellationToken.None);
            Assert.NotNull(middle);
            Assert.True(1 == cache.DiskReads, cache.Addresses.ToString());
            Assert.Equal(16 * 1024, middle.Body.Length);
            Assert.All(middle.Body, b => Assert.Equal(unchecked((byte)700), b));
            Assert.Equal($"\"e{unchecked((byte)700)}\"", middle.ETag);
            Assert.Null(await cache.GetAsync("/live/a/s/video_0.m4s", CancellationToken.None));
            Assert.Null(await cache.GetAsync("/live/a/s/never.m4s", CancellationToken.None));
            var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => new FileInfo(f)).ToList();
            Assert.NotEmpty(files);
            // 16 MB were written; the disk tier holds the 6 MiB budget plus at most a segment file or two of slack.
            var onDisk = files.Sum(f => f.Length);
            Assert.True(onDisk < 10L << 20, $"{onDisk} bytes on disk: {string.Join(", ", files.Select(f => f.Name + "=" + f.Length))}");
        }

        Assert.False(Directory.Exists(dir), "the cache directory is removed on dispose");
    }

    [Fact]
    public async Task An_object_read_as_it_ages_survives_while_an_unread_one_of_its_age_is_dropped()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-edge-cache-" + Guid.NewGuid().ToString("N"));
        // 1 MiB in memory, 2 MiB in all, 16 KiB objects: in insertion order (FIFO) both first objects would be long gone
        // after 600 newer ones (9.4 MiB).
        using var cache = new EdgeCache(dir, 1L << 20, 2L << 20, NullLogger<EdgeCache>.Instance);
        cache.Put("/vod/v/1/hot.m4s", Entry(16 * 1024, 1));
        cache.Put("/vod/v/1/cold.m4s", Entry(16 * 1024, 2));
        for (var i = 0; i < 600; i++)
        {
            cache.Put($"/vod/v/1/s{i}.m4s", Entry(16 * 1024, 3));
            if (i % 10 == 0)
            {
                var hot = await cache.GetAsync("/vod/v/1/hot.m4s", CancellationToken.None);
                Assert.True(hot is not null, $"hot object lost after {i} insertions; {cache.Addresses}");
                Assert.All(hot.Body, b => Assert.Equal(1, b));
            }

            if (i % 50 == 0)
            {
                await Task.Delay(20);
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((cache.MemoryBytes > 1L << 20 || cache.TotalBytes > 2L << 20) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.InRange(cache.TotalBytes, 1, 2L << 20);
        Assert.NotNull(await cache.GetAsync("/vod/v/1/hot.m4s", CancellationToken.None));
        Assert.Null(await cache.GetAsync("/vod/v/1/cold.m4s", CancellationToken.None));
        Assert.Null(await cache.GetAsync("/vod/v/1/s0.m4s", CancellationToken.None));
        // Promoted about once per half memory tier of new data (~32 objects), not on every hit.
        Assert.InRange(cache.Promotions, 5, 40);
    }

    [Fact]
    public async Task A_revalidated_entry_replaces_the_old_one_without_counting_its_body_twice()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-edge-cache-" + Guid.NewGuid().ToString("N"));
        using var cache = new EdgeCache(dir, 8L << 20, 16L << 20, NullLogger<EdgeCache>.Instance);
        var old = Entry(50_000, 7);
        cache.Put("/vod/v/index.m3u8", old);
        var bytes = cache.MemoryBytes;
        var stored = await cache.GetAsync("/vod/v/index.m3u8", CancellationToken.None);
        var refreshed = new CacheEntry
        {
            Body = stored!.Body,
            ContentType = stored.ContentType,
            ETag = stored.ETag,
            CacheControl = stored.CacheControl,
            FetchedAtMs = 5,
            FreshUntilMs = 12345,
            StaleUntilMs = 23456,
        };
        cache.Replace("/vod/v/index.m3u8", stored, refreshed);
        Assert.Equal(bytes, cache.MemoryBytes);
        Assert.Equal(bytes, cache.TotalBytes);
        var now = await cache.GetAsync("/vod/v/index.m3u8", CancellationToken.None);
        Assert.Same(refreshed, now);
        Assert.Same(old.Body, now!.Body);
    }

    [Fact]
    public async Task A_rewritten_key_reads_its_latest_value()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-edge-cache-" + Guid.NewGuid().ToString("N"));
        using var cache = new EdgeCache(dir, 8L << 20, 16L << 20, NullLogger<EdgeCache>.Instance);
        cache.Put("/live/a/video.m3u8", Entry(100, 1));
        cache.Put("/live/a/video.m3u8", Entry(100, 2));
        Assert.Equal("\"e2\"", (await cache.GetAsync("/live/a/video.m3u8", CancellationToken.None))!.ETag);
    }

    [Fact]
    public async Task A_purge_drops_every_object_of_its_video_plain_and_tokenised_and_nothing_else()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-edge-cache-" + Guid.NewGuid().ToString("N"));
        using var cache = new EdgeCache(dir, 8L << 20, 16L << 20, NullLogger<EdgeCache>.Instance);
        string[] mine = ["/vod/v1/index.m3u8", "/vod/v1/v1/360p_1.m4s", "/vod/t/TOKEN/v1/v1/360p_1.m4s", "/live/v1/s1/video_1.m4s",
            "/live/v1/video.m3u8?_HLS_skip=YES", "/live/t/TOKEN/v1/s1/video_2.m4s"];
        string[] others = ["/vod/v2/v1/360p_1.m4s", "/live/v10/s1/video_1.m4s", "/vod/t/TOKEN/v2/v1/360p_1.m4s"];
        foreach (var key in mine.Concat(others))
        {
            Assert.True(cache.Put(key, Entry(1000, 1), fetchStartedMs: 0));
        }

        var bytes = cache.MemoryBytes;
        Assert.Equal(mine.Length, cache.Purge("v1", nowMs: 1_000, holdMs: 5_000));
        foreach (var key in mine)
        {
            Assert.Null(await cache.GetAsync(key, CancellationToken.None));
        }

        foreach (var key in others)
        {
            Assert.NotNull(await cache.GetAsync(key, CancellationToken.None));
        }

        // Their bytes left the ledger; a second purge finds nothing.
        Assert.True(cache.MemoryBytes < bytes);
        Assert.Equal(0, cache.Purge("v1", nowMs: 1_000, holdMs: 5_000));

        // Held: a fetch that began before the purge, or before the hold ended, is not stored; one that began after is.
        Assert.False(cache.Put("/vod/v1/v1/360p_1.m4s", Entry(1000, 2), fetchStartedMs: 900));
        Assert.False(cache.Put("/vod/v1/v1/360p_1.m4s", Entry(1000, 2), fetchStartedMs: 5_999));
        Assert.False(cache.Put("/vod/t/TOKEN/v1/v1/360p_1.m4s", Entry(1000, 2), fetchStartedMs: 3_000));
        Assert.Null(await cache.GetAsync("/vod/v1/v1/360p_1.m4s", CancellationToken.None));
        Assert.True(cache.Put("/vod/v1/v1/360p_1.m4s", Entry(1000, 3), fetchStartedMs: 6_000));
        Assert.Equal("\"e3\"", (await cache.GetAsync("/vod/v1/v1/360p_1.m4s", CancellationToken.None))!.ETag);
        Assert.True(cache.Put("/vod/v2/v1/360p_2.m4s", Entry(1000, 4), fetchStartedMs: 900));
    }

    [Fact]
    public async Task A_purge_reaches_objects_on_disk_and_a_purge_of_everything_drops_all()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-edge-cache-" + Guid.NewGuid().ToString("N"));
        using var cache = new EdgeCache(dir, 1L << 20, 16L << 20, NullLogger<EdgeCache>.Instance);
        for (var i = 0; i < 200; i++)
        {
            cache.Put($"/vod/v{i % 4}/v1/s{i}.m4s", Entry(16 * 1024, (byte)i), fetchStartedMs: 0);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (cache.MemoryBytes > 1L << 20 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        // The oldest objects live on disk now; their video's purge drops them too.
        Assert.NotNull(await cache.GetAsync("/vod/v0/v1/s0.m4s", CancellationToken.None));
        Assert.Equal(50, cache.Purge("v0", nowMs: 10, holdMs: 0));
        Assert.Null(await cache.GetAsync("/vod/v0/v1/s0.m4s", CancellationToken.None));
        Assert.Null(await cache.GetAsync("/vod/v0/v1/s196.m4s", CancellationToken.None));
        Assert.NotNull(await cache.GetAsync("/vod/v1/v1/s1.m4s", CancellationToken.None));

        Assert.Equal(150, cache.PurgeAll(nowMs: 20));
        Assert.Null(await cache.GetAsync("/vod/v1/v1/s1.m4s", CancellationToken.None));
        Assert.Null(await cache.GetAsync("/vod/v3/v1/s199.m4s", CancellationToken.None));
        Assert.False(cache.Put("/vod/v1/v1/s1.m4s", Entry(100, 1), fetchStartedMs: 20));
        Assert.True(cache.Put("/vod/v1/v1/s1.m4s", Entry(100, 1), fetchStartedMs: 21));
    }

    [Theory]
    [InlineData("/vod/abc/v1/x.m4s", "abc")]
    [InlineData("/vod/t/TOK/abc/v1/x.m4s", "abc")]
    [InlineData("/live/t/TOK/cam/index.m3u8", "cam")]
    [InlineData("/Vod/T/TOK/abc/index.m3u8", null)] // not a canonical path: never a cache key
    [InlineData("/live/cam/video.m3u8?_HLS_skip=YES", "cam")]
    [InlineData("/live/t/x/y.m3u8", null)]
    [InlineData("/live/cam", null)]
    [InlineData("/other/cam/x", null)]
    public void A_cache_key_names_its_video(string key, string? id) =>
        Assert.Equal(id, CacheKeyVideoIds.Of(key));

    [Theory]
    [InlineData("/live/cam/s1/video_1.m4s", "", "/live/cam/s1/video_1.m4s", false)]
    [InlineData("/live/cam/video.m3u8", "?_HLS_part=2&_HLS_msn=10&foo=bar", "/live/cam/video.m3u8?_HLS_msn=10&_HLS_part=2", true)]
    [InlineData("/live/cam/video.m3u8", "?_HLS_msn=10", "/live/cam/video.m3u8?_HLS_msn=10", true)]
    [InlineData("/live/cam/video.m3u8", "?_HLS_skip=YES", "/live/cam/video.m3u8?_HLS_skip=YES", false)]
    [InlineData("/live/cam/video.m3u8", "?x=1", "/live/cam/video.m3u8", false)]
    [InlineData("/live/cam/s1/video_1.m4s", "?_HLS_msn=1", "/live/cam/s1/video_1.m4s", false)]
    [InlineData("/live/../etc/passwd", "", null, false)]
    [InlineData("/live/cam/a%20b", "", null, false)]
    [InlineData("/live/cam/video.m3u8", "?_HLS_msn=1%3Bx", null, false)]
    public void Cache_key_is_the_path_plus_the_ll_hls_directives_in_order(string path, string query, string? expected, bool blocking)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        var key = EdgeDelivery.Handler.CacheKey(context.Request, out var isBlocking);
        Assert.Equal(expected, key);
        if (expected is not null)
        {
            Assert.Equal(blocking, isBlocking);
        }
    }
}
