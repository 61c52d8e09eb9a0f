using Microsoft.AspNetCore.Http;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.Origin.Tests.Hosting;

/// <summary>
/// With inline scheduling Kestrel runs connection code on the socket engine's threads (not thread-pool threads): the
/// routed pipeline must leave them before it does any work, and must not pay a hop when it is on the pool already.
/// </summary>
public sealed class InlineSchedulingTests
{
    private static (bool OnPool, int Thread, int CallerThread, Task Done) Run(Action<Action> start)
    {
        var onPool = false;
        var thread = 0;
        var caller = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        start(() =>
        {
            caller = Environment.CurrentManagedThreadId;
            var task = OriginHost.OnThreadPoolAsync(new DefaultHttpContext(), _ =>
            {
                onPool = System.Threading.Thread.CurrentThread.IsThreadPoolThread;
                thread = Environment.CurrentManagedThreadId;
                return Task.CompletedTask;
            });
            task.ContinueWith(t => done.TrySetResult(), TaskScheduler.Default);
        });
        done.Task.Wait(TimeSpan.FromSeconds(10));
        return (onPool, thread, caller, done.Task);
    }

    [Fact]
    public void A_request_parsed_off_the_pool_is_handled_on_the_pool()
    {
        var (onPool, thread, caller, done) = Run(body => new Thread(() => body()) { IsBackground = true }.Start());
        Assert.True(done.IsCompleted);
        Assert.True(onPool);
        Assert.NotEqual(caller, thread);
    }

    [Fact]
    public void A_request_on_the_pool_already_is_handled_where_it_is()
    {
        var (onPool, thread, caller, done) = Run(body => ThreadPool.UnsafeQueueUserWorkItem(_ => body(), null));
        Assert.True(done.IsCompleted);
        Assert.True(onPool);
        Assert.Equal(caller, thread);
    }
}
