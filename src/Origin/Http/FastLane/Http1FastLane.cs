using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using StreamVerse.Origin.Hosting;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// A Kestrel connection middleware on the cleartext HTTP/1.1 endpoint that answers the hot requests of media players
/// (public live playlists, LL-HLS blocking reloads, parts and segments in memory) straight from the transport's pipes,
/// without Kestrel's HTTP layer, routing or the control plane's middleware: per-request overhead is most of what a
/// 1.6 KB playlist costs (bench/RESULTS.md). The first request it does not fully understand (see
/// <see cref="Http1RequestHead"/> and <see cref="IFastLaneRouter"/>) hands the connection, unconsumed from that request
/// on, to Kestrel's HTTP/1.1 handling, which serves it and the rest of the connection as before. So the lane never
/// answers differently from the routed path; it only answers sooner.
/// <para>
/// What it keeps of Kestrel's behaviour: the connection limit (applied before any middleware), the keep-alive timeout
/// and the minimum response data rate (checked on Kestrel's heartbeat), graceful shutdown (idle connections close when
/// the server asks). Request-header timeouts need nothing: a head that is not complete when read goes to Kestrel.
/// </para>
/// </summary>
internal sealed partial class Http1FastLane
{
    /// <summary>Room for one response head, or a problem response whole.</summary>
    private const int HeadBufferBytes = 4096;

    private static readonly byte[] Status200 = "HTTP/1.1 200 OK\r\n"u8.ToArray();
    private static readonly byte[] Status206 = "HTTP/1.1 206 Partial Content\r\n"u8.ToArray();
    private static readonly byte[] Status304 = "HTTP/1.1 304 Not Modified\r\n"u8.ToArray();
    private static readonly byte[] Status416 = "HTTP/1.1 416 Range Not Satisfiable\r\n"u8.ToArray();

    /// <summary>What ASP.NET's CORS middleware adds to a simple cross-origin GET under the delivery policy with any origin (<see cref="LiveDelivery"/>).</summary>
    private static readonly byte[] CorsAnyOrigin = Encoding.ASCII.GetBytes(
        "Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: " + string.Join(',', LiveDelivery.ExposedHeaders) + "\r\n");

    private readonly IFastLaneRouter _router;
    private readonly TimeProvider _time;
    private readonly long _keepAliveTicks;
    private readonly MinDataRate? _minResponseRate;
    private readonly HttpDate _date;
    private readonly ILogger _logger;
    private readonly bool _inlineContinuations;
    private readonly bool _anyOrigin;
    private readonly ZeroCopyBodies _bodies;
    private readonly Audience.DeliveryObserver? _observer;

    /// <param name="inlineContinuations">Kestrel runs connection code inline (<c>StreamVerse:InlineScheduling</c>): a send that waited goes on where it completed.</param>
    /// <param name="anyOrigin">
    /// The delivery CORS policy allows any origin (<c>StreamVerse:Delivery:CorsOrigins</c> is <c>*</c>): a request with
    /// <c>Origin</c> gets that policy's headers from the lane. With a list of origins such requests are handed over.
    /// </param>
    /// <param name="bodies">Where large bodies asked for again are copied once, to go with sendfile from there.</param>
    /// <param name="observer">Sees every media response the lane composes (audience analytics, live viewers); none in some tests.</param>
    public Http1FastLane(IFastLaneRouter router, TimeProvider time, KestrelServerLimits limits, ZeroCopyBodies bodies, ILogger logger, bool inlineContinuations = false, bool anyOrigin = false,
        Audience.DeliveryObserver? observer = null)
    {
        _observer = observer;
        _bodies = bodies;
        _inlineContinuations = inlineContinuations;
        _anyOrigin = anyOrigin;
        _router = router;
        _time = time;
        _keepAliveTicks = limits.KeepAliveTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(limits.KeepAliveTimeout.TotalSeconds * time.TimestampFrequency);
        _minResponseRate = limits.MinResponseDataRate;
        _date = new HttpDate(time);
        _logger = logger;
    }

