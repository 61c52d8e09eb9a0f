using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using StreamVerse.Origin.Hosting;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// The transport of the fast lane's endpoint on Linux: a few epoll event loops (one per core by default,
/// <c>StreamVerse:Delivery:EventLoops</c>) that read each connection's requests themselves and answer those the lane
/// answers at once (<see cref="Http1FastLane.TryAnswerNow"/>: the same parsing, routing and response composition) with one
/// <c>recv</c> and one <c>send</c>/<c>sendmsg</c>/<c>sendfile</c> per request, on the loop's thread, as nginx's
/// workers do. Any other connection (its first request is one the lane hands over or has to wait for, a head that
/// arrives in pieces, ...) leaves the loop at that request: it becomes a connection of Kestrel's own socket transport
/// (<see cref="SocketConnectionContextFactory"/>) whose input starts with the bytes the loop read and did not answer
/// (<see cref="PrefixedPipeReader"/>), and Kestrel accepts it from this listener and runs the endpoint's middleware
/// (the lane on the transport's pipes, then HTTP/1.1) on it as on any connection. bench/RESULTS.md ("Event loops")
/// has what this saves: the socket engine's thread-pool hops and pipes were most of the lane's user time.
/// <para>
/// What the loops keep of Kestrel's behaviour for the connections they hold: the connection limit (counted over every
/// connection accepted here until it closes, wherever it is served), the keep-alive timeout and the minimum response
/// data rate (checked about once a second), graceful shutdown (when the listener is unbound idle connections close,
/// busy ones after their response). Request-header timeouts need nothing: a head not complete when read goes to Kestrel.
/// </para>
/// </summary>
internal sealed partial class EpollFront : IConnectionListener
{
    /// <summary>One read's room: twice the largest head the lane parses, so a pipelined pair fits.</summary>
    private const int InBytes = 2 * Http1RequestHead.MaxHeadBytes;

    /// <summary>Responses up to this size are copied into one buffer and sent with one <c>send</c>.</summary>
    private const int OutBytes = 16 * 1024;

    private const int MaxEvents = 256;

    /// <summary>The epoll data of a loop's wake-up eventfd (a connection's is its serial and descriptor).</summary>
    private const ulong WakeKey = ulong.MaxValue;

    private readonly Http1FastLane _lane;
    private readonly Socket _listen;
    private readonly Loop[] _loops;
    private readonly SocketConnectionContextFactory _contexts;
    private readonly Channel<ConnectionContext> _elsewhere = Channel.CreateUnbounded<ConnectionContext>();
    private readonly long? _maxConnections;
    private readonly ILogger _logger;
    private readonly Task _accepting;
    private long _connections;
    private int _nextLoop;
    private int _nextSerial;
    private volatile bool _unbound;

    private EpollFront(Http1FastLane lane, Socket listen, int loops, KestrelServerLimits limits, SocketTransportOptions sockets, ILoggerFactory loggers)
    {
        _lane = lane;
        _listen = listen;
        _maxConnections = limits.MaxConcurrentConnections;
        _logger = loggers.CreateLogger("StreamVerse.Origin.FastLane");
        _contexts = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions
            {
                IOQueueCount = sockets.IOQueueCount,
                WaitForDataBeforeAllocatingBuffer = sockets.WaitForDataBeforeAllocatingBuffer,
                MaxReadBufferSize = sockets.MaxReadBufferSize,
                MaxWriteBufferSize = sockets.MaxWriteBufferSize,
                UnsafePreferInlineScheduling = sockets.UnsafePreferInlineScheduling,
            },
            loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        EndPoint = listen.LocalEndPoint!;
        _loops = new Loop[loops];
        for (var i = 0; i < loops; i++)
        {
            _loops[i] = new Loop(this, i);
        }

        _accepting = AcceptLoopAsync();
        Log.Started(_logger, EndPoint.ToString() ?? string.Empty, loops);
    }

