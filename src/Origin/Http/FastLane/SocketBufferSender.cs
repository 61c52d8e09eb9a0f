using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// Sends a response head and body buffers with one <c>sendmsg</c> (an iovec per buffer), straight from the stored
/// buffers: no copy into a pipe. One instance per connection, reused for every send (no allocation per response);
/// one send at a time. On Unix a stream-socket send completes only when every byte is in the kernel.
/// </summary>
internal sealed class SocketBufferSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private readonly List<ArraySegment<byte>> _buffers = new(8);

    private ManualResetValueTaskSourceCore<int> _source;

    /// <param name="inlineContinuations">
    /// Whether the sending connection goes on where the send completed (with inline socket completions: the socket
    /// engine's thread), as with inline scheduling, where the lane's connections run there anyway; else it goes on
    /// on the thread pool.
    /// </param>
    public SocketBufferSender(bool inlineContinuations = false)
        : base(unsafeSuppressExecutionContextFlow: true)
    {
        _source = new ManualResetValueTaskSourceCore<int> { RunContinuationsAsynchronously = !inlineContinuations };
    }

    /// <summary>Buffers of the next send, in order; cleared by each send.</summary>
    public void Add(ReadOnlyMemory<byte> buffer)
    {
        if (!MemoryMarshal.TryGetArray(buffer, out var segment))
        {
            throw new InvalidOperationException("stored objects are array-backed");
        }

        _buffers.Add(segment);
    }

    /// <summary>The queued buffers, for a caller that sends them itself (<see cref="EpollFront"/>); it clears them after.</summary>
    internal List<ArraySegment<byte>> Queued => _buffers;

    public ValueTask<int> SendAsync(Socket socket)
    {
        _source.Reset();
        BufferList = _buffers;
        if (socket.SendAsync(this))
        {
            return new ValueTask<int>(this, _source.Version);
        }

        var error = SocketError;
        var sent = BytesTransferred;
        Reset();
        return error == SocketError.Success
            ? new ValueTask<int>(sent)
            : ValueTask.FromException<int>(new SocketException((int)error));
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        var error = SocketError;
        var sent = BytesTransferred;
        Reset();
        if (error == SocketError.Success)
        {
            _source.SetResult(sent);
        }
        else
        {
            _source.SetException(new SocketException((int)error));
        }
    }

    private void Reset()
    {
        BufferList = null;
        _buffers.Clear();
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
