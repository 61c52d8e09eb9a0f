using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>libswscale.so.6 entry points.</summary>
internal static unsafe partial class LibSwScale
{
    public const string Name = "swscale";

    public const int Bicubic = 4; // SWS_BICUBIC
    public const int Area = 0x20; // SWS_AREA

    [LibraryImport(Name)]
    public static partial uint swscale_version();

    [LibraryImport(Name)]
    public static partial SwsContext* sws_getContext(int srcW, int srcH, int srcFormat, int dstW, int dstH, int dstFormat, int flags, void* srcFilter, void* dstFilter, double* param);

    [LibraryImport(Name)]
    public static partial int sws_scale(SwsContext* c, byte** srcSlice, int* srcStride, int srcSliceY, int srcSliceH, byte** dst, int* dstStride);

    [LibraryImport(Name)]
    public static partial void sws_freeContext(SwsContext* swsContext);
}
