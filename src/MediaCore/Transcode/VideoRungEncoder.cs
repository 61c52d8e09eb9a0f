using System.Globalization;
using StreamVerse.MediaCore.Interop;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Vod;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// One rung: swscale from the shared source picture to the rung size, libx264 with a fixed GOP and no scene
/// cuts (so IDRs fall on the same frames in every rung), packets into the rung's CMAF track.
/// Owns its codec context, frame, packet and scaler; used from the pipeline thread only.
/// </summary>
internal sealed unsafe class VideoRungEncoder : IDisposable
{
    private static readonly AVRational Mpeg90k = new(1, 90_000);

    private readonly AVCodecContextHandle _encoder;
    private readonly AVFrameHandle _frame;
    private readonly AVPacketHandle _packet;
    private readonly FrameScaler _scaler;
    private readonly AVRational _timeBase;
    private readonly EncodedPackets _output = new(256 * 1024);

    public VideoRungEncoder(PlannedRung rung, AVRational frameRate, int gop, string preset, VodTrackWriter track)
    {
        Rung = rung;
        Track = track;
        var yuv420p = Codecs.PixelFormat("yuv420p");
        _encoder = Codecs.CreateEncoder("libx264");
        var ctx = _encoder.Ptr;
        Codecs.Set(ctx, "video_size", string.Create(CultureInfo.InvariantCulture, $"{rung.Width}x{rung.Height}"));
        Codecs.SetInt(ctx, "pixel_format", yuv420p);
        ctx->TimeBase = new AVRational(frameRate.Den, frameRate.Num);
        ctx->Framerate = frameRate;
        Codecs.SetInt(ctx, "b", rung.Bitrate);
        Codecs.SetInt(ctx, "maxrate", rung.MaxRate);
        Codecs.SetInt(ctx, "bufsize", rung.BufferSize);
        Codecs.SetInt(ctx, "g", gop);
        Codecs.SetInt(ctx, "keyint_min", gop);
        Codecs.Set(ctx, "flags", "+global_header"); // SPS/PPS in extradata -> avcC in the init segment
        Codecs.SetInt(ctx, "threads", 0); // x264's own frame threads (auto), as the ffmpeg CLI does; the default is 1

        // libx264's private options live on priv_data; set them there so a same-named generic option cannot win.
        Codecs.Set(ctx->PrivData, "preset", preset, searchChildren: false);
        Codecs.Set(ctx->PrivData, "profile", "high", searchChildren: false);
        Codecs.SetInt(ctx->PrivData, "sc_threshold", 0, searchChildren: false);
        Codecs.Set(ctx->PrivData, "x264-params",
            string.Create(CultureInfo.InvariantCulture, $"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"), searchChildren: false);
        Codecs.Open(_encoder, $"libx264 {rung.Name}");
        _timeBase = ctx->TimeBase;

        var (extradata, _, _) = Codecs.ReadParameters(_encoder);
        track.SetVideoConfig(AvcConfig.Parse(AnnexB.ToDecoderConfigurationRecord(extradata)));

        _frame = AVFrameHandle.AllocVideo(rung.Width, rung.Height, yuv420p);
        _packet = AVPacketHandle.Alloc();
        _scaler = new FrameScaler(rung.Width, rung.Height, yuv420p);
    }

    public PlannedRung Rung { get; }

    public VodTrackWriter Track { get; }

    public int Frames { get; private set; }

    public int Keyframes { get; private set; }

    /// <summary>Scales <paramref name="source"/> (owned by the caller, read only) and encodes it as output frame <paramref name="index"/>.</summary>
    public void Encode(AVFrame* source, long index)
    {
        // x264 copies the picture into its own lookahead, but a frame it still references must not be written.
        AvError.Check(LibAvUtil.av_frame_make_writable(_frame.Ptr), "av_frame_make_writable");
        _scaler.Scale(source, _frame.Ptr);
        _frame.Ptr->Pts = index;
        _frame.Ptr->PictType = LibAvCodec.PictureTypeNone;
        AvError.Check(LibAvCodec.avcodec_send_frame(_encoder.Ptr, _frame.Ptr), "avcodec_send_frame (libx264)");
        Frames++;
        Drain();
    }

    public void Finish()
    {
        var r = LibAvCodec.avcodec_send_frame(_encoder.Ptr, null);
        if (r != AvError.Eof)
        {
            AvError.Check(r, "avcodec_send_frame (flush)");
        }

        Drain();
        Track.Finish(LibAvUtil.av_rescale_q(1, _timeBase, Mpeg90k));
    }

    private void Drain()
    {
        while (_output.TryReceive(_encoder.Ptr, _packet.Ptr, out var packet))
        {
            if (packet.IsKeyframe)
            {
                Keyframes++;
            }

            Track.AddSample(
                LibAvUtil.av_rescale_q(packet.Dts, _timeBase, Mpeg90k),
                LibAvUtil.av_rescale_q(packet.Pts, _timeBase, Mpeg90k),
                packet.IsKeyframe,
                packet.Data);
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
