using Microsoft.Win32.SafeHandles;

namespace StreamVerse.MediaCore.Interop;

// One SafeHandle per libav free function. Each owns the pointer from creation until Dispose; callers use
// Ptr only while they hold the handle (fields of the owning pipeline object), never after disposing it.

internal sealed unsafe class AVFormatContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public AVFormatContextHandle(AVFormatContext* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public AVFormatContext* Ptr => (AVFormatContext*)handle;

    protected override bool ReleaseHandle()
    {
        var p = (AVFormatContext*)handle;
        LibAvFormat.avformat_close_input(&p);
        return true;
    }
}

internal sealed unsafe class AVCodecContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public AVCodecContextHandle(AVCodecContext* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public AVCodecContext* Ptr => (AVCodecContext*)handle;

    protected override bool ReleaseHandle()
    {
        var p = (AVCodecContext*)handle;
        LibAvCodec.avcodec_free_context(&p);
        return true;
    }
}

internal sealed unsafe class AVPacketHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private AVPacketHandle(AVPacket* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public AVPacket* Ptr => (AVPacket*)handle;

    public static AVPacketHandle Alloc()
    {
        var p = LibAvCodec.av_packet_alloc();
        return p == null ? throw new OutOfMemoryException("av_packet_alloc") : new AVPacketHandle(p);
    }

    protected override bool ReleaseHandle()
    {
        var p = (AVPacket*)handle;
        LibAvCodec.av_packet_free(&p);
        return true;
    }
}

internal sealed unsafe class AVFrameHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private AVFrameHandle(AVFrame* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public AVFrame* Ptr => (AVFrame*)handle;

    public static AVFrameHandle Alloc()
    {
        var p = LibAvUtil.av_frame_alloc();
        return p == null ? throw new OutOfMemoryException("av_frame_alloc") : new AVFrameHandle(p);
    }

    /// <summary>Another reference to <paramref name="source"/>'s buffers (av_frame_clone); read-only sharing across threads.</summary>
    public static AVFrameHandle Clone(AVFrame* source)
    {
        var p = LibAvUtil.av_frame_clone(source);
        return p == null ? throw new OutOfMemoryException("av_frame_clone") : new AVFrameHandle(p);
    }

    /// <summary>A frame with its own picture buffer (av_frame_get_buffer).</summary>
    public static AVFrameHandle AllocVideo(int width, int height, int pixelFormat)
    {
        var frame = Alloc();
        frame.Ptr->Width = width;
        frame.Ptr->Height = height;
        frame.Ptr->Format = pixelFormat;
        AvError.Check(LibAvUtil.av_frame_get_buffer(frame.Ptr, 0), "av_frame_get_buffer");
        return frame;
    }

    protected override bool ReleaseHandle()
    {
        var p = (AVFrame*)handle;
        LibAvUtil.av_frame_free(&p);
        return true;
    }
}

internal sealed unsafe class SwsContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SwsContextHandle(SwsContext* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public SwsContext* Ptr => (SwsContext*)handle;

    protected override bool ReleaseHandle()
    {
        LibSwScale.sws_freeContext((SwsContext*)handle);
        return true;
    }
}

internal sealed unsafe class SwrContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SwrContextHandle(SwrContext* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public SwrContext* Ptr => (SwrContext*)handle;

    protected override bool ReleaseHandle()
    {
        var p = (SwrContext*)handle;
        LibSwResample.swr_free(&p);
        return true;
    }
}

internal sealed unsafe class AVCodecParametersHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private AVCodecParametersHandle(AVCodecParameters* ptr)
        : base(ownsHandle: true) => SetHandle((nint)ptr);

    public AVCodecParameters* Ptr => (AVCodecParameters*)handle;

    public static AVCodecParametersHandle Alloc()
    {
        var p = LibAvCodec.avcodec_parameters_alloc();
        return p == null ? throw new OutOfMemoryException("avcodec_parameters_alloc") : new AVCodecParametersHandle(p);
    }

    protected override bool ReleaseHandle()
    {
        var p = (AVCodecParameters*)handle;
        LibAvCodec.avcodec_parameters_free(&p);
        return true;
    }
}
