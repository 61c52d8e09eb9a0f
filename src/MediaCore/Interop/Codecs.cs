namespace StreamVerse.MediaCore.Interop;

/// <summary>
/// Small helpers around codec contexts: options by name, opening, reading back parameters.
/// Pointer ownership: <c>obj</c>/context pointers stay owned by the caller's handles; the UTF-8 name/value arrays are
/// pinned only for the duration of each call (libav copies option strings, it never keeps our pointers).
/// </summary>
internal static unsafe class Codecs
{
    /// <summary>av_opt_set on <paramref name="obj"/> (and its children); throws with the option's name on failure.</summary>
    public static void Set(void* obj, string name, string value, bool searchChildren = true)
    {
        var n = Utf8Z.Get(name);
        var v = Utf8Z.Get(value);
        fixed (byte* pn = n, pv = v)
        {
            AvError.Check(LibAvUtil.av_opt_set(obj, pn, pv, searchChildren ? LibAvUtil.OptSearchChildren : 0), $"av_opt_set {name}={value}");
        }
    }

    public static void SetInt(void* obj, string name, long value, bool searchChildren = true)
    {
        var n = Utf8Z.Get(name);
        fixed (byte* pn = n)
        {
            AvError.Check(LibAvUtil.av_opt_set_int(obj, pn, value, searchChildren ? LibAvUtil.OptSearchChildren : 0), $"av_opt_set_int {name}={value}");
        }
    }

    public static int PixelFormat(string name)
    {
        var n = Utf8Z.Get(name);
        fixed (byte* pn = n)
        {
            var f = LibAvUtil.av_get_pix_fmt(pn);
            return f < 0 ? throw new InvalidOperationException($"libavutil does not know pixel format {name}") : f;
        }
    }

    public static int SampleFormat(string name)
    {
        var n = Utf8Z.Get(name);
        fixed (byte* pn = n)
        {
            var f = LibAvUtil.av_get_sample_fmt(pn);
            return f < 0 ? throw new InvalidOperationException($"libavutil does not know sample format {name}") : f;
        }
    }

    public static AVCodecContextHandle CreateEncoder(string name)
    {
        var n = Utf8Z.Get(name);
        AVCodec* codec;
        fixed (byte* pn = n)
        {
            codec = LibAvCodec.avcodec_find_encoder_by_name(pn);
        }

        if (codec == null)
        {
            throw new NotSupportedException($"This FFmpeg build has no '{name}' encoder.");
        }

        var ctx = LibAvCodec.avcodec_alloc_context3(codec);
        return ctx == null ? throw new OutOfMemoryException("avcodec_alloc_context3") : new AVCodecContextHandle(ctx);
    }

    /// <summary>Opens a context created by <see cref="CreateEncoder"/> or <see cref="CreateDecoder"/> with its own codec.</summary>
    public static void Open(AVCodecContextHandle ctx, string what) =>
        AvError.Check(LibAvCodec.avcodec_open2(ctx.Ptr, null, null), $"avcodec_open2 ({what})");

    public static AVCodecContextHandle CreateDecoder(AVStream* stream)
    {
        // stream belongs to the format context, which outlives the decoder (both owned by the pipeline).
        var codec = LibAvCodec.avcodec_find_decoder(stream->CodecPar->CodecId);
        if (codec == null)
        {
            throw new NotSupportedException($"No decoder for {Utf8Z.Read(LibAvCodec.avcodec_get_name(stream->CodecPar->CodecId))}.");
        }

        var ctx = LibAvCodec.avcodec_alloc_context3(codec);
        if (ctx == null)
        {
            throw new OutOfMemoryException("avcodec_alloc_context3");
        }

        var handle = new AVCodecContextHandle(ctx);
        AvError.Check(LibAvCodec.avcodec_parameters_to_context(ctx, stream->CodecPar), "avcodec_parameters_to_context");
        SetInt(ctx, "threads", 0); // auto
        AvError.Check(LibAvCodec.avcodec_open2(ctx, codec, null), "avcodec_open2 (decoder)");
        return handle;
    }

    /// <summary>The opened encoder's extradata (codec private data: SPS/PPS, AudioSpecificConfig), frame size and delay.</summary>
    public static (byte[] Extradata, int FrameSize, int InitialPadding) ReadParameters(AVCodecContextHandle ctx)
    {
        using var par = AVCodecParametersHandle.Alloc();
        AvError.Check(LibAvCodec.avcodec_parameters_from_context(par.Ptr, ctx.Ptr), "avcodec_parameters_from_context");
        var extradata = par.Ptr->ExtradataSize > 0
            ? new ReadOnlySpan<byte>(par.Ptr->Extradata, par.Ptr->ExtradataSize).ToArray()
            : [];
        return (extradata, par.Ptr->FrameSize, par.Ptr->InitialPadding);
    }
}