    public ConnectionDelegate Wrap(ConnectionDelegate next) => context => RunAsync(context, next);

    private async Task RunAsync(ConnectionContext context, ConnectionDelegate next)
    {
        var heartbeat = context.Features.Get<IConnectionHeartbeatFeature>();
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (heartbeat is null || socket is null)
        {
            // Without Kestrel's heartbeat nothing would enforce the keep-alive timeout, and without the socket the
            // lane cannot send: leave the connection to Kestrel.
            await HandOverAsync(context, next).ConfigureAwait(false);
            return;
        }

        var state = new Connection(this, context, socket);
        heartbeat.OnHeartbeat(static s => ((Connection)s).OnHeartbeat(), state);
        var lifetime = context.Features.Get<IConnectionLifetimeNotificationFeature>();
        var closing = lifetime?.ConnectionClosedRequested.Register(static s => ((Connection)s!).RequestClose(), state);
        bool handOver;
        try
        {
            handOver = await ServeAsync(state).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or ConnectionResetException or ConnectionAbortedException or OperationCanceledException or InvalidOperationException)
        {
            // The peer went away, the heartbeat aborted an idle or too slow connection, or the pipes were completed
            // under us: nothing to answer any more.
            Log.ConnectionEnded(_logger, context.ConnectionId, e.Message);
            handOver = false;
        }
        finally
        {
            if (closing is { } registration)
            {
                await registration.DisposeAsync().ConfigureAwait(false);
            }

            state.Dispose();
        }

        if (handOver)
        {
            state.HandedOver = true;
            FastLaneMetrics.HandedOver();
            await HandOverAsync(context, next).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Kestrel's HTTP/1.1 handling takes the connection. With inline scheduling its reads then go on on the thread pool
    /// (<see cref="ThreadPoolInput"/>): only the lane's own answers run on the socket engine's thread.
    /// </summary>
    private Task HandOverAsync(ConnectionContext context, ConnectionDelegate next)
    {
        if (_inlineContinuations)
        {
            ThreadPoolInput.Apply(context);
        }

        return next(context);
    }

    /// <returns>True to hand the connection to Kestrel (the input then starts at the first request not answered).</returns>
    private async Task<bool> ServeAsync(Connection state)
    {
        var context = state.Context;
        var input = context.Transport.Input;
        var client = (context.RemoteEndPoint as IPEndPoint)?.Address;
        var ct = context.ConnectionClosed;
        // A connection an event loop let go while the answer to its first request was still to come.
        var carried = context.Features.Get<CarriedAnswer>();
        context.Features.Set<CarriedAnswer>(null);
        while (true)
        {
            state.Idle();
            var result = await input.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            state.Busy();
            var buffer = result.Buffer;
            if (result.IsCanceled && state.CloseRequested)
            {
                input.AdvanceTo(buffer.Start);
                return false;
            }

            var answered = 0;
            while (true)
            {
                var step = Answer(state, buffer, client, ct, out var consumed, out var pending, out var body, carried);
                carried = null;
                if (step == Step.Incomplete && (answered > 0 || buffer.IsEmpty))
                {
                    // The rest of a pipelined request is on its way (or there is nothing): read on.
                    break;
                }

                if (step == Step.Pending)
                {
                    // An LL-HLS blocking reload or a part announced by a preload hint.
                    var answer = await pending.ConfigureAwait(false);
                    step = answer.IsHandOver ? Step.HandOver : AnswerAfterWait(state, buffer, answer, client, out consumed, out body);
                }

                if (step is Step.HandOver or Step.Incomplete)
                {
                    input.AdvanceTo(buffer.Start);
                    return true;
                }

                answered++;
                buffer = buffer.Slice(consumed);
                // Counted before the bytes leave: a client that reads the metrics after its response sees it counted.
                FastLaneMetrics.Answered();
                if (body.Length > 0)
                {
                    DeliveryMetrics.Served(body.Kind, body.Length);
                }

                await state.SendAsync(body).ConfigureAwait(false);

                if (body.Close)
                {
                    input.AdvanceTo(buffer.Start);
                    return false;
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return false;
            }
        }
    }

    private enum Step
    {
        Incomplete,
        HandOver,
        Pending,
        Answered,
    }

    /// <summary>
    /// A composed response: its head is in the connection's head buffer (<see cref="HeadBytes"/> long); without a
    /// <see cref="File"/>, head and body are queued on the sender; with one, the body goes with sendfile from there
    /// (a copy of <see cref="Object"/>, or a recording's file on disk when there is no object).
    /// </summary>
    internal readonly record struct BodyPlan(long Length, DeliveryMetrics.Kind Kind, bool Close, int HeadBytes = 0,
        StoredObject? Object = null, long Start = 0, SafeHandle? File = null);

    /// <summary>Parses the next request head, routes it and, when the answer is at hand, queues the response.</summary>
    /// <param name="carried">The answer of this request, already routed by an event loop (<see cref="CarriedAnswer"/>): not routed again.</param>
    private Step Answer(LaneBuffers state, in ReadOnlySequence<byte> buffer, IPAddress? client, CancellationToken ct,
        out int consumed, out ValueTask<FastLaneAnswer> pending, out BodyPlan body, CarriedAnswer? carried = null)
    {
        pending = default;
        body = default;
        switch (Http1RequestHead.TryRead(buffer, state.Scratch, out var head, out consumed))
        {
            case HeadStatus.Incomplete:
                return Step.Incomplete;
            case HeadStatus.HandOver:
                return Step.HandOver;
        }

        if (carried is not null)
        {
            pending = carried.Answer;
        }
        else if ((head.CrossOrigin && !_anyOrigin)
            || !_router.TryRoute(new FastLaneRequest(head.Path, head.Query, head.Host, head.FromEdge, client, head.IsHead), ct, out pending))
        {
            return Step.HandOver;
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return Step.Pending;
        }

        var answer = pending.Result;
        pending = default;
        if (answer.IsHandOver || !Takes(head, answer))
        {
            return Step.HandOver;
        }

        return Composed(state, head, answer, client, out body);
    }

    /// <summary>
    /// A recording's file is answered for a plain GET or HEAD; a conditional or range request for one goes to the routed
    /// handler (ASP.NET's physical-file result, with its date comparisons).
    /// </summary>
    private static bool Takes(in Http1RequestHead head, in FastLaneAnswer answer) =>
        answer.File is null || (head.IfNoneMatch.IsEmpty && head.Range.IsEmpty && head.IfRange.IsEmpty && !head.OtherConditional);

    /// <summary>After a wait the head is parsed again from the same, still unconsumed bytes (spans do not outlive an await).</summary>
    private Step AnswerAfterWait(Connection state, in ReadOnlySequence<byte> buffer, FastLaneAnswer answer, IPAddress? client, out int consumed, out BodyPlan body)
    {
        body = default;
        if (Http1RequestHead.TryRead(buffer, state.Scratch, out var head, out consumed) != HeadStatus.Parsed || !Takes(head, answer))
        {
            return Step.HandOver;
        }

        return Composed(state, head, answer, client, out body);
    }

    /// <summary><see cref="TryCompose"/>, and a media response it composed (not a problem) is observed, once per request.</summary>
    private Step Composed(LaneBuffers state, in Http1RequestHead head, in FastLaneAnswer answer, IPAddress? client, out BodyPlan body)
    {
        if (!TryCompose(state, head, answer, out body))
        {
            return Step.HandOver;
        }

        if (_observer is not null && answer.Problem is null)
        {
            _observer.Observe(head.Path, head.Query, new Audience.CmcdHeaders(head.CmcdRequest, head.CmcdObject, head.CmcdStatus, head.CmcdSession),
                head.UserAgent, client, body.Length, _observer.DefaultTier);
        }

        return Step.Answered;
    }

    /// <summary>
    /// The response for <paramref name="answer"/>, with the headers and rules of <see cref="StoredObjectWriter"/>:
    /// If-None-Match (RFC 9110 §13.1.2), one byte range with If-Range (§14), br/gzip for playlists, HEAD. The head is
    /// written into the connection's head buffer; the body is queued as the stored buffers themselves. False, with
    /// nothing queued, for a head the buffer cannot hold (an edge passes on its origin's ETag and type as they came):
    /// the routed path answers that request.
    /// </summary>
    private bool TryCompose(LaneBuffers state, in Http1RequestHead head, in FastLaneAnswer answer, out BodyPlan body)
    {
        body = default;
        if (answer.Problem is { } problem)
        {
            var problemBytes = WriteProblem(state, problem, head.IsHead, head.Close, head.CrossOrigin);
            if (problemBytes < 0)
            {
                return false;
            }

            state.Sender.Add(state.HeadBuffer.AsMemory(0, problemBytes));
            if (problem.RawBody is { Length: > 0 } raw && !head.IsHead)
            {
                state.Sender.Add(raw);
            }

            body = new BodyPlan(0, default, head.Close, problemBytes);
            return true;
        }

        if (answer.File is { } recording)
        {
            return ComposeFile(state, head, answer, recording, out body);
        }

        var obj = answer.Body!;
        string? encoding = null;
        Span<char> chars = stackalloc char[Http1RequestHead.MaxValueBytes];
        if (answer.Compress)
        {
            obj = PlaylistCompression.Select(Chars(head.AcceptEncoding, chars), obj, out encoding);
        }

        var status = Status200;
        long start = 0, length = obj.Length;
        var contentRange = false;
        if (!head.IfNoneMatch.IsEmpty && StoredObjectWriter.IfNoneMatchHits(Chars(head.IfNoneMatch, chars), obj.ETag))
        {
            status = Status304;
        }
        else if (!head.Range.IsEmpty && (head.IfRange.IsEmpty || Ascii.Equals(head.IfRange, obj.ETag)))
        {
            switch (StoredObjectWriter.TryParseRange(Chars(head.Range, chars), obj.Length, out start, out length))
            {
                case StoredObjectWriter.RangeResult.Satisfiable:
                    status = Status206;
                    contentRange = true;
                    break;
                case StoredObjectWriter.RangeResult.Unsatisfiable:
                    status = Status416;
                    contentRange = true;
                    break;
                default:
                    start = 0;
                    length = obj.Length;
                    break;
            }
        }

        var w = new HeadWriter(state.HeadBuffer);
        w.Raw(status);
        if (status != Status304)
        {
            w.Field("Content-Length: "u8, status == Status416 ? 0 : length);
        }

        w.Field("Content-Type: "u8, obj.ContentType);
        w.Raw(_date.Current);
        w.Raw(answer.CacheControl);
        if (answer.Age >= 0)
        {
            w.Raw("Age: "u8);
            w.Number(answer.Age);
            w.Crlf();
        }

        if (answer.Extra is { } extra)
        {
            w.Raw(extra);
        }

        w.Field("ETag: "u8, obj.ETag);
        w.Raw("Accept-Ranges: bytes\r\n"u8);
        if (answer.Compress)
        {
            w.Raw("Vary: Accept-Encoding\r\n"u8);
            if (encoding is not null)
            {
                w.Raw("Content-Encoding: "u8);
                w.Ascii(encoding);
                w.Crlf();
            }
        }

        if (contentRange)
        {
            w.Raw("Content-Range: bytes "u8);
            if (status == Status206)
            {
                w.Number(start);
                w.Raw("-"u8);
                w.Number(start + length - 1);
            }
            else
            {
                w.Raw("*"u8);
            }

            w.Raw("/"u8);
            w.Number(obj.Length);
            w.Crlf();
        }

        if (head.CrossOrigin)
        {
            w.Raw(CorsAnyOrigin);
        }

        if (head.Close)
        {
            w.Raw("Connection: close\r\n"u8);
        }

        w.Crlf();
        if (w.Overflowed)
        {
            return false;
        }

        var send = head.IsHead || !(status == Status200 || status == Status206) ? 0 : length;
        if (send >= ZeroCopyBodies.MinimumBytes && _bodies.For(obj) is { } file)
        {
            body = new BodyPlan(send, answer.Kind, head.Close, w.Written, obj, start, file);
            return true;
        }

        state.Sender.Add(state.HeadBuffer.AsMemory(0, w.Written));
        if (send > 0)
        {
            QueueBody(state.Sender, obj, start, send);
        }

        body = new BodyPlan(send, answer.Kind, head.Close, w.Written);
        return true;
    }

    /// <summary>
    /// A recording's file, whole (<see cref="Takes"/>), with the headers of ASP.NET's physical-file result as the routed
    /// handler sends it: Content-Length, Content-Type, Last-Modified, ETag, Accept-Ranges, its Cache-Control; the body
    /// with sendfile from the cached descriptor.
    /// </summary>
    private bool ComposeFile(LaneBuffers state, in Http1RequestHead head, in FastLaneAnswer answer, RecordingFile file, out BodyPlan body)
    {
        body = default;
        var w = new HeadWriter(state.HeadBuffer);
        w.Raw(Status200);
        w.Field("Content-Length: "u8, file.Length);
        w.Field("Content-Type: "u8, file.ContentType);
        w.Raw(_date.Current);
        w.Raw(answer.CacheControl);
        w.Raw(file.LastModifiedLine);
        w.Field("ETag: "u8, file.ETag);
        w.Raw("Accept-Ranges: bytes\r\n"u8);
        if (head.CrossOrigin)
        {
            w.Raw(CorsAnyOrigin);
        }

        if (head.Close)
        {
            w.Raw("Connection: close\r\n"u8);
        }

        w.Crlf();
        if (w.Overflowed)
        {
            return false;
        }

        if (head.IsHead || file.Length == 0)
        {
            state.Sender.Add(state.HeadBuffer.AsMemory(0, w.Written));
            body = new BodyPlan(0, answer.Kind, head.Close, w.Written);
            return true;
        }

        body = new BodyPlan(file.Length, answer.Kind, head.Close, w.Written, File: file.Handle);
        return true;
    }

    private static ReadOnlySpan<char> Chars(ReadOnlySpan<byte> ascii, Span<char> destination) =>
        destination[..Encoding.ASCII.GetChars(ascii, destination)];

    /// <summary>
    /// An RFC 9457 problem, shaped like ASP.NET's (type, title, status, detail, traceId), head and body in the head buffer;
    /// or, for a problem with a raw body, the head alone (the body is queued after it). The bytes written, or -1 when
    /// they do not fit.
    /// </summary>
    private int WriteProblem(LaneBuffers state, FastLaneProblem problem, bool isHead, bool close, bool crossOrigin)
    {
        var json = problem.RawBody is null
            ? JsonSerializer.SerializeToUtf8Bytes(new ProblemBody(problem.Type, problem.Title, problem.Status, problem.Detail,
                state.TraceId()), FastLaneJson.Default.ProblemBody)
            : null;
        var w = new HeadWriter(state.HeadBuffer);
        w.Raw("HTTP/1.1 "u8);
        w.Number(problem.Status);
        w.Raw(" "u8);
        w.Ascii(problem.Title);
        w.Crlf();
        w.Raw("Content-Length: "u8);
        w.Number(json?.Length ?? problem.RawBody!.Length);
        w.Crlf();
        if (json is not null)
        {
            w.Raw("Content-Type: application/problem+json\r\n"u8);
        }
        else if (problem.RawContentType is { } contentType)
        {
            w.Raw("Content-Type: "u8);
            w.Ascii(contentType);
            w.Crlf();
        }

        w.Raw(_date.Current);
        if (problem.CacheControl.Length > 0)
        {
            w.Raw(problem.CacheControl);
        }

        if (crossOrigin)
        {
            w.Raw(CorsAnyOrigin);
        }

        if (close)
        {
            w.Raw("Connection: close\r\n"u8);
        }

        w.Crlf();
        if (!isHead && json is not null)
        {
            w.Raw(json);
        }

        return w.Overflowed ? -1 : w.Written;
    }

    /// <summary>The stored buffers covering [start, start + length), as they are: the kernel copies them once, from there.</summary>
    private static void QueueBody(SocketBufferSender sender, StoredObject obj, long start, long length)
    {
        foreach (var slice in obj.Slices(start, length))
        {
            sender.Add(slice);
        }
    }

    /// <summary>
    /// Writes a response head into the connection's head buffer. What does not fit is not written, and the writer
    /// says so (<see cref="Overflowed"/>): the caller then hands the request to the routed path.
    /// </summary>
    private ref struct HeadWriter(byte[] buffer)
    {
        private readonly Span<byte> _span = buffer;

        public int Written { get; private set; }

        public bool Overflowed { get; private set; }

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            if (!Overflowed && bytes.TryCopyTo(_span[Written..]))
            {
                Written += bytes.Length;
            }
            else
            {
                Overflowed = true;
            }
        }

        public void Ascii(string value)
        {
            if (!Overflowed && Encoding.ASCII.TryGetBytes(value, _span[Written..], out var n))
            {
                Written += n;
            }
            else
            {
                Overflowed = true;
            }
        }

        public void Number(long value)
        {
            if (!Overflowed && value.TryFormat(_span[Written..], out var n, default, CultureInfo.InvariantCulture))
            {
                Written += n;
            }
            else
            {
                Overflowed = true;
            }
        }

        public void Crlf() => Raw("\r\n"u8);

        /// <summary>A header line: <paramref name="name"/> (with its ": "), the value, CRLF.</summary>
        public void Field(ReadOnlySpan<byte> name, string value)
        {
            Raw(name);
            Ascii(value);
            Crlf();
        }

        public void Field(ReadOnlySpan<byte> name, long value)
        {
            Raw(name);
            Number(value);
            Crlf();
        }
    }

    /// <summary>What a response is composed in: the head's scratch copy, the response head buffer, the queued buffers.</summary>
    internal abstract class LaneBuffers(bool inlineContinuations) : IDisposable
    {
        public byte[] Scratch { get; } = ArrayPool<byte>.Shared.Rent(Http1RequestHead.MaxHeadBytes);

        public byte[] HeadBuffer { get; } = ArrayPool<byte>.Shared.Rent(HeadBufferBytes);

        public SocketBufferSender Sender { get; } = new(inlineContinuations);

        /// <summary>The <c>traceId</c> of a problem answer: the connection's id and the request's number on it.</summary>
        public abstract string TraceId();

        public virtual void Dispose()
        {
            Sender.Dispose();
            ArrayPool<byte>.Shared.Return(Scratch);
            ArrayPool<byte>.Shared.Return(HeadBuffer);
        }
    }

    /// <summary>
    /// The first request in <paramref name="buffer"/>, answered only if that takes no waiting: for a caller that runs
    /// on an event loop (<see cref="EpollFront"/>) and gives every other request, with its bytes, to this lane on
    /// Kestrel's transport. An answer that would have to wait is let go (its wait is observed, not kept).
    /// </summary>
    /// <param name="carried">
    /// For a request whose answer is still to come (an LL-HLS blocking reload, a hinted part, an edge's miss): that
    /// answer, for the lane on Kestrel's transport to wait for instead of routing the request again (a route can count
    /// in metrics, join a fetch, register a wait). Null otherwise.
    /// </param>
    /// <returns>
    /// True when the response is composed (its buffers queued on <see cref="LaneBuffers.Sender"/>, or a file plan);
    /// false when the lane does not answer this request at once (it hands over, has to wait, or the head is not complete).
    /// </returns>
    internal bool TryAnswerNow(LaneBuffers state, in ReadOnlySequence<byte> buffer, IPAddress? client, out int consumed, out BodyPlan body, out CarriedAnswer? carried)
    {
        var step = Answer(state, buffer, client, CancellationToken.None, out consumed, out var pending, out body);
        carried = step == Step.Pending ? new CarriedAnswer(pending) : null;
        return step == Step.Answered;
    }

    /// <summary>
    /// The answer to a connection's first request as an event loop routed it (a connection feature of the connection
    /// it gives to Kestrel's transport): the lane there waits for it rather than routing the same request twice. The
    /// wait has no cancellation of its own (the loop routed without the connection's token): it ends when the answer
    /// comes or times out, as the routers' waits all do.
    /// </summary>
    internal sealed class CarriedAnswer(ValueTask<FastLaneAnswer> answer)
    {
        public ValueTask<FastLaneAnswer> Answer { get; } = answer;
    }

    /// <summary>The keep-alive timeout in <see cref="TimeProvider"/> ticks (long.MaxValue for none).</summary>
    internal long KeepAliveTicks => _keepAliveTicks;

    /// <summary>The minimum response data rate, if any.</summary>
    internal MinDataRate? MinResponseRate => _minResponseRate;

    internal TimeProvider Time => _time;

    /// <summary>Per-connection state: buffers, the sender, and what the heartbeat reads (idleness, a send's deadline).</summary>
    private sealed class Connection(Http1FastLane lane, ConnectionContext context, Socket socket) : LaneBuffers(lane._inlineContinuations)
    {
        private long _idleSince;
        private long _sendDeadline;
        private int _requests;

        public ConnectionContext Context { get; } = context;

        public override string TraceId() =>
            Context.ConnectionId + ":" + Interlocked.Increment(ref _requests).ToString("X8", CultureInfo.InvariantCulture);

        public bool CloseRequested { get; private set; }

        public bool HandedOver { get; set; }

        public void Idle() => Volatile.Write(ref _idleSince, lane._time.GetTimestamp());

        public void Busy() => Volatile.Write(ref _idleSince, 0);

        /// <summary>
        /// Sends a composed response. A body that the client does not take at the minimum data rate (after its grace
        /// period) aborts the connection (<see cref="OnHeartbeat"/>).
        /// </summary>
        // Pooled state machines: a response that waits for the socket allocates nothing either.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask SendAsync(BodyPlan plan)
        {
            var deadline = long.MaxValue;
            if (lane._minResponseRate is { } rate)
            {
                var seconds = rate.GracePeriod.TotalSeconds + plan.Length / rate.BytesPerSecond;
                deadline = lane._time.GetTimestamp() + (long)(seconds * lane._time.TimestampFrequency);
            }

            Volatile.Write(ref _sendDeadline, deadline);
            try
            {
                if (plan.File is null)
                {
                    await Sender.SendAsync(socket).ConfigureAwait(false);
                }
                else
                {
                    await SendFileAsync(plan).ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref _sendDeadline, 0);
            }
        }

        /// <summary>
        /// The head (MSG_MORE), then the body with sendfile, each as far as the socket takes it at once. When its buffer
        /// is full, the next 64 KiB go through the sender from the stored buffers: that send waits for the socket to
        /// drain (the runtime's epoll), after which sendfile goes on. So nearly all of a large body leaves without a copy.
        /// </summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        private async ValueTask SendFileAsync(BodyPlan plan)
        {
            const int WaitSliceBytes = 64 * 1024;
            var head = HeadBuffer.AsMemory(0, plan.HeadBytes);
            var sentHead = ZeroCopyBodies.SendMore(socket, head.Span);
            if (sentHead < 0)
            {
                throw new IOException("the peer closed the connection");
            }

            if (sentHead < head.Length)
            {
                Sender.Add(head[(int)sentHead..]);
                await Sender.SendAsync(socket).ConfigureAwait(false);
            }

            long done = 0;
            while (done < plan.Length)
            {
                var sent = ZeroCopyBodies.SendFile(socket, plan.File!, plan.Start + done, plan.Length - done);
                if (sent < 0)
                {
                    throw new IOException("the peer closed the connection");
                }

                done += sent;
                if (done == plan.Length)
                {
                    break;
                }

                var slice = (int)Math.Min(WaitSliceBytes, plan.Length - done);
                byte[]? read = null;
                try
                {
                    if (plan.Object is { } obj)
                    {
                        QueueBody(Sender, obj, plan.Start + done, slice);
                    }
                    else
                    {
                        // A file on disk: the next slice read into a pooled buffer, sent (and waited for) from there.
                        read = ArrayPool<byte>.Shared.Rent(slice);
                        slice = ZeroCopyBodies.Read(plan.File!, read.AsSpan(0, slice), plan.Start + done);
                        if (slice <= 0)
                        {
                            throw new IOException("the file ended before its length (it was cut short on disk)");
                        }

                        Sender.Add(read.AsMemory(0, slice));
                    }

                    await Sender.SendAsync(socket).ConfigureAwait(false);
                }
                finally
                {
                    if (read is not null)
                    {
                        ArrayPool<byte>.Shared.Return(read);
                    }
                }

                done += slice;
            }
        }

        public void RequestClose()
        {
            CloseRequested = true;
            // Wakes the read of an idle connection; one in the middle of a request finishes it first.
            Context.Transport.Input.CancelPendingRead();
        }

        /// <summary>Kestrel's heartbeat (about once a second): the keep-alive timeout and the minimum response data rate.</summary>
        public void OnHeartbeat()
        {
            if (HandedOver)
            {
                return;
            }

            var now = lane._time.GetTimestamp();
            var idle = Volatile.Read(ref _idleSince);
            if (idle != 0 && now - idle > lane._keepAliveTicks)
            {
                Context.Abort(new ConnectionAbortedException("keep-alive timeout"));
                return;
            }

            var deadline = Volatile.Read(ref _sendDeadline);
            if (deadline != 0 && now > deadline)
            {
                Log.TooSlow(lane._logger, Context.ConnectionId);
                Context.Abort(new ConnectionAbortedException("the client read the response below the minimum data rate"));
            }
        }

    }

    /// <summary>The <c>Date</c> header line, formatted once per second (RFC 9110 §5.6.7 IMF-fixdate).</summary>
    private sealed class HttpDate(TimeProvider time)
    {
        private Line _line = new(long.MinValue, []);

        public byte[] Current
        {
            get
            {
                var now = time.GetUtcNow();
                var second = now.ToUnixTimeSeconds();
                var line = Volatile.Read(ref _line);
                if (line.Second != second)
                {
                    line = new Line(second, Encoding.ASCII.GetBytes("Date: " + now.ToString("r", CultureInfo.InvariantCulture) + "\r\n"));
                    Volatile.Write(ref _line, line);
                }

                return line.Bytes;
            }
        }

        private sealed record Line(long Second, byte[] Bytes);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1021, Level = LogLevel.Debug, Message = "Fast-lane connection {ConnectionId} ended: {Reason}")]
        public static partial void ConnectionEnded(ILogger logger, string connectionId, string reason);

        [LoggerMessage(EventId = 1022, Level = LogLevel.Information, Message = "Fast-lane connection {ConnectionId} closed: the client read below the minimum response data rate")]
        public static partial void TooSlow(ILogger logger, string connectionId);
    }
}

internal sealed record ProblemBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
    [property: System.Text.Json.Serialization.JsonPropertyName("title")] string Title,
    [property: System.Text.Json.Serialization.JsonPropertyName("status")] int Status,
    [property: System.Text.Json.Serialization.JsonPropertyName("detail")] string Detail,
    [property: System.Text.Json.Serialization.JsonPropertyName("traceId")] string TraceId);

[System.Text.Json.Serialization.JsonSerializable(typeof(ProblemBody))]
internal sealed partial class FastLaneJson : System.Text.Json.Serialization.JsonSerializerContext;
