using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>libavutil.so.57 entry points. Strings are NUL-terminated UTF-8 <c>byte*</c>.</summary>
internal static unsafe partial class LibAvUtil
{
    public const string Name = "avutil";

    public const long NoPtsValue = long.MinValue; // AV_NOPTS_VALUE
    public const int TimeBase = 1_000_000; // AV_TIME_BASE
    public const int OptSearchChildren = 1; // AV_OPT_SEARCH_CHILDREN

    [LibraryImport(Name)]
    public static partial uint avutil_version();

    /// <summary>Zeroed libav heap memory; ownership passes to whatever libav struct it is stored in (freed with av_free).</summary>
    [LibraryImport(Name)]
    public static partial void* av_mallocz(nuint size);

    [LibraryImport(Name)]
    public static partial int av_strerror(int errnum, byte* errbuf, nuint errbufSize);

    [LibraryImport(Name)]
    public static partial void av_log_set_callback(delegate* unmanaged[Cdecl]<void*, int, byte*, nint, void> callback);

    [LibraryImport(Name)]
    public static partial void av_log_set_level(int level);

    /// <summary><paramref name="vl"/> is the va_list the callback received, passed through untouched.</summary>
    [LibraryImport(Name)]
    public static partial int av_log_format_line2(void* ptr, int level, byte* fmt, nint vl, byte* line, int lineSize, int* printPrefix);

    [LibraryImport(Name)]
    public static partial AVFrame* av_frame_alloc();

    [LibraryImport(Name)]
    public static partial void av_frame_free(AVFrame** frame);

    [LibraryImport(Name)]
    public static partial void av_frame_unref(AVFrame* frame);

    [LibraryImport(Name)]
    public static partial int av_frame_ref(AVFrame* dst, AVFrame* src);

    [LibraryImport(Name)]
    public static partial int av_frame_get_buffer(AVFrame* frame, int align);

    /// <summary>A new frame referencing the same (refcounted) buffers.</summary>
    [LibraryImport(Name)]
    public static partial AVFrame* av_frame_clone(AVFrame* src);

    [LibraryImport(Name)]
    public static partial int av_frame_make_writable(AVFrame* frame);

    [LibraryImport(Name)]
    public static partial int av_dict_set(AVDictionary** pm, byte* key, byte* value, int flags);

    [LibraryImport(Name)]
    public static partial void av_dict_free(AVDictionary** m);

    /// <summary>The entry for <paramref name="key"/> (case-insensitive unless AV_DICT_MATCH_CASE), or null; owned by the dictionary.</summary>
    [LibraryImport(Name)]
    public static partial AVDictionaryEntry* av_dict_get(AVDictionary* m, byte* key, AVDictionaryEntry* prev, int flags);

    [LibraryImport(Name)]
    public static partial double av_display_rotation_get(int* matrix);

    [LibraryImport(Name)]
    public static partial int av_opt_set(void* obj, byte* name, byte* val, int searchFlags);

    [LibraryImport(Name)]
    public static partial int av_opt_set_int(void* obj, byte* name, long val, int searchFlags);

    [LibraryImport(Name)]
    public static partial long av_rescale_q(long a, AVRational bq, AVRational cq);

    [LibraryImport(Name)]
    public static partial int av_channel_layout_describe(AVChannelLayout* channelLayout, byte* buf, nuint bufSize);

    [LibraryImport(Name)]
    public static partial void av_channel_layout_default(AVChannelLayout* channelLayout, int nbChannels);

    [LibraryImport(Name)]
    public static partial int av_get_pix_fmt(byte* name);

    [LibraryImport(Name)]
    public static partial byte* av_get_pix_fmt_name(int pixFmt);

    [LibraryImport(Name)]
    public static partial int av_get_sample_fmt(byte* name);

    [LibraryImport(Name)]
    public static partial byte* av_get_sample_fmt_name(int sampleFmt);
}
