using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.Origin.Tests.Hosting;

/// <summary>
/// With inline scheduling Kestrel completes a connection's reads on the socket engine's threads (not thread-pool
/// threads). Everything but the fast lane reads through <see cref="ThreadPoolInput"/>: its work must go on on the pool,
/// with no hop for a read that is ready on the pool already, and with the bytes, cancellations and errors of the pipe.
/// The pipe here completes reads inline on the thread that writes, like Kestrel's transport under inline scheduling.
/// </summary>
public sealed class InlineSchedulingTests
{
    private static (Pipe Pipe, PipeReader Input) Connection()
    {
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var context = new TestConnection(new DuplexPipe(pipe.Reader, new Pipe().Writer));
        ThreadPoolInput.Apply(context);
        ThreadPoolInput.Apply(context);
        Assert.IsType<ThreadPoolInput>(context.Transport.Input);
        return (pipe, context.Transport.Input);
    }

    /// <summary>Writes from a thread that is not the pool's, as the socket engine's thread is.</summary>
    private static void WriteOffThePool(Pipe pipe, byte[] bytes)
    {
        var writer = new Thread(() =>
        {
            pipe.Writer.Write(bytes.AsSpan());
            pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
        }) { IsBackground = true };
        writer.Start();
        writer.Join();
    }

    [Fact]
    public async Task A_read_completed_off_the_pool_goes_on_on_the_pool()
    {
        var (pipe, input) = Connection();
        for (var i = 0; i < 3; i++)
        {
            // The same reader, read after read (one instance per connection, reused).
            var read = input.ReadAsync();
            Assert.False(read.IsCompleted);
            int? writerThread = null;
            var observed = ObserveAsync(read);
            var writer = new Thread(() =>
            {
                writerThread = Environment.CurrentManagedThreadId;
                pipe.Writer.Write(new byte[] { (byte)i }.AsSpan());
                pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
            }) { IsBackground = true };
            writer.Start();
            var (result, onPool, thread) = await observed.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(onPool);
            Assert.NotEqual(writerThread, thread);
            Assert.Equal(new[] { (byte)i }, result.Buffer.ToArray());
            input.AdvanceTo(result.Buffer.End);
        }
    }

    [Fact]
    public async Task A_read_ready_off_the_pool_still_goes_to_the_pool()
    {
        // The request the fast lane hands over: already in the pipe, asked for on the socket engine's thread.
        var (pipe, input) = Connection();
        WriteOffThePool(pipe, [1, 2, 3]);
        var observed = new TaskCompletionSource<(ReadResult, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var asker = new Thread(() =>
        {
            var read = input.ReadAsync();
            if (read.IsCompleted)
            {
                // (An exception on this raw thread would end the test process.)
                observed.SetException(new InvalidOperationException("the read went on on the asking thread"));
                return;
            }

            // What an await does: the continuation is registered with the read itself (no Task in between, whose
            // own completion could race ahead of a ContinueWith).
            var awaiter = read.ConfigureAwait(false).GetAwaiter();
            awaiter.UnsafeOnCompleted(() => observed.SetResult((awaiter.GetResult(), Thread.CurrentThread.IsThreadPoolThread)));
        }) { IsBackground = true };
        asker.Start();
        var (result, onPool) = await observed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(onPool);
        Assert.Equal(new byte[] { 1, 2, 3 }, result.Buffer.ToArray());
        input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task A_read_ready_on_the_pool_is_no_hop()
    {
        var (pipe, input) = Connection();
        WriteOffThePool(pipe, [7]);
        var completedAtOnce = await Task.Run(() =>
        {
            var read = input.ReadAsync();
            var ready = read.IsCompleted;
            input.AdvanceTo(read.Result.Buffer.End);
            return ready;
        });
        Assert.True(completedAtOnce);
    }

    [Fact]
    public async Task Cancellation_and_errors_pass_through()
    {
        var (pipe, input) = Connection();
        var read = input.ReadAsync();
        input.CancelPendingRead();
        Assert.True((await read.AsTask().WaitAsync(TimeSpan.FromSeconds(10))).IsCanceled);

        using var cts = new CancellationTokenSource();
        var cancelled = input.ReadAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        var failed = input.ReadAsync();
        await pipe.Writer.CompleteAsync(new IOException("peer reset"));
        var error = await Assert.ThrowsAsync<IOException>(() => failed.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("peer reset", error.Message);
    }

    private static async Task<(ReadResult Result, bool OnPool, int Thread)> ObserveAsync(ValueTask<ReadResult> read)
    {
        // Not on xunit's synchronization context: where the read itself goes on is what is observed.
        var result = await read.ConfigureAwait(false);
        return (result, Thread.CurrentThread.IsThreadPoolThread, Environment.CurrentManagedThreadId);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class TestConnection(IDuplexPipe transport) : ConnectionContext
    {
        public override IDuplexPipe Transport { get; set; } = transport;

        public override string ConnectionId { get; set; } = "test";

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }
}
