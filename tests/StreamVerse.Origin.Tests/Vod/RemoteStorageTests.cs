using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;
using StreamVerse.Origin.Vod;

namespace StreamVerse.Origin.Tests.Vod;

/// <summary>
/// The path for a blob store without local files (S3): <see cref="IVodCatalog.LocalPathOf"/> is null, so segments are
/// streamed from ranged reads. The store here is a directory read through streams only; the memory cache is off, so
/// every request takes that path. Served by VOD delivery in a real Kestrel.
/// </summary>
public sealed class RemoteStorageTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("sv-vod-remote-").FullName;
    private readonly byte[] _segment = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private StreamOnlyCatalog _catalog = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_root, "vod", "vid1", "v1"));
        await File.WriteAllBytesAsync(Path.Combine(_root, "vod", "vid1", "v1", "360p_1.m4s"), _segment);
        await File.WriteAllTextAsync(Path.Combine(_root, "vod", "vid1", "v1", "master.m3u8"), "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p.m3u8\n");
        _catalog = new StreamOnlyCatalog(_root);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:Delivery:VodMemoryCacheBytes"] = "0" });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddLimits(builder.Configuration);
        builder.Services.AddLiveDelivery(builder.Configuration);
        builder.Services.AddSingleton<IVodCatalog>(_catalog);
        builder.Services.AddVodDelivery();
        _app = builder.Build();
        _app.MapVodDelivery();
        await _app.StartAsync();
        var url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(url + "/") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Segments_stream_from_ranged_reads_with_validators_ranges_and_head()
    {
        const string Url = "vod/vid1/v1/360p_1.m4s";
        using var whole = await _http.GetAsync(Url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(_segment, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal(_segment.Length, whole.Content.Headers.ContentLength);
        Assert.Equal("public, max-age=300, stale-if-error=86400", whole.Headers.CacheControl!.ToString());
        var etag = whole.Headers.ETag!;
        Assert.Equal((0L, (long?)_segment.Length), _catalog.Reads.Last());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, Url);
        conditional.Headers.IfNoneMatch.Add(etag);
        var reads = _catalog.Reads.Count;
        using (var notModified = await _http.SendAsync(conditional))
        {
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        // The range reaches the store: only those bytes are read.
        using var ranged = new HttpRequestMessage(HttpMethod.Get, Url);
        ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
        using (var partial = await _http.SendAsync(ranged))
        {
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal($"bytes 1000-1999/{_segment.Length}", partial.Content.Headers.ContentRange!.ToString());
            Assert.Equal(_segment.AsSpan(1000, 1000).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal((1000L, (long?)1000), _catalog.Reads.Last());

        using var stale = new HttpRequestMessage(HttpMethod.Get, Url);
        stale.Headers.Range = new RangeHeaderValue(0, 9);
        stale.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"other\""));
        using (var full = await _http.SendAsync(stale))
        {
            Assert.Equal(HttpStatusCode.OK, full.StatusCode);
            Assert.Equal(_segment.Length, (await full.Content.ReadAsByteArrayAsync()).Length);
        }

        using var outside = new HttpRequestMessage(HttpMethod.Get, Url);
        outside.Headers.Range = new RangeHeaderValue(_segment.Length, null);
        using (var unsatisfiable = await _http.SendAsync(outside))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
            Assert.Equal($"bytes */{_segment.Length}", unsatisfiable.Content.Headers.ContentRange!.ToString());
        }

        using (var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url)))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(_segment.Length, head.Content.Headers.ContentLength);
        }

        // Neither the 304, the 416 nor the HEAD opened a read; the If-Range mismatch read the whole object.
        Assert.Equal(reads + 2, _catalog.Reads.Count);

        using var index = await _http.GetAsync("vod/vid1/index.m3u8");
        Assert.Equal("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv1/360p.m3u8\n", await index.Content.ReadAsStringAsync());
        using var missing = await _http.GetAsync("vod/vid1/v1/360p_2.m4s");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    /// <summary>A store that hands out streams only (no local path), recording each ranged read.</summary>
    private sealed class StreamOnlyCatalog(string root) : IVodCatalog
    {
        public List<(long Offset, long? Length)> Reads { get; } = [];

        public Task<VodPresentation?> ResolveAsync(string videoId, CancellationToken cancellationToken) =>
            Task.FromResult(videoId == "vid1" ? new VodPresentation("vod/vid1/v1", 5, [], "") : null);

        public Task<VodFileInfo?> StatAsync(string key, CancellationToken cancellationToken)
        {
            var file = new FileInfo(Path.Combine(root, key));
            return Task.FromResult(file.Exists ? new VodFileInfo(file.Length, "video/mp4", $"\"{file.Length:x}\"", file.LastWriteTimeUtc) : null);
        }

        public async Task<(Stream Content, VodFileInfo Info)?> OpenReadAsync(string key, long offset, long length, CancellationToken cancellationToken)
        {
            var info = await StatAsync(key, cancellationToken);
            if (info is null)
            {
                return null;
            }

            lock (Reads)
            {
                Reads.Add((offset, Math.Min(length, info.Length - offset)));
            }

            var bytes = await File.ReadAllBytesAsync(Path.Combine(root, key), cancellationToken);
            return (new MemoryStream(bytes, (int)offset, (int)Math.Min(length, info.Length - offset)), info);
        }

        public string? LocalPathOf(string key) => null;
    }
}
