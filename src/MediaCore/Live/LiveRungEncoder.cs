using System.Globalization;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.MediaCore.Live;

/// <summary>
/// One live rung: swscale to the rung size, libx264 tuned for latency (no B-frames, no lookahead, so a frame's
/// packet comes out as the frame goes in and DTS = PTS) with no keyframe of its own: scene cuts are off and the
/// GOP is unbounded, and the caller forces an IDR on exactly the frames where the source has a keyframe, so every
/// rung switches where the source (passed through as the top rendition) does. VBV caps the rate (maxrate/bufsize).
/// Owns its codec context, frame, packet and scaler; used from the ladder's thread only.
/// </summary>
internal sealed unsafe class LiveRungEncoder : IDisposable
{
    private readonly AVCodecContextHandle _encoder;
    private readonly AVFrameHandle _frame;
    private readonly AVPacketHandle _packet;
    private readonly FrameScaler _scaler;
    private readonly IMediaSink _sink;
    private readonly EncodedPackets _output = new(128 * 1024);

    public LiveRungEncoder(PlannedRung rung, double frameRate, string preset, IMediaSink sink)
    {
        Rung = rung;
        _sink = sink;
        var yuv420p = Codecs.PixelFormat("yuv420p");
        _encoder = Codecs.CreateEncoder("libx264");
        var ctx = _encoder.Ptr;
        Codecs.Set(ctx, "video_size", string.Create(CultureInfo.InvariantCulture, $"{rung.Width}x{rung.Height}"));
        Codecs.SetInt(ctx, "pixel_format", yuv420p);

        // Source timestamps are kept: the time base is the ingest's 90 kHz clock; the frame rate only guides
        // rate control.
        ctx->TimeBase = new AVRational(1, 90_000);
        ctx->Framerate = frameRate is > 0 and < 1000 ? new AVRational((int)Math.Round(frameRate * 1000), 1000) : new AVRational(30, 1);
        Codecs.SetInt(ctx, "b", rung.Bitrate);
        Codecs.SetInt(ctx, "maxrate", rung.MaxRate);
        Codecs.SetInt(ctx, "bufsize", rung.BufferSize);
        Codecs.SetInt(ctx, "g", 1 << 20); // keyframes only where forced (the source's)
        Codecs.Set(ctx, "flags", "+global_header"); // SPS/PPS in extradata -> avcC in the init segment
        Codecs.SetInt(ctx, "threads", 1); // one stream of many on a shared machine; a rung is below the source size

        Codecs.Set(ctx->PrivData, "preset", preset, searchChildren: false);
        Codecs.Set(ctx->PrivData, "tune", "zerolatency", searchChildren: false);
        Codecs.Set(ctx->PrivData, "profile", "high", searchChildren: false);
        Codecs.SetInt(ctx->PrivData, "sc_threshold", 0, searchChildren: false);
        // A forced I frame becomes an IDR (libx264.c: AV_PICTURE_TYPE_I -> X264_TYPE_IDR with forced-idr), so a
        // segment of a rung is independently decodable like the source's.
        Codecs.SetInt(ctx->PrivData, "forced-idr", 1, searchChildren: false);
        Codecs.Set(ctx->PrivData, "x264-params", "scenecut=0:open-gop=0", searchChildren: false);
        Codecs.Open(_encoder, $"libx264 live {rung.Name}");

        var (extradata, _, _) = Codecs.ReadParameters(_encoder);
        sink.OnVideoConfig(AnnexB.ToDecoderConfigurationRecord(extradata));

        _frame = AVFrameHandle.AllocVideo(rung.Width, rung.Height, yuv420p);
        _packet = AVPacketHandle.Alloc();
        _scaler = new FrameScaler(rung.Width, rung.Height, yuv420p);
    }

    public PlannedRung Rung { get; }

    public long Frames { get; private set; }

    public long Keyframes { get; private set; }

    /// <summary>Scales <paramref name="source"/> (owned by the caller, read only) and encodes it at <paramref name="pts"/> (90 kHz).</summary>
    /// <param name="forceKeyframe">The source has a keyframe here: this frame must be an IDR.</param>
    /// <param name="decodeShift">Subtracted from PTS to give the DTS the segmenter sees (the source's keyframe composition offset).</param>
    public void Encode(AVFrame* source, long pts, bool forceKeyframe, long decodeShift)
    {
        AvError.Check(LibAvUtil.av_frame_make_writable(_frame.Ptr), "av_frame_make_writable");
        _scaler.Scale(source, _frame.Ptr);
        _frame.Ptr->Pts = pts;
        _frame.Ptr->PictType = forceKeyframe ? LibAvCodec.PictureTypeI : LibAvCodec.PictureTypeNone;
        AvError.Check(LibAvCodec.avcodec_send_frame(_encoder.Ptr, _frame.Ptr), "avcodec_send_frame (libx264)");
        Frames++;
        Drain(decodeShift);
    }

    /// <summary>Flushes the encoder (zerolatency holds nothing back, but a preset could).</summary>
    public void Finish(long decodeShift)
    {
        var r = LibAvCodec.avcodec_send_frame(_encoder.Ptr, null);
        if (r != AvError.Eof)
        {
            AvError.Check(r, "avcodec_send_frame (flush)");
        }

        Drain(decodeShift);
    }

    private void Drain(long decodeShift)
    {
        while (_output.TryReceive(_encoder.Ptr, _packet.Ptr, out var packet))
        {
            if (packet.IsKeyframe)
            {
                Keyframes++;
            }

            // No B-frames: decode order is presentation order. The DTS is shifted by the source's keyframe
            // composition offset so the rung's decode timeline (tfdt) lines up with the source's.
            _sink.OnSample(TrackKind.Video, packet.Pts - decodeShift, packet.Pts, packet.IsKeyframe, packet.Data);
        }
    }

    public void Dispose()
    {
        _scaler.Dispose();
        _packet.Dispose();
        _frame.Dispose();
        _encoder.Dispose();
    }
}