    public EndPoint EndPoint { get; }

    /// <summary>Binds <paramref name="endpoint"/> as Kestrel's socket transport would and starts the loops.</summary>
    public static EpollFront Bind(EndPoint endpoint, Http1FastLane lane, int loops, KestrelServerLimits limits, SocketTransportOptions sockets, ILoggerFactory loggers)
    {
        // The socket transport's own way of making the listener (an operator's CreateBoundListenSocket included).
        var listen = sockets.CreateBoundListenSocket(endpoint);
        try
        {
            listen.Listen(sockets.Backlog);
            return new EpollFront(lane, listen, loops, limits, sockets, loggers);
        }
        catch
        {
            listen.Dispose();
            throw;
        }
    }

    /// <summary>The next connection for Kestrel: one a loop let go (null once unbound).</summary>
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _elsewhere.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Stops accepting; idle connections in the loops close, busy ones after their response.</summary>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound = true;
        _listen.Dispose();
        _elsewhere.Writer.TryComplete();
        await _accepting.ConfigureAwait(false);
        foreach (var loop in _loops)
        {
            loop.RequestClose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_unbound)
        {
            await UnbindAsync().ConfigureAwait(false);
        }

        foreach (var loop in _loops)
        {
            loop.Stop();
        }

        _contexts.Dispose();
        while (_elsewhere.Reader.TryRead(out var left))
        {
            await left.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listen.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (_unbound)
                {
                    return;
                }

                // Out of descriptors, a connection reset while queued: go on after a breath rather than spin.
                Log.AcceptFailed(_logger, e.Message);
                await Task.Delay(10).ConfigureAwait(false);
                continue;
            }

            if (Interlocked.Increment(ref _connections) > _maxConnections)
            {
                Log.Rejected(_logger, _maxConnections.Value);
                socket.Dispose();
                Released();
                continue;
            }

            try
            {
                socket.NoDelay = true;
                socket.Blocking = false;
            }
            catch (SocketException)
            {
                socket.Dispose();
                Released();
                continue;
            }

