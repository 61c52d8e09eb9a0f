using StreamVerse.Origin.Edge;

namespace StreamVerse.Origin.Tests.Edge;

public sealed class RequestCoalescerTests
{
    [Fact]
    public async Task Concurrent_callers_for_one_key_share_one_fetch()
    {
        var coalescer = new RequestCoalescer<string, int>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetches = 0;
        async Task<int> Fetch(string key)
        {
            Interlocked.Increment(ref fetches);
            await release.Task;
            return 42;
        }

        var callers = Enumerable.Range(0, 200).Select(_ => Task.Run(() => coalescer.RunAsync("/live/a/s/video_1.m4s", Fetch, CancellationToken.None))).ToArray();
        while (coalescer.Waiters < 199)
        {
            await Task.Delay(5);
        }

        release.SetResult();
        var results = await Task.WhenAll(callers);
        Assert.Equal(1, fetches);
        Assert.All(results, r => Assert.Equal(42, r.Result));
        Assert.Equal(199, results.Count(r => r.Coalesced));
        Assert.Equal(0, coalescer.InFlight);

        // Done: the next caller fetches again (the cache, not the coalescer, serves repeats).
        await coalescer.RunAsync("/live/a/s/video_1.m4s", Fetch, CancellationToken.None);
        Assert.Equal(2, fetches);
    }

    [Fact]
    public async Task Different_keys_fetch_independently_and_blocking_keys_differ_by_msn_and_part()
    {
        var coalescer = new RequestCoalescer<string, string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetched = new System.Collections.Concurrent.ConcurrentBag<string>();
        async Task<string> Fetch(string key)
        {
            fetched.Add(key);
            await gate.Task;
            return key;
        }

        var keys = new[] { "/live/a/video.m3u8?_HLS_msn=5&_HLS_part=1", "/live/a/video.m3u8?_HLS_msn=5&_HLS_part=2", "/live/a/video.m3u8?_HLS_msn=6" };
        var tasks = keys.SelectMany(k => Enumerable.Range(0, 10).Select(_ => coalescer.RunAsync(k, Fetch, CancellationToken.None))).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(keys.Order(), fetched.Order());
        Assert.All(results.Chunk(10).Zip(keys), pair => Assert.All(pair.First, r => Assert.Equal(pair.Second, r.Result)));
    }

    [Fact]
    public async Task A_failed_fetch_fails_every_waiter_and_the_next_call_retries()
    {
        var coalescer = new RequestCoalescer<string, int>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async Task<int> Failing(string _)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            throw new IOException("origin down");
        }

        var tasks = Enumerable.Range(0, 5).Select(_ => coalescer.RunAsync("k", Failing, CancellationToken.None)).ToArray();
        gate.SetResult();
        foreach (var t in tasks)
        {
            await Assert.ThrowsAsync<IOException>(() => t);
        }

        Assert.Equal(1, calls);
        Assert.Equal(7, (await coalescer.RunAsync("k", _ => Task.FromResult(7), CancellationToken.None)).Result);
    }

    [Fact]
    public async Task A_waiter_that_leaves_does_not_cancel_the_fetch()
    {
        var coalescer = new RequestCoalescer<string, int>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = coalescer.RunAsync("k", async _ => { await gate.Task; return 1; }, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiter = coalescer.RunAsync("k", _ => Task.FromResult(2), cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        gate.SetResult();
        Assert.Equal(1, (await leader).Result);
    }
}
