using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>libswresample.so.4 entry points.</summary>
internal static unsafe partial class LibSwResample
{
    public const string Name = "swresample";

    [LibraryImport(Name)]
    public static partial uint swresample_version();

    [LibraryImport(Name)]
    public static partial SwrContext* swr_alloc();

    /// <summary>Takes layouts, rates and formats from the two frames' fields.</summary>
    [LibraryImport(Name)]
    public static partial int swr_config_frame(SwrContext* s, AVFrame* outFrame, AVFrame* inFrame);

    [LibraryImport(Name)]
    public static partial int swr_init(SwrContext* s);

    /// <summary>in = null flushes; out count 0 only buffers the input.</summary>
    [LibraryImport(Name)]
    public static partial int swr_convert(SwrContext* s, byte** output, int outCount, byte** input, int inCount);

    [LibraryImport(Name)]
    public static partial int swr_get_out_samples(SwrContext* s, int inSamples);

    [LibraryImport(Name)]
    public static partial void swr_free(SwrContext** s);
}
