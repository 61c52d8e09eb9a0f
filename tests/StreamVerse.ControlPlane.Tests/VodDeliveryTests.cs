using System.Net.Http.Headers;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.ControlPlane.Videos;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// <c>/vod/...</c> at the origin over a real presentation: a lavfi clip transcoded by MediaCore's ladder, stored with
/// <see cref="IBlobStorage.PutFileAsync"/> under <c>vod/{id}/{version}</c> and published by setting <c>vod_prefix</c>,
/// as the job runner does; then ffmpeg, hls-parser (strict) and plain HTTP judge what the origin serves.
/// </summary>
public abstract class VodDeliveryTests(ControlPlaneApp app)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    /// <summary>Two presentations, transcoded once per test run: a two-rung ladder and a one-rung one.</summary>
    private static readonly Lazy<Task<(string Full, string Small)>> Presentations = new(async () =>
    {
        var root = Directory.CreateTempSubdirectory("sv-vod-src-").FullName;
        var source = Path.Combine(root, "src.mp4");
        var made = TestProcesses.Run(Long, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", "-shortest", source);
        Assert.True(made.ExitCode == 0, made.StdErr);
        var full = Path.Combine(root, "full");
        await new Transcoder().TranscodeAsync(source, full, new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(2), Preset = "ultrafast" }, null, CancellationToken.None);
        var small = Path.Combine(root, "small");
        await new Transcoder().TranscodeAsync(source, small, new LadderOptions
        {
            SegmentDuration = TimeSpan.FromSeconds(2),
            Preset = "ultrafast",
            Rungs = [new LadderRung(240, 300_000)],
        }, null, CancellationToken.None);
        return (full, small);
    });

    /// <summary>A video of <paramref name="visibility"/> whose presentation <paramref name="version"/> is stored and published.</summary>
    private async Task<string> PublishedVideoAsync(string visibility, string version = "v1", bool small = false)
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), visibility)).GetProperty("id").GetString()!;
        await StoreAsync(id, version, small);
        await SetPrefixAsync(id, $"vod/{id}/{version}");
        return id;
    }

    private async Task StoreAsync(string id, string version, bool small)
    {
        var (full, smallDir) = await Presentations.Value;
        var storage = app.Get<IBlobStorage>();
        foreach (var file in Directory.EnumerateFiles(small ? smallDir : full))
        {
            var name = Path.GetFileName(file);
            await storage.PutFileAsync($"vod/{id}/{version}/{name}", file, MediaContentTypes.Of(name), CancellationToken.None);
        }
    }

    private async Task SetPrefixAsync(string id, string? prefix)
    {
        await using (var db = await app.Get<Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("UPDATE videos SET vod_prefix = @p, status = 'ready' WHERE id = @id", [("p", prefix), ("id", id)], CancellationToken.None);
        }

        app.Get<VodCatalog>().Invalidate(id);
    }

    private static void AssertDecodes(string url, params string[] extra)
    {
        var run = TestProcesses.Run(Long, "ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", url, .. extra, "-f", "null", "-"]);
        Assert.True(run.ExitCode == 0 && run.StdErr.Trim().Length == 0, $"{url}: {run.StdErr}");
    }

    [Fact]
    public async Task The_index_points_at_the_version_and_every_variant_decodes_over_http()
    {
        var id = await PublishedVideoAsync("public");
        using var index = await app.Http.GetAsync($"vod/{id}/index.m3u8");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("public, max-age=5, stale-if-error=86400", index.Headers.CacheControl!.ToString());
        Assert.Equal("application/vnd.apple.mpegurl", index.Content.Headers.ContentType!.MediaType);
        var master = await index.Content.ReadAsStringAsync();
        Assert.Contains("URI=\"v1/audio.m3u8\"", master, StringComparison.Ordinal);
        var variants = master.Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.Equal(["v1/360p.m3u8", "v1/240p.m3u8"], variants);

        using var mpdResponse = await app.Http.GetAsync($"vod/{id}/index.mpd");
        Assert.Equal("application/dash+xml", mpdResponse.Content.Headers.ContentType!.MediaType);
        var mpd = await mpdResponse.Content.ReadAsStringAsync();
        Assert.Contains("<BaseURL>v1/</BaseURL>", mpd, StringComparison.Ordinal);

        // Media playlists under the version never change, but untokenised they live only PublicMediaMaxAgeSeconds (the
        // video may become private); their relative URIs stay in the version folder.
        using var media = await app.Http.GetAsync($"vod/{id}/v1/360p.m3u8");
        Assert.Equal("public, max-age=300, stale-if-error=86400", media.Headers.CacheControl!.ToString());
        Assert.Contains("#EXT-X-MAP:URI=\"360p_init.mp4\"", await media.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Every variant and rendition, the master with all its streams, and the MPD decode without a single error.
        foreach (var playlist in (string[])["v1/360p.m3u8", "v1/240p.m3u8", "v1/audio.m3u8"])
        {
            AssertDecodes($"{app.BaseUrl}/vod/{id}/{playlist}");
        }

        AssertDecodes($"{app.BaseUrl}/vod/{id}/index.m3u8", "-map", "0");
        AssertDecodes($"{app.BaseUrl}/vod/{id}/index.mpd", "-map", "0");
        var streams = TestProcesses.Run(Long, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,height", "-of", "csv=p=0", $"{app.BaseUrl}/vod/{id}/index.mpd");
        Assert.Equal(["audio", "video,240", "video,360"], streams.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.TrimEnd(',')).Distinct().Order());

        // hls-parser in strict mode, master and every media playlist.
        var lint = TestProcesses.Run(Long, "node", Path.Combine(BrowserDir, "lint-hls.mjs"), $"{app.BaseUrl}/vod/{id}/index.m3u8");
        Assert.True(lint.ExitCode == 0, lint.StdOut + lint.StdErr);
        Assert.Contains("\"ok\":true", lint.StdOut, StringComparison.Ordinal);

        using var poster = await app.Http.GetAsync($"vod/{id}/poster.jpg");
        Assert.Equal(HttpStatusCode.OK, poster.StatusCode);
        Assert.Equal("image/jpeg", poster.Content.Headers.ContentType!.MediaType);
        Assert.Equal("public, max-age=5, stale-if-error=86400", poster.Headers.CacheControl!.ToString());
        var bytes = await poster.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xFF, 0xD8], bytes[..2]);
    }

    [Fact]
    public async Task Segments_answer_etag_304_ranges_and_head_from_disk_and_from_memory_alike()
    {
        var id = await PublishedVideoAsync("unlisted");
        var (full, _) = await Presentations.Value;
        var expected = await File.ReadAllBytesAsync(Path.Combine(full, "360p_2.m4s"));
        var url = $"vod/{id}/v1/360p_2.m4s";
        var memoryBefore = await MetricAsync("streamverse_vod_responses_total{source=\"memory\"}");
        var storageBefore = await MetricAsync("streamverse_vod_responses_total{source=\"file\"}") + await MetricAsync("streamverse_vod_responses_total{source=\"stream\"}");

        // 1st request: sendfile from storage; 2nd: admitted into memory; 3rd and later: memory hits.
        string? etag = null;
        for (var i = 0; i < 4; i++)
        {
            using var r = await app.Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(expected, await r.Content.ReadAsByteArrayAsync());
            Assert.Equal("public, max-age=300, stale-if-error=86400", r.Headers.CacheControl!.ToString());
            Assert.Equal("video/mp4", r.Content.Headers.ContentType!.MediaType);
            Assert.Equal("bytes", r.Headers.AcceptRanges.Single());
            etag ??= r.Headers.ETag!.Tag;
            Assert.Equal(etag, r.Headers.ETag!.Tag);
            Assert.False(r.Headers.ETag.IsWeak);

            using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
            conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag));
            using var notModified = await app.Http.SendAsync(conditional);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

            using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
            ranged.Headers.Range = new RangeHeaderValue(100, 1099);
            using var partial = await app.Http.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal($"bytes 100-1099/{expected.Length}", partial.Content.Headers.ContentRange!.ToString());
            Assert.Equal(expected.AsSpan(100, 1000).ToArray(), await partial.Content.ReadAsByteArrayAsync());

            using var suffix = new HttpRequestMessage(HttpMethod.Get, url);
            suffix.Headers.Range = new RangeHeaderValue(null, 10);
            using var tail = await app.Http.SendAsync(suffix);
            Assert.Equal(expected[^10..], await tail.Content.ReadAsByteArrayAsync());

            using var outside = new HttpRequestMessage(HttpMethod.Get, url);
            outside.Headers.Range = new RangeHeaderValue(expected.Length + 10, null);
            using var unsatisfiable = await app.Http.SendAsync(outside);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);

            using var head = await app.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(expected.Length, head.Content.Headers.ContentLength);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        // The first full request was sent from storage (sendfile, or a ranged stream from S3), the later ones from memory.
        Assert.True(await MetricAsync("streamverse_vod_responses_total{source=\"memory\"}") - memoryBefore >= 3, "segments were not served from memory");
        var storageAfter = await MetricAsync("streamverse_vod_responses_total{source=\"file\"}") + await MetricAsync("streamverse_vod_responses_total{source=\"stream\"}");
        Assert.True(storageAfter - storageBefore >= 1);
    }

    [Fact]
    public async Task The_owner_of_a_private_video_sees_its_poster()
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner), "private")).GetProperty("id").GetString()!;
        await StoreAsync(id, "v1", small: false);
        await SetPrefixAsync(id, $"vod/{id}/v1");
        await using (var db = await app.Get<Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("UPDATE videos SET thumbnail_url = @t WHERE id = @id", [("t", $"/vod/{id}/poster.jpg"), ("id", id)], CancellationToken.None);
        }

        var fromVideo = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("thumbnailUrl").GetString()!;
        var listed = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos?channel={(await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("channelId").GetString()}", owner.AccessToken))
            .GetProperty("items")[0].GetProperty("thumbnailUrl").GetString()!;
        var fromToken = (await app.JsonAsync(HttpMethod.Post, $"api/v1/videos/{id}/playback-token", owner.AccessToken, new { })).GetProperty("posterUrl").GetString()!;
        foreach (var url in new[] { fromVideo, listed, fromToken })
        {
            using var poster = await app.Http.GetAsync(url.TrimStart('/'));
            Assert.True(poster.StatusCode == HttpStatusCode.OK, url);
            Assert.Equal("image/jpeg", poster.Content.Headers.ContentType!.MediaType);
        }

        using var plain = await app.Http.GetAsync($"vod/{id}/poster.jpg");
        Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);

        // The storyboard (seek previews) likewise: a WebVTT track under the owner's token whose cues name the sprite
        // relative to it, so the sprite resolves under the same token.
        var storyboard = (await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken)).GetProperty("storyboardUrl").GetString()!;
        Assert.StartsWith("/vod/t/", storyboard, StringComparison.Ordinal);
        Assert.EndsWith($"/{id}/v1/storyboard.vtt", storyboard, StringComparison.Ordinal);
        using (var vtt = await app.Http.GetAsync(storyboard.TrimStart('/')))
        {
            Assert.Equal(HttpStatusCode.OK, vtt.StatusCode);
            Assert.Equal("text/vtt", vtt.Content.Headers.ContentType!.MediaType);
            var text = await vtt.Content.ReadAsStringAsync();
            Assert.StartsWith("WEBVTT", text, StringComparison.Ordinal);
            var sprite = text.Split('\n').First(l => l.Contains("#xywh=", StringComparison.Ordinal));
            var spriteUrl = new Uri(new Uri(app.BaseUrl + storyboard), sprite[..sprite.IndexOf('#', StringComparison.Ordinal)]);
            using var jpg = await app.Http.GetAsync(spriteUrl);
            Assert.Equal(HttpStatusCode.OK, jpg.StatusCode);
            Assert.Equal([0xFF, 0xD8], (await jpg.Content.ReadAsByteArrayAsync())[..2]);
        }

        using var plainStoryboard = await app.Http.GetAsync($"vod/{id}/v1/storyboard.vtt");
        Assert.Equal(HttpStatusCode.Forbidden, plainStoryboard.StatusCode);
    }

    [Fact]
    public async Task A_private_video_plays_only_with_its_own_token()
    {
        var id = await PublishedVideoAsync("private");
        var other = await PublishedVideoAsync("private");
        var tokens = app.Get<PlaybackTokens>();
        var token = tokens.Issue(id, DateTimeOffset.UtcNow.AddMinutes(5), null, null);
        var otherToken = tokens.Issue(other, DateTimeOffset.UtcNow.AddMinutes(5), null, null);

        foreach (var path in (string[])["index.m3u8", "index.mpd", "poster.jpg", "v1/360p.m3u8", "v1/360p_1.m4s"])
        {
            using var plain = await app.Http.GetAsync($"vod/{id}/{path}");
            Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
            Assert.Equal("application/problem+json", plain.Content.Headers.ContentType!.MediaType);
            using var wrong = await app.Http.GetAsync($"vod/t/{otherToken}/{id}/{path}");
            Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
            using var right = await app.Http.GetAsync($"vod/t/{token}/{id}/{path}");
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);

            // No cache may keep a tokenised answer past the token's expiry (5 minutes here): every lifetime is cut to it.
            var cache = right.Headers.CacheControl!;
            Assert.True(cache.MaxAge is { } age && age > TimeSpan.Zero && age <= TimeSpan.FromMinutes(5), $"{path}: {cache}");
            Assert.DoesNotContain("86400", cache.ToString(), StringComparison.Ordinal);
            // Versioned objects stay immutable under a token (its expiry bounds them), unlike untokenised ones.
            Assert.Equal(path.StartsWith("v1/", StringComparison.Ordinal), cache.ToString().Contains("immutable", StringComparison.Ordinal));
        }

        var expired = tokens.Issue(id, DateTimeOffset.UtcNow.AddMinutes(-1), null, null);
        using (var r = await app.Http.GetAsync($"vod/t/{expired}/{id}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        // The player resolves every relative URI under the token prefix: nothing else to do for it.
        AssertDecodes($"{app.BaseUrl}/vod/t/{token}/{id}/index.m3u8", "-map", "0");
        AssertDecodes($"{app.BaseUrl}/vod/t/{token}/{id}/index.mpd", "-map", "0");
    }

    [Fact]
    public async Task A_new_version_replaces_the_index_and_the_old_one_plays_until_its_files_are_removed()
    {
        var id = await PublishedVideoAsync("public");
        Assert.Contains("v1/360p.m3u8", await app.Http.GetStringAsync($"vod/{id}/index.m3u8"), StringComparison.Ordinal);

        // The full ladder replaces the first version (a one-rung "fast start" here, the other way round: any change).
        await StoreAsync(id, "v2", small: true);
        await SetPrefixAsync(id, $"vod/{id}/v2");
        var master = await app.Http.GetStringAsync($"vod/{id}/index.m3u8");
        Assert.Equal(["v2/240p.m3u8"], master.Split('\n').Where(l => l.Length > 0 && l[0] != '#'));
        Assert.Contains("<BaseURL>v2/</BaseURL>", await app.Http.GetStringAsync($"vod/{id}/index.mpd"), StringComparison.Ordinal);
        AssertDecodes($"{app.BaseUrl}/vod/{id}/index.m3u8", "-map", "0");

        // A player that loaded the old index keeps playing the old version while its files exist...
        using (var old = await app.Http.GetAsync($"vod/{id}/v1/360p_3.m4s"))
        {
            Assert.Equal(HttpStatusCode.OK, old.StatusCode);
        }

        // ...and once the job runner removed them, the old version is gone.
        await app.Get<IBlobStorage>().DeletePrefixAsync($"vod/{id}/v1", CancellationToken.None);
        using (var gone = await app.Http.GetAsync($"vod/{id}/v1/360p_1.m4s"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        // Unpublished by another process (no Invalidate here): within the catalog's TTL nothing of the video plays.
        await using (var db = await app.Get<Database>().OpenAsync(CancellationToken.None))
        {
            await db.ExecAsync("UPDATE videos SET vod_prefix = NULL WHERE id = @id", [("id", id)], CancellationToken.None);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        do
        {
            await Task.Delay(200);
            using var r = await app.Http.GetAsync($"vod/{id}/index.m3u8");
            status = r.StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.NotFound, status);
        using (var segment = await app.Http.GetAsync($"vod/{id}/v2/240p_1.m4s"))
        {
            Assert.Equal(HttpStatusCode.NotFound, segment.StatusCode);
        }
    }

    [Theory]
    [InlineData("index.m3u8", HttpStatusCode.OK)]
    [InlineData("v1/360p_1.m4s", HttpStatusCode.OK)]
    [InlineData("v1/nosuch_9.m4s", HttpStatusCode.NotFound)]
    [InlineData("v1/.type", HttpStatusCode.NotFound)]
    [InlineData("v1/a%20b.m4s", HttpStatusCode.NotFound)]
    [InlineData("v1/x/360p_1.m4s", HttpStatusCode.NotFound)]
    [InlineData("v1/..%2F..%2Fkeys%2Fjwt.key", HttpStatusCode.NotFound)]
    [InlineData("..%2Fother%2Fv1%2Fposter.jpg", HttpStatusCode.NotFound)]
    [InlineData("master.m3u8", HttpStatusCode.NotFound)]
    [InlineData("v1", HttpStatusCode.NotFound)]
    public async Task Only_strictly_named_files_of_the_video_are_served(string path, HttpStatusCode expected)
    {
        var id = await PublishedVideoAsync("public");
        using var r = await app.Http.GetAsync($"vod/{id}/{path}");
        Assert.Equal(expected, r.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task A_video_without_a_presentation_or_an_unknown_id_is_404()
    {
        var owner = await app.NewUserAsync("creator");
        var id = (await app.NewVideoAsync(owner, await app.NewChannelAsync(owner))).GetProperty("id").GetString()!;
        using (var r = await app.Http.GetAsync($"vod/{id}/index.m3u8"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        using (var r = await app.Http.GetAsync("vod/nosuchvideo/index.mpd"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
    }

    private Task<double> MetricAsync(string series) => MetricValueAsync(app, series);

    protected static async Task<double> MetricValueAsync(ControlPlaneApp app, string series)
    {
        var text = await app.Http.GetStringAsync("metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static readonly string BrowserDir = FindBrowserDir();

    private static string FindBrowserDir()
    {
        var browser = Path.Combine(TestProcesses.RepoRoot, "tests", "browser");
        Assert.True(Directory.Exists(Path.Combine(browser, "node_modules", "hls-parser")), "run ./setup.sh deps (npm ci in tests/browser)");
        return browser;
    }
}

[Collection("sqlite")]
public sealed class VodDeliveryTestsSqlite(SqliteApp app) : VodDeliveryTests(app);

[Collection("postgres")]
public sealed class VodDeliveryTestsPostgres(PostgresApp app) : VodDeliveryTests(app);

/// <summary>The same over the S3 backend (s3rver): no local files, so segments are streamed from ranged GETs.</summary>
public sealed class VodDeliveryTestsS3(StreamVerse.ControlPlane.Tests.Storage.S3DaemonFixture fixture)
    : VodDeliveryTests(fixture.App), IClassFixture<StreamVerse.ControlPlane.Tests.Storage.S3DaemonFixture>
{
    [Fact]
    public async Task Segments_come_from_ranged_reads_of_the_bucket()
    {
        var before = await MetricValueAsync(fixture.App, "streamverse_vod_responses_total{source=\"stream\"}");
        await The_index_points_at_the_version_and_every_variant_decodes_over_http();
        Assert.True(await MetricValueAsync(fixture.App, "streamverse_vod_responses_total{source=\"stream\"}") - before >= 3, "nothing was streamed from the bucket");
        Assert.False(Directory.Exists(Path.Combine(fixture.App.DataDir, "blobs", "vod")), "a presentation reached DATA/blobs with the s3 backend");
    }
}
