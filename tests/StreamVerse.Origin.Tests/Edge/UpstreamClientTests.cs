using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Tests.Edge;

/// <summary>
/// The edge's upstream client against origins that misbehave, through an in-memory handler in place of the sockets.
/// Not run in parallel with other tests: one measures the process's allocations around a fetch.
/// </summary>
[Collection(nameof(UpstreamClientTests))]
public sealed class UpstreamClientTests
{
    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }

    /// <summary>A body that gives <paramref name="bytes"/> bytes, at most <paramref name="perRead"/> a read, then (if <paramref name="stall"/>) never ends.</summary>
    private sealed class SlowBody(byte[] bytes, int perRead, bool stall) : Stream
    {
        private int _at;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_at == bytes.Length)
            {
                if (stall)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                return 0;
            }

            var n = Math.Min(Math.Min(perRead, buffer.Length), bytes.Length - _at);
            bytes.AsSpan(_at, n).CopyTo(buffer.Span);
            _at += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static UpstreamClient Client(HttpMessageHandler handler, double timeoutSeconds = 5) =>
        new(new EdgeOptions { Upstream = "http://origin.test", UpstreamTimeoutSeconds = timeoutSeconds }, TimeProvider.System, NullLogger<UpstreamClient>.Instance, handler);

    private static HttpResponseMessage Ok(HttpContent content, string? cacheControl = "public, max-age=60")
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        if (cacheControl is not null)
        {
            response.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        return response;
    }

    [Fact]
    public async Task Anything_unexpected_in_a_fetch_is_a_502_problem_not_an_exception()
    {
        using var client = Client(new StubHandler(_ => throw new InvalidCastException("a bug, or an answer nothing expected")));
        var result = await client.FetchAsync("vod/v/index.m3u8", blocking: false);
        Assert.Equal(502, result.Status);
        Assert.Null(result.Entry);
        Assert.NotNull(result.Problem);
    }

    [Fact]
    public async Task A_huge_stale_if_error_is_stored_capped_at_two_to_the_31_seconds()
    {
        using var client = Client(new StubHandler(_ => Ok(new ByteArrayContent([1, 2, 3]), "public, max-age=10, stale-if-error=99999999999999")));
        var result = await client.FetchAsync("vod/v/index.m3u8", blocking: false);
        Assert.Equal(200, result.Status);
        Assert.True(result.Storable);
        Assert.Equal(10_000, result.Entry!.FreshUntilMs - result.Entry.FetchedAtMs);
        Assert.Equal((10 + 2147483648L) * 1000, result.Entry.StaleUntilMs - result.Entry.FetchedAtMs);
        Assert.Equal("public, max-age=10, stale-if-error=99999999999999", result.Entry.CacheControl);
    }

    [Fact]
    public async Task A_max_age_beyond_int_is_read_from_the_header_as_sent_and_capped()
    {
        // .NET's typed Cache-Control parser refuses the whole header for a max-age above int.MaxValue; the edge reads it itself.
        using var client = Client(new StubHandler(_ => Ok(new ByteArrayContent([1]), "public, max-age=99999999999999")));
        var result = await client.FetchAsync("vod/v/seg.m4s", blocking: false);
        Assert.True(result.Storable);
        Assert.Equal(2147483648L * 1000, result.Entry!.FreshUntilMs - result.Entry.FetchedAtMs);
        Assert.Equal("public, max-age=99999999999999", result.Entry.CacheControl);
    }

    [Theory]
    [InlineData("public, max-age=60, x=\"{0}\"", true, "max-age=60")]
    [InlineData("public, max-age=60, stale-if-error=30, x=\"{0}\"", true, "max-age=60, stale-if-error=30")]
    [InlineData("no-store, x=\"{0}\"", false, "no-store")]
    [InlineData("public, max-age=60, x=\"\u00e9{0}\"", true, "max-age=60")]
    public async Task A_cache_control_too_long_or_not_ascii_to_pass_on_is_replaced_by_what_the_edge_made_of_it(string header, bool storable, string forwarded)
    {
        var length = header.Contains('\u00e9', StringComparison.Ordinal) ? 1 : 5000;
        var value = string.Format(System.Globalization.CultureInfo.InvariantCulture, header, new string('a', length));
        using var client = Client(new StubHandler(_ => Ok(new ByteArrayContent([1]), value)));
        var result = await client.FetchAsync("vod/v/index.m3u8", blocking: false);
        Assert.Equal(200, result.Status);
        Assert.Equal(storable, result.Storable);
        Assert.Equal(forwarded, result.Entry!.CacheControl);
    }

    [Fact]
    public async Task An_origin_that_announces_64_MiB_and_stalls_costs_the_edge_what_it_sent_not_what_it_announced()
    {
        var announced = 64L << 20;
        using var client = Client(new StubHandler(_ =>
        {
            var content = new StreamContent(new SlowBody([42], perRead: 1, stall: true));
            content.Headers.ContentLength = announced;
            return Ok(content);
        }), timeoutSeconds: 0.5);

        // Warm up the client (and the pool's first chunk) so the measurement is of one fetch.
        await client.FetchAsync("vod/v/warm.m4s", blocking: false);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await client.FetchAsync("vod/v/seg.m4s", blocking: false);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(504, result.Status);
        Assert.True(allocated < 4 << 20, $"{allocated:N0} bytes allocated for a fetch that received 1 byte of an announced {announced:N0}");
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, (3 << 20) + 5)]
    [InlineData(false, 1)]
    [InlineData(false, (3 << 20) + 5)]
    public async Task Bodies_arrive_whole_in_one_array_whatever_the_read_sizes(bool announced, int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        using var client = Client(new StubHandler(_ =>
        {
            var content = new StreamContent(new SlowBody(bytes, perRead: 7777, stall: false));
            content.Headers.ContentLength = announced ? size : null;
            return Ok(content);
        }));
        var result = await client.FetchAsync("vod/v/seg.m4s", blocking: false);
        Assert.Equal(200, result.Status);
        Assert.Equal(bytes, result.Entry!.Body);
    }

    [Fact]
    public async Task A_body_shorter_than_announced_or_larger_than_the_limit_is_a_502()
    {
        using (var client = Client(new StubHandler(_ =>
        {
            var content = new StreamContent(new SlowBody(new byte[(2 << 20) + 1], perRead: 65536, stall: false));
            content.Headers.ContentLength = 3 << 20;
            return Ok(content);
        })))
        {
            Assert.Equal(502, (await client.FetchAsync("vod/v/seg.m4s", blocking: false)).Status);
        }

        using var unannounced = new UpstreamClient(new EdgeOptions { Upstream = "http://origin.test", MaxObjectBytes = 1 << 20 }, TimeProvider.System,
            NullLogger<UpstreamClient>.Instance, new StubHandler(_ => Ok(new StreamContent(new SlowBody(new byte[(1 << 20) + 1], perRead: 65536, stall: false)))));
        var result = await unannounced.FetchAsync("vod/v/seg.m4s", blocking: false);
        Assert.Equal(502, result.Status);
        Assert.Contains("MaxObjectBytes", result.Problem, StringComparison.Ordinal);
    }
}

[CollectionDefinition(nameof(UpstreamClientTests), DisableParallelization = true)]
public sealed class UpstreamClientTestsCollection;
