using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>libavformat.so.59 entry points.</summary>
internal static unsafe partial class LibAvFormat
{
    public const string Name = "avformat";

    public const int SeekFlagBackward = 1; // AVSEEK_FLAG_BACKWARD
    public const int SeekFlagAny = 4; // AVSEEK_FLAG_ANY
    public const int PacketSideDataDisplayMatrix = 5; // AV_PKT_DATA_DISPLAYMATRIX
    public const int DispositionAttachedPic = 0x400; // AV_DISPOSITION_ATTACHED_PIC
    public const int DispositionDefault = 0x1; // AV_DISPOSITION_DEFAULT

    [LibraryImport(Name)]
    public static partial uint avformat_version();

    [LibraryImport(Name)]
    public static partial int avformat_open_input(AVFormatContext** ps, byte* url, void* fmt, AVDictionary** options);

    [LibraryImport(Name)]
    public static partial int avformat_find_stream_info(AVFormatContext* ic, AVDictionary** options);

    [LibraryImport(Name)]
    public static partial void avformat_close_input(AVFormatContext** s);

    [LibraryImport(Name)]
    public static partial int av_read_frame(AVFormatContext* s, AVPacket* pkt);

    [LibraryImport(Name)]
    public static partial int av_seek_frame(AVFormatContext* s, int streamIndex, long timestamp, int flags);

    [LibraryImport(Name)]
    public static partial int av_find_best_stream(AVFormatContext* ic, AVMediaType type, int wantedStreamNb, int relatedStream, AVCodec** decoderRet, int flags);

    [LibraryImport(Name)]
    public static partial byte* av_stream_get_side_data(AVStream* stream, int type, nuint* size);

    /// <summary>The stream's nominal frame rate as the ffmpeg CLI picks it (r_frame_rate, the lowest rate that
    /// represents every timestamp; avg_frame_rate when r_frame_rate is a timestamp tick rate rather than a
    /// picture rate; the codec's rate for field-coded video). <paramref name="frame"/> may be null.</summary>
    [LibraryImport(Name)]
    public static partial AVRational av_guess_frame_rate(AVFormatContext* format, AVStream* stream, AVFrame* frame);
}