            var client = (socket.RemoteEndPoint as IPEndPoint)?.Address;
            var connection = new FrontConnection(socket, client, (uint)Interlocked.Increment(ref _nextSerial));
            _loops[(uint)Interlocked.Increment(ref _nextLoop) % (uint)_loops.Length].Adopt(connection);
        }
    }

    private void Released() => Interlocked.Decrement(ref _connections);

    /// <summary>
    /// Gives <paramref name="socket"/> to Kestrel's transport with <paramref name="unanswered"/> first in its input.
    /// False when there is no Kestrel to give it to any more (unbound): the caller closes it.
    /// </summary>
    private bool GiveAway(Socket socket, ReadOnlySpan<byte> unanswered, Http1FastLane.CarriedAnswer? carried)
    {
        if (_unbound)
        {
            return false;
        }

        var context = _contexts.Create(socket);
        if (carried is not null)
        {
            context.Features.Set(carried);
        }

        if (!unanswered.IsEmpty)
        {
            context.Transport = new DuplexPipe(new PrefixedPipeReader(unanswered, context.Transport.Input), context.Transport.Output);
        }

        context.ConnectionClosed.Register(static s => ((EpollFront)s!).Released(), this);
        if (!_elsewhere.Writer.TryWrite(context))
        {
            _ = context.DisposeAsync().AsTask();
            return true;
        }

        FastLaneMetrics.Passed();
        return true;
    }

    /// <summary>A connection held by a loop. Only its loop's thread touches it after adoption.</summary>
    private sealed class FrontConnection(Socket socket, IPAddress? client, uint serial)
    {
        public Socket Socket { get; } = socket;

        public int Fd { get; } = (int)socket.Handle;

        public IPAddress? Client { get; } = client;

        public uint Serial { get; } = serial;

        public ulong Key => ((ulong)Serial << 32) | (uint)Fd;

        public string Id => "F" + Serial.ToString("X8", CultureInfo.InvariantCulture);

        public int Requests;

        /// <summary>Its place in the loop's list; -1 when not held.</summary>
        public int Index = -1;

        public long LastActive;

        // A response the socket did not take at once: buffers still to send, then a file's range.
        public bool Waiting;
        public List<ArraySegment<byte>>? Out;
        public SafeHandle? OutFile;
        public StoredObject? OutObject;
        public long OutFileOffset;
        public long OutFileRemaining;
        public long Deadline;
        public bool CloseAfter;

        /// <summary>Request bytes read but not yet answered when a response had to wait.</summary>
        public byte[]? Input;

        public void ClearOutput()
        {
            Waiting = false;
            Out?.Clear();
            OutFile = null;
            OutObject = null;
            OutFileRemaining = 0;
        }
    }

    private sealed class FrontBuffers() : Http1FastLane.LaneBuffers(false)
    {
        public FrontConnection? Current { get; set; }

        public override string TraceId()
        {
            var connection = Current!;
            return connection.Id + ":" + (++connection.Requests).ToString("X8", CultureInfo.InvariantCulture);
        }
    }

    private enum Sent
    {
        All,
        Waiting,
        Failed,
    }

    /// <summary>One event loop: its epoll instance, its thread, its connections.</summary>
    private sealed unsafe class Loop
    {
        private readonly EpollFront _front;
        private readonly Http1FastLane _lane;
        private readonly int _epoll;
        private readonly int _wake;
        private readonly byte[] _events = GC.AllocateArray<byte>(MaxEvents * Libc.EpollEventSize, pinned: true);
        private readonly byte[] _in = GC.AllocateArray<byte>(InBytes, pinned: true);
        private readonly byte[] _out = GC.AllocateArray<byte>(OutBytes, pinned: true);
        private readonly FrontBuffers _buffers = new();
        private readonly List<FrontConnection> _held = [];
        private readonly ConcurrentQueue<FrontConnection> _adopted = new();
        private readonly Thread _thread;
        private readonly long _second;
        private FrontConnection?[] _byFd = new FrontConnection?[1024];
        private long _now;
        private long _lastSweep;

        /// <summary>0 running, 1 closing (unbound), 2 stopping.</summary>
        private volatile int _state;

        public Loop(EpollFront front, int index)
        {
            _front = front;
            _lane = front._lane;
            _second = _lane.Time.TimestampFrequency;
            _epoll = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
            _wake = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            if (_epoll < 0 || _wake < 0)
            {
                throw new IOException("epoll_create1/eventfd failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }

            var ev = stackalloc byte[16];
            Libc.PutEvent(ev, Libc.EPOLLIN, WakeKey);
            if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, _wake, ev) != 0)
            {
                throw new IOException("epoll_ctl failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }

            _thread = new Thread(Run) { IsBackground = true, Name = "StreamVerse event loop " + index.ToString(CultureInfo.InvariantCulture) };
            _thread.Start();
        }

        /// <summary>From the accept loop: the connection joins this loop at its next wake-up.</summary>
        public void Adopt(FrontConnection connection)
        {
            _adopted.Enqueue(connection);
            Wake();
        }

        public void RequestClose()
        {
            if (_state == 0)
            {
                _state = 1;
            }

            Wake();
        }

        /// <summary>Closes every connection it holds and ends the thread.</summary>
        public void Stop()
        {
            _state = 2;
            Wake();
            _thread.Join();
            Libc.Close(_wake);
            Libc.Close(_epoll);
            while (_adopted.TryDequeue(out var late))
            {
                late.Socket.Dispose();
                _front.Released();
            }
        }

        private void Wake()
        {
            ulong one = 1;
            Libc.Write(_wake, (byte*)&one, sizeof(ulong));
        }

        private void Run()
        {
            // The three buffers are on the pinned object heap: these pointers stay valid for the loop's life.
            fixed (byte* events = _events)
            {
                while (_state != 2)
                {
                    var n = Libc.EpollWait(_epoll, events, MaxEvents, 1000);
                    _now = _lane.Time.GetTimestamp();
                    if (n < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno == Libc.EINTR)
                        {
                            continue;
                        }

                        Log.LoopFailed(_front._logger, Marshal.GetPInvokeErrorMessage(errno));
                        break;
                    }

                    for (var i = 0; i < n; i++)
                    {
                        var at = events + (i * Libc.EpollEventSize);
                        var data = Libc.DataAt(at);
                        if (data == WakeKey)
                        {
                            OnWake();
                            continue;
                        }

                        var fd = (int)(uint)data;
                        var connection = fd < _byFd.Length ? _byFd[fd] : null;
                        if (connection is null || connection.Serial != (uint)(data >> 32))
                        {
                            // Closed (or passed on) earlier in this batch.
                            continue;
                        }

                        try
                        {
                            OnEvent(connection);
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            // Whatever went wrong is this connection's alone (as an exception in Kestrel's connection
                            // middleware would be): it closes, the loop goes on.
                            Log.ConnectionFailed(_front._logger, connection.Id, e);
                            _buffers.Sender.Queued.Clear();
                            Close(connection);
                        }
                    }

                    if (_now - _lastSweep >= _second || _state != 0)
                    {
                        Sweep();
                    }
                }
            }

            for (var i = _held.Count - 1; i >= 0; i--)
            {
                Close(_held[i]);
            }
        }

        private void OnWake()
        {
            ulong count;
            Libc.Read(_wake, (byte*)&count, sizeof(ulong));
            while (_adopted.TryDequeue(out var connection))
            {
                if (_state != 0)
                {
                    connection.Socket.Dispose();
                    _front.Released();
                    continue;
                }

                Hold(connection);
            }
        }

        private void Hold(FrontConnection connection)
        {
            if (connection.Fd >= _byFd.Length)
            {
                Array.Resize(ref _byFd, Math.Max(connection.Fd + 1, _byFd.Length * 2));
            }

            var ev = stackalloc byte[16];
            Libc.PutEvent(ev, Libc.EPOLLIN, connection.Key);
            if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, connection.Fd, ev) != 0)
            {
                connection.Socket.Dispose();
                _front.Released();
                return;
            }

            _byFd[connection.Fd] = connection;
            connection.Index = _held.Count;
            connection.LastActive = _now;
            _held.Add(connection);
        }

        private void OnEvent(FrontConnection connection)
        {
            if (connection.Waiting)
            {
                switch (Continue(connection))
                {
                    case Sent.Failed:
                        Close(connection);
                        return;
                    case Sent.Waiting:
                        return;
                }

                connection.ClearOutput();
                if (connection.CloseAfter || _state != 0)
                {
                    Close(connection, graceful: true);
                    return;
                }

                Watch(connection, Libc.EPOLLIN);
                connection.LastActive = _now;
                if (connection.Input is { } kept)
                {
                    connection.Input = null;
                    kept.CopyTo(_in, 0);
                    Serve(connection, kept.Length);
                }

                return;
            }

            nint n;
            fixed (byte* input = _in)
            {
                n = Libc.Recv(connection.Fd, input, InBytes, 0);
            }

            if (n <= 0)
            {
                if (n < 0 && Marshal.GetLastPInvokeError() is Libc.EAGAIN or Libc.EINTR)
                {
                    return;
                }

                // The client closed its side (or the connection broke) between requests.
                Close(connection);
                return;
            }

            Serve(connection, (int)n);
        }

        /// <summary>Answers the requests in <c>_in[..have]</c> while the lane answers them at once.</summary>
        private void Serve(FrontConnection connection, int have)
        {
            var start = 0;
            _buffers.Current = connection;
            while (start < have)
            {
                if (!_lane.TryAnswerNow(_buffers, new ReadOnlySequence<byte>(_in, start, have - start), connection.Client, out var consumed, out var plan, out var carried))
                {
                    // A request for Kestrel (or for the lane's waiting, its answer carried along), or a head not
                    // complete in this read.
                    PassOn(connection, start, have, carried);
                    return;
                }

                start += consumed;
                // Counted before the bytes leave: a client that reads the metrics after its response sees it counted.
                Answered(plan.Kind, plan.Length);
                switch (Send(connection, plan))
                {
                    case Sent.Failed:
                        Close(connection);
                        return;
                    case Sent.Waiting:
                        connection.Waiting = true;
                        connection.CloseAfter = plan.Close;
                        connection.Deadline = Deadline(plan.Length);
                        connection.Input = start < have ? _in.AsSpan(start, have - start).ToArray() : null;
                        Watch(connection, Libc.EPOLLOUT);
                        return;
                }

                if (plan.Close || _state != 0)
                {
                    Close(connection, graceful: true);
                    return;
                }
            }

            connection.LastActive = _now;
        }

        private long Deadline(long length)
        {
            if (_lane.MinResponseRate is not { } rate)
            {
                return long.MaxValue;
            }

            var seconds = rate.GracePeriod.TotalSeconds + (length / rate.BytesPerSecond);
            return _now + (long)(seconds * _second);
        }

        private static void Answered(DeliveryMetrics.Kind kind, long length)
        {
            FastLaneMetrics.Answered();
            if (length > 0)
            {
                DeliveryMetrics.Served(kind, length);
            }
        }

        /// <summary>Sends a composed response as far as the socket takes it now; what it does not take is kept on the connection.</summary>
        private Sent Send(FrontConnection connection, in Http1FastLane.BodyPlan plan)
        {
            var queued = _buffers.Sender.Queued;
            try
            {
                if (plan.File is { } file)
                {
                    return SendWithFile(connection, plan, file);
                }

                long total = 0;
                foreach (var segment in queued)
                {
                    total += segment.Count;
                }

                if (total <= OutBytes)
                {
                    var length = 0;
                    foreach (var segment in queued)
                    {
                        segment.AsSpan().CopyTo(_out.AsSpan(length));
                        length += segment.Count;
                    }

                    var n = SendBytes(connection.Fd, _out, 0, length);
                    if (n < 0)
                    {
                        return Sent.Failed;
                    }

                    if (n == length)
                    {
                        return Sent.All;
                    }

                    (connection.Out ??= []).Add(_out.AsSpan((int)n, length - (int)n).ToArray());
                    return Sent.Waiting;
                }

                var sent = SendGather(connection.Fd, queued);
                if (sent < 0)
                {
                    return Sent.Failed;
                }

                if (sent == total)
                {
                    return Sent.All;
                }

                // The stored buffers are immutable and stay referenced here; the head is in the loop's buffer: copied.
                var rest = connection.Out ??= [];
                foreach (var segment in queued)
                {
                    if (sent >= segment.Count)
                    {
                        sent -= segment.Count;
                        continue;
                    }

                    var left = segment.Slice((int)sent);
                    sent = 0;
                    rest.Add(ReferenceEquals(left.Array, _buffers.HeadBuffer) ? left.AsSpan().ToArray() : left);
                }

                return Sent.Waiting;
            }
            finally
            {
                queued.Clear();
            }
        }

        /// <summary>The head (MSG_MORE), then the body with sendfile from <paramref name="file"/>.</summary>
        private Sent SendWithFile(FrontConnection connection, in Http1FastLane.BodyPlan plan, SafeHandle file)
        {
            var n = ZeroCopyBodies.SendMore(connection.Socket, _buffers.HeadBuffer.AsSpan(0, plan.HeadBytes));
            if (n < 0)
            {
                return Sent.Failed;
            }

            connection.OutFile = file;
            connection.OutObject = plan.Object;
            connection.OutFileOffset = plan.Start;
            connection.OutFileRemaining = plan.Length;
            if (n < plan.HeadBytes)
            {
                (connection.Out ??= []).Add(_buffers.HeadBuffer.AsSpan((int)n, plan.HeadBytes - (int)n).ToArray());
                return Sent.Waiting;
            }

            return SendFileRest(connection);
        }

        private static Sent SendFileRest(FrontConnection connection)
        {
            long sent;
            try
            {
                sent = ZeroCopyBodies.SendFile(connection.Socket, connection.OutFile!, connection.OutFileOffset, connection.OutFileRemaining);
            }
            catch (ObjectDisposedException)
            {
                // A recording's descriptor the open-file cache let go of while this response waited.
                return Sent.Failed;
            }

            if (sent < 0)
            {
                return Sent.Failed;
            }

            connection.OutFileOffset += sent;
            connection.OutFileRemaining -= sent;
            if (connection.OutFileRemaining > 0)
            {
                return Sent.Waiting;
            }

            connection.OutFile = null;
            connection.OutObject = null;
            return Sent.All;
        }

        /// <summary>The socket has room again: what is kept goes on.</summary>
        private static Sent Continue(FrontConnection connection)
        {
            if (connection.Out is { Count: > 0 } rest)
            {
                long total = 0;
                foreach (var segment in rest)
                {
                    total += segment.Count;
                }

                var sent = SendGather(connection.Fd, rest);
                if (sent < 0)
                {
                    return Sent.Failed;
                }

                if (sent < total)
                {
                    while (sent > 0)
                    {
                        if (sent >= rest[0].Count)
                        {
                            sent -= rest[0].Count;
                            rest.RemoveAt(0);
                        }
                        else
                        {
                            rest[0] = rest[0].Slice((int)sent);
                            sent = 0;
                        }
                    }

                    return Sent.Waiting;
                }

                rest.Clear();
            }

            return connection.OutFile is null ? Sent.All : SendFileRest(connection);
        }

        /// <summary>Bytes sent (0 when the socket's buffer is full), -1 when the connection failed.</summary>
        private static nint SendBytes(int fd, byte[] buffer, int offset, int count)
        {
            // buffer: pinned for the call; the kernel copies it before send returns.
            fixed (byte* bytes = buffer)
            {
                while (true)
                {
                    if (Taken(Libc.Send(fd, bytes + offset, (nuint)count, Libc.MSG_NOSIGNAL)) is { } sent)
                    {
                        return (nint)sent;
                    }
                }
            }
        }

        /// <summary>A send's result (<see cref="Libc.Classify"/>): the bytes sent, 0 when the socket's buffer is full, -1 on failure; null to call again (EINTR).</summary>
        private static long? Taken(nint n) => Libc.Classify(n) switch
        {
            Libc.SendOutcome.Progress => n,
            Libc.SendOutcome.Full => 0,
            Libc.SendOutcome.Interrupted => null,
            _ => -1,
        };

        /// <summary>One sendmsg over up to 64 of <paramref name="segments"/>: bytes sent (0 when full), -1 on failure.</summary>
        private static long SendGather(int fd, List<ArraySegment<byte>> segments)
        {
            const int MaxIov = 64;
            var count = Math.Min(segments.Count, MaxIov);
            var iov = stackalloc Libc.IoVec[count];
            var pins = stackalloc GCHandle[count];
            var pinned = 0;
            try
            {
                // Each array pinned for the call only (the kernel copies the bytes before sendmsg returns).
                for (; pinned < count; pinned++)
                {
                    var segment = segments[pinned];
                    pins[pinned] = GCHandle.Alloc(segment.Array, GCHandleType.Pinned);
                    iov[pinned].Base = (byte*)pins[pinned].AddrOfPinnedObject() + segment.Offset;
                    iov[pinned].Length = (nuint)segment.Count;
                }

                var message = new Libc.MsgHdr { Iov = iov, IovLength = (nuint)count };
                while (true)
                {
                    if (Taken(Libc.SendMsg(fd, &message, Libc.MSG_NOSIGNAL)) is { } sent)
                    {
                        return sent;
                    }
                }
            }
            finally
            {
                for (var i = 0; i < pinned; i++)
                {
                    pins[i].Free();
                }
            }
        }

        /// <summary>The connection leaves the loop for Kestrel's transport, <c>_in[start..have]</c> first in its input.</summary>
        private void PassOn(FrontConnection connection, int start, int have, Http1FastLane.CarriedAnswer? carried)
        {
            Forget(connection);
            if (!_front.GiveAway(connection.Socket, _in.AsSpan(start, have - start), carried))
            {
                connection.Socket.Dispose();
                _front.Released();
            }
        }

        private void Watch(FrontConnection connection, uint events)
        {
            var ev = stackalloc byte[16];
            Libc.PutEvent(ev, events, connection.Key);
            if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_MOD, connection.Fd, ev) != 0)
            {
                throw new IOException("epoll_ctl MOD failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }
        }

        /// <summary>Once a second (and at once when closing): the keep-alive timeout, the minimum data rate, shutdown.</summary>
        private void Sweep()
        {
            _lastSweep = _now;
            var keepAlive = _lane.KeepAliveTicks;
            for (var i = _held.Count - 1; i >= 0; i--)
            {
                var connection = _held[i];
                if (connection.Waiting)
                {
                    if (_now > connection.Deadline)
                    {
                        Log.TooSlow(_front._logger, connection.Id);
                        Close(connection);
                    }
                }
                else if (_state != 0 || _now - connection.LastActive > keepAlive)
                {
                    Close(connection);
                }
            }
        }

        private void Forget(FrontConnection connection)
        {
            Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_DEL, connection.Fd, null);
            _byFd[connection.Fd] = null;
            var last = _held[^1];
            _held[connection.Index] = last;
            last.Index = connection.Index;
            _held.RemoveAt(_held.Count - 1);
            connection.Index = -1;
        }

        private void Close(FrontConnection connection, bool graceful = false)
        {
            if (connection.Index < 0)
            {
                return;
            }

            Forget(connection);
            connection.ClearOutput();
            if (graceful)
            {
                try
                {
                    // The response is in the kernel: a FIN after it rather than a reset.
                    connection.Socket.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                }
            }

            connection.Socket.Dispose();
            _front.Released();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1027, Level = LogLevel.Information, Message = "HTTP/1.1 fast lane on {Endpoint} runs on {Loops} epoll event loops; other requests go to Kestrel's socket transport")]
        public static partial void Started(ILogger logger, string endpoint, int loops);

        [LoggerMessage(EventId = 1028, Level = LogLevel.Warning, Message = "Event loop accept failed: {Reason}")]
        public static partial void AcceptFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1029, Level = LogLevel.Debug, Message = "Connection refused: {Max} connections are open (Kestrel:Limits:MaxConcurrentConnections)")]
        public static partial void Rejected(ILogger logger, long max);

        [LoggerMessage(EventId = 1030, Level = LogLevel.Error, Message = "An event loop stopped: epoll_wait failed ({Reason})")]
        public static partial void LoopFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1031, Level = LogLevel.Warning, Message = "Event-loop connection {ConnectionId} failed and was closed")]
        public static partial void ConnectionFailed(ILogger logger, string connectionId, Exception exception);

        [LoggerMessage(EventId = 1032, Level = LogLevel.Information, Message = "Event-loop connection {ConnectionId} closed: the client read below the minimum response data rate")]
        public static partial void TooSlow(ILogger logger, string connectionId);
    }
}
