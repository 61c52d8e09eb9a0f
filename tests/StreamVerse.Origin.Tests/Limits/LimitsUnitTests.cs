using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Limits;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Tests.Limits;

public sealed class LimitsUnitTests
{
    [Theory]
    [InlineData("", PlaylistCompression.Encoding.Identity)]
    [InlineData("gzip", PlaylistCompression.Encoding.Gzip)]
    [InlineData("gzip, deflate, br", PlaylistCompression.Encoding.Brotli)]
    [InlineData("br;q=0, gzip", PlaylistCompression.Encoding.Gzip)]
    [InlineData("br;q=0.0,gzip;q=0", PlaylistCompression.Encoding.Identity)]
    [InlineData("identity", PlaylistCompression.Encoding.Identity)]
    [InlineData("BR;q=0.5", PlaylistCompression.Encoding.Brotli)]
    public void Accept_encoding_negotiation(string header, object expected) =>
        Assert.Equal((PlaylistCompression.Encoding)expected, PlaylistCompression.Negotiate(header));

    [Fact]
    public void A_playlist_is_compressed_once_per_object_and_round_trips()
    {
        var text = string.Concat(Enumerable.Range(0, 50).Select(i => $"#EXTINF:2.000,\nvideo_{i}.m4s\n"));
        var obj = new StoredObject(Encoding.ASCII.GetBytes(text), "\"abc\"", "application/vnd.apple.mpegurl");
        var context = new DefaultHttpContext();
        context.Request.Headers.AcceptEncoding = "gzip, br";

        var first = PlaylistCompression.Select(context.Request, obj, out var encoding);
        var second = PlaylistCompression.Select(context.Request, obj, out _);
        Assert.Equal("br", encoding);
        Assert.Same(first, second);
        Assert.Equal("\"abc-br\"", first.ETag);
        Assert.True(first.Length < obj.Length / 3);
        using var br = new BrotliStream(new MemoryStream(first.Chunks[0].ToArray()), CompressionMode.Decompress);
        Assert.Equal(text, new StreamReader(br).ReadToEnd());

        context.Request.Headers.AcceptEncoding = "gzip";
        var gz = PlaylistCompression.Select(context.Request, obj, out encoding);
        Assert.Equal("gzip", encoding);
        using var gunzip = new GZipStream(new MemoryStream(gz.Chunks[0].ToArray()), CompressionMode.Decompress);
        Assert.Equal(text, new StreamReader(gunzip).ReadToEnd());

        var small = new StoredObject(new byte[100], "\"s\"", "application/vnd.apple.mpegurl");
        Assert.Same(small, PlaylistCompression.Select(context.Request, small, out encoding));
        Assert.Null(encoding);
    }

    [Fact]
    public async Task Pacer_holds_a_connection_to_its_rate()
    {
        var pacer = new BandwidthPacer(200_000, TimeProvider.System);
        Assert.Equal(10_000, pacer.ChunkSize);
        var watch = Stopwatch.StartNew();
        for (var sent = 0; sent < 100_000; sent += pacer.ChunkSize)
        {
            await pacer.PaceAsync(pacer.ChunkSize, CancellationToken.None);
        }

        // 100 kB at 200 kB/s: 0.5 s less the 50 ms slack.
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.40, 3.0);
    }

    [Fact]
    public async Task Idle_time_earns_no_burst()
    {
        var pacer = new BandwidthPacer(100_000, TimeProvider.System);
        await Task.Delay(300);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            await pacer.PaceAsync(10_000, CancellationToken.None);
        }

        Assert.True(watch.Elapsed.TotalSeconds >= 0.35, $"50 kB at 100 kB/s after idling took {watch.Elapsed}");
    }

    [Fact]
    public void Default_tier_must_name_a_tier()
    {
        var options = new LimitsOptions { DefaultTier = "gold" };
        options.BandwidthTiers["free"] = 1000;
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("StreamVerse:Limits:DefaultTier", StringComparison.Ordinal));

        options.DefaultTier = "free";
        options.BandwidthTiers["bad"] = -1;
        results.Clear();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("BandwidthTiers:bad", StringComparison.Ordinal));
    }
}
