using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.MediaCore.Live;

/// <summary>
/// The transcoder thread of one live ladder: libavcodec's h264 decoder (the avcC as extradata), then per rung
/// swscale + libx264 (<see cref="LiveRungEncoder"/>), output into the rungs' segmenter sinks. libav calls block,
/// so this runs on its own thread, fed by a bounded channel (STYLE.md).
/// </summary>
internal sealed unsafe partial class LiveLadderWorker
{
    private readonly string _name;
    private readonly byte[] _avcC;
    private readonly double _frameRate;
    private readonly IReadOnlyList<PlannedRung> _rungs;
    private readonly IReadOnlyList<IMediaSink> _sinks;
    private readonly LiveLadderSettings _settings;
    private readonly ILogger _logger;
    private readonly Action? _onDroppedGop;
    private readonly Channel<Sample> _queue;
    private readonly HashSet<long> _keyframePts = [];
    private readonly Thread _thread;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _dropping;
    private volatile bool _failed;
    private long _droppedGops;
    private long _queuedBytes;
    private long _decodeShift = long.MinValue;
    private bool _sawKeyframe;

    public LiveLadderWorker(string name, byte[] avcC, double frameRate, IReadOnlyList<PlannedRung> rungs, IReadOnlyList<IMediaSink> sinks,
        LiveLadderSettings settings, ILogger logger, Action? onDroppedGop)
    {
        _name = name;
        _avcC = avcC;
        _frameRate = frameRate;
        _rungs = rungs;
        _sinks = sinks;
        _settings = settings;
        _logger = logger;
        _onDroppedGop = onDroppedGop;
        _queue = Channel.CreateBounded<Sample>(new BoundedChannelOptions(settings.QueueFrames)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait, // only TryWrite is used: full means "drop", never "wait"
        });
        _thread = new Thread(Run) { IsBackground = true, Name = "liveabr " + name };
    }

    /// <summary>Bytes of video waiting for the transcoder (at most <see cref="LiveLadderSettings.QueueBytes"/>).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>GOPs (or their remainder) not transcoded because the queue was full (in frames or in bytes).</summary>
    public long DroppedGops => Interlocked.Read(ref _droppedGops);

    /// <summary>Completes when the thread has flushed the encoders and ended every rung.</summary>
    public Task Finished => _finished.Task;

    private readonly record struct Sample(byte[] Buffer, int Length, long Dts, long Pts, bool IsKeyframe);

    public void Start() => _thread.Start();

    /// <summary>Called on the ingest thread; never blocks.</summary>
    public void Enqueue(long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        if (_failed)
        {
            return; // the rungs have ended; the source goes on without them
        }

        if (_dropping && !isKeyframe)
        {
            return; // the rest of a GOP the rungs could not take
        }

        if (Interlocked.Read(ref _queuedBytes) + data.Length <= _settings.QueueBytes)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(buffer);
            Interlocked.Add(ref _queuedBytes, data.Length);
            if (_queue.Writer.TryWrite(new Sample(buffer, data.Length, dts, pts, isKeyframe)))
            {
                _dropping = false;
                return;
            }

            Interlocked.Add(ref _queuedBytes, -data.Length);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (!_dropping || isKeyframe)
        {
            _dropping = true;
            var dropped = Interlocked.Increment(ref _droppedGops);
            _onDroppedGop?.Invoke();
            Log.DroppedGop(_logger, _name, dropped, _settings.QueueFrames);
        }
    }

    /// <summary>The publisher ended: the thread drains what is queued, flushes, and ends the rungs.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private void Run()
    {
        var encoders = new List<LiveRungEncoder>(_rungs.Count);
        AVCodecContextHandle? decoder = null;
        try
        {
            decoder = CreateDecoder(_avcC);
            for (var i = 0; i < _rungs.Count; i++)
            {
                encoders.Add(new LiveRungEncoder(_rungs[i], _frameRate, _settings.Preset, _sinks[i]));
            }

            using var packet = AVPacketHandle.Alloc();
            using var frame = AVFrameHandle.Alloc();
            var reader = _queue.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var sample))
                {
                    try
                    {
                        Decode(decoder, packet.Ptr, frame.Ptr, sample, encoders);
                    }
                    finally
                    {
                        Interlocked.Add(ref _queuedBytes, -sample.Length);
                        ArrayPool<byte>.Shared.Return(sample.Buffer);
                    }
                }
            }

            // End of publish: the decoder's delayed frames, then the encoders.
            var r = LibAvCodec.avcodec_send_packet(decoder.Ptr, null);
            if (r >= 0)
            {
                ReceiveFrames(decoder, frame.Ptr, encoders);
            }

            foreach (var encoder in encoders)
            {
                encoder.Finish(_decodeShift == long.MinValue ? 0 : _decodeShift);
            }

            Log.Finished(_logger, _name, encoders.Count > 0 ? encoders[0].Frames : 0, encoders.Count > 0 ? encoders[0].Keyframes : 0, DroppedGops);
        }
        catch (Exception ex)
        {
            // Whatever failed (libav, a rung's sink, a bug), it must not leave this thread: an exception there ends the
            // process and every stream with it. The rungs end here (their playlists get ENDLIST); the passthrough
            // rendition goes on, and the ingest thread stops queueing for the rungs. A libav allocation failure is an
            // OutOfMemoryException of ours (CreateDecoder) and ends the ladder the same way, as Transcoder ends a job.
            _failed = true;
            Log.Failed(_logger, _name, ex);
            while (_queue.Reader.TryRead(out var sample))
            {
                Interlocked.Add(ref _queuedBytes, -sample.Length);
                ArrayPool<byte>.Shared.Return(sample.Buffer);
            }
        }
        finally
        {
            foreach (var sink in _sinks)
            {
                try
                {
                    sink.OnEnd();
                }
                catch (Exception ex)
                {
                    // One rung that cannot end must not keep the others from ending.
                    Log.EndFailed(_logger, _name, ex);
                }
            }

            foreach (var encoder in encoders)
            {
                encoder.Dispose();
            }

            decoder?.Dispose();
            _finished.TrySetResult();
        }
    }

    private void Decode(AVCodecContextHandle decoder, AVPacket* packet, AVFrame* frame, in Sample sample, List<LiveRungEncoder> encoders)
    {
        if (!_sawKeyframe)
        {
            if (!sample.IsKeyframe)
            {
                return; // nothing decodes before the first keyframe
            }

            _sawKeyframe = true;
            // The source's composition offset at its first keyframe: rungs have no B-frames (DTS = PTS) and are
            // shifted by this so their decode timeline matches the source's segment for segment.
            _decodeShift = sample.Pts - sample.Dts;
        }

        int r;
        fixed (byte* data = sample.Buffer)
        {
            // A packet without buf: avcodec_send_packet copies the data before returning, so the pinned managed
            // buffer is only borrowed for the call.
            packet->Data = data;
            packet->Size = sample.Length;
            packet->Pts = sample.Pts;
            packet->Dts = sample.Dts;
            packet->Flags = sample.IsKeyframe ? LibAvCodec.PacketFlagKey : 0;
            r = LibAvCodec.avcodec_send_packet(decoder.Ptr, packet);
            packet->Data = null;
            packet->Size = 0;
        }

        if (r < 0 && !AvError.IsAgainOrEof(r))
        {
            Log.DecodeError(_logger, _name, AvError.Describe(r));
            return;
        }

        if (sample.IsKeyframe)
        {
            _keyframePts.Add(sample.Pts);
        }

        ReceiveFrames(decoder, frame, encoders);
    }

    private void ReceiveFrames(AVCodecContextHandle decoder, AVFrame* frame, List<LiveRungEncoder> encoders)
    {
        while (true)
        {
            var r = LibAvCodec.avcodec_receive_frame(decoder.Ptr, frame);
            if (AvError.IsAgainOrEof(r))
            {
                return;
            }

            if (r < 0)
            {
                Log.DecodeError(_logger, _name, AvError.Describe(r));
                return;
            }

            try
            {
                var pts = frame->BestEffortTimestamp != LibAvUtil.NoPtsValue ? frame->BestEffortTimestamp : frame->Pts;
                var key = _keyframePts.Remove(pts);
                if (_keyframePts.Count > 16)
                {
                    _keyframePts.RemoveWhere(k => k < pts); // keyframes whose picture never came out (undecodable)
                }

                foreach (var encoder in encoders)
                {
                    encoder.Encode(frame, pts, key, _decodeShift);
                }
            }
            finally
            {
                LibAvUtil.av_frame_unref(frame);
            }
        }
    }

    private static AVCodecContextHandle CreateDecoder(byte[] avcC)
    {
        var name = Utf8Z.Get("h264");
        AVCodec* codec;
        fixed (byte* pn = name)
        {
            codec = LibAvCodec.avcodec_find_decoder_by_name(pn);
        }

        if (codec == null)
        {
            throw new NotSupportedException("This FFmpeg build has no h264 decoder.");
        }

        var ctx = LibAvCodec.avcodec_alloc_context3(codec);
        if (ctx == null)
        {
            throw new OutOfMemoryException("avcodec_alloc_context3");
        }

        var handle = new AVCodecContextHandle(ctx);
        using (var par = AVCodecParametersHandle.Alloc())
        {
            // Extradata must be libav heap memory with AV_INPUT_BUFFER_PADDING_SIZE (64) zero bytes after it; the
            // parameters own it (freed by avcodec_parameters_free), the context gets its own copy.
            var extradata = (byte*)LibAvUtil.av_mallocz((nuint)(avcC.Length + 64));
            if (extradata == null)
            {
                throw new OutOfMemoryException("av_mallocz");
            }

            avcC.CopyTo(new Span<byte>(extradata, avcC.Length));
            par.Ptr->CodecType = AVMediaType.Video;
            par.Ptr->CodecId = 27; // AV_CODEC_ID_H264
            par.Ptr->Extradata = extradata;
            par.Ptr->ExtradataSize = avcC.Length;
            AvError.Check(LibAvCodec.avcodec_parameters_to_context(ctx, par.Ptr), "avcodec_parameters_to_context (h264)");
        }

        Codecs.SetInt(ctx, "threads", 1); // frame threads would add a frame of latency per thread
        AvError.Check(LibAvCodec.avcodec_open2(ctx, codec, null), "avcodec_open2 (h264 decoder)");
        return handle;
    }

    private static partial class Log
    {
        [LoggerMessage(4202, LogLevel.Warning, "Live ladder for {Name}: the transcoder is behind (queue of {Queue} frames or its byte bound full); dropped the rest of a GOP for the rungs ({Dropped} so far)")]
        public static partial void DroppedGop(ILogger logger, string name, long dropped, int queue);

        [LoggerMessage(4203, LogLevel.Warning, "Live ladder for {Name}: undecodable video skipped: {Error}")]
        public static partial void DecodeError(ILogger logger, string name, string error);

        [LoggerMessage(4204, LogLevel.Error, "Live ladder for {Name}: the transcoder failed; the rungs end, the source goes on")]
        public static partial void Failed(ILogger logger, string name, Exception exception);

        [LoggerMessage(4206, LogLevel.Error, "Live ladder for {Name}: a rung failed to end")]
        public static partial void EndFailed(ILogger logger, string name, Exception exception);

        [LoggerMessage(4205, LogLevel.Information, "Live ladder for {Name} finished: {Frames} frames per rung, {Keyframes} keyframes, {Dropped} GOPs dropped")]
        public static partial void Finished(ILogger logger, string name, long frames, long keyframes, long dropped);
    }
}
