using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;

namespace StreamVerse.Origin.Hosting;

/// <summary>
/// A connection's input whose reads go on on the thread pool. With <see cref="OriginOptions.InlineScheduling"/> Kestrel
/// completes a connection's reads on the socket engine's thread, which the fast lane wants (it answers there, without a
/// hop); everything else (Kestrel's HTTP/1.1 and HTTP/2 handling, TLS, the routed pipeline, RTMP sessions) reads
/// through this instead, so its work runs on the pool and never holds up the other connections of that engine. One hop
/// per read that waited, as without inline scheduling, and none for a read that is ready on the pool already; the
/// connection's output is untouched (a flush from the pool sends inline, one hop less than Kestrel's I/O queue).
/// One instance per connection, reused for every read: no allocation per read.
/// </summary>
internal sealed class ThreadPoolInput : PipeReader, IValueTaskSource<ReadResult>, IThreadPoolWorkItem
{
    private readonly PipeReader _inner;
    private readonly Action _onInnerCompleted;
    private ManualResetValueTaskSourceCore<ReadResult> _source;
    private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _read;
    private bool _deferred;

    private ThreadPoolInput(PipeReader inner)
    {
        _inner = inner;
        // The caller's continuation runs where the result is set: on the pool (see Execute).
        _source = new ManualResetValueTaskSourceCore<ReadResult> { RunContinuationsAsynchronously = false };
        _onInnerCompleted = OnInnerCompleted;
    }

    /// <summary>Makes <paramref name="connection"/>'s input continue on the thread pool (idempotent).</summary>
    public static void Apply(ConnectionContext connection)
    {
        if (connection.Transport.Input is not ThreadPoolInput)
        {
            connection.Transport = new DuplexPipe(new ThreadPoolInput(connection.Transport.Input), connection.Transport.Output);
        }
    }

    /// <summary>A connection middleware that applies it to every connection of an endpoint.</summary>
    public static ConnectionDelegate Middleware(ConnectionDelegate next) => connection =>
    {
        Apply(connection);
        return next(connection);
    };

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var read = _inner.ReadAsync(cancellationToken);
        var onPool = Thread.CurrentThread.IsThreadPoolThread;
        if (read.IsCompleted && onPool)
        {
            return read;
        }

        _source.Reset();
        _read = read.ConfigureAwait(false).GetAwaiter();
        if (onPool)
        {
            _read.UnsafeOnCompleted(_onInnerCompleted);
        }
        else
        {
            // Asked on the socket engine's thread (the request the fast lane hands over is such a read, ready at
            // once): the result is handed only to a registered continuation, on the pool (see OnCompleted), so the
            // asker never goes on here, however soon the bytes are there.
            _deferred = true;
        }

        return new ValueTask<ReadResult>(this, _source.Version);
    }

    private void OnInnerCompleted()
    {
        if (Thread.CurrentThread.IsThreadPoolThread)
        {
            Execute();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>On the pool: hands the read's result (or its exception) to the waiting reader, which goes on here.</summary>
    public void Execute()
    {
        ReadResult result;
        try
        {
            result = _read.GetResult();
        }
        catch (Exception e)
        {
            _read = default;
            _source.SetException(e);
            return;
        }

        _read = default;
        _source.SetResult(result);
    }

    public override bool TryRead(out ReadResult result) => _inner.TryRead(out result);

    public override void AdvanceTo(SequencePosition consumed) => _inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        _source.OnCompleted(continuation, state, token, flags);
        if (_deferred)
        {
            _deferred = false;
            _read.UnsafeOnCompleted(_onInnerCompleted);
        }
    }
}
