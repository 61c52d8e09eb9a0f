using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

/// <summary>libavcodec.so.59 entry points.</summary>
internal static unsafe partial class LibAvCodec
{
    public const string Name = "avcodec";

    public const int PacketFlagKey = 0x0001; // AV_PKT_FLAG_KEY
    public const int PictureTypeI = 1; // AV_PICTURE_TYPE_I
    public const int PictureTypeNone = 0; // AV_PICTURE_TYPE_NONE

    [LibraryImport(Name)]
    public static partial uint avcodec_version();

    [LibraryImport(Name)]
    public static partial AVCodec* avcodec_find_decoder(int id);

    [LibraryImport(Name)]
    public static partial AVCodec* avcodec_find_encoder_by_name(byte* name);

    [LibraryImport(Name)]
    public static partial AVCodec* avcodec_find_decoder_by_name(byte* name);

    [LibraryImport(Name)]
    public static partial byte* avcodec_get_name(int id);

    [LibraryImport(Name)]
    public static partial AVCodecContext* avcodec_alloc_context3(AVCodec* codec);

    [LibraryImport(Name)]
    public static partial void avcodec_free_context(AVCodecContext** avctx);

    [LibraryImport(Name)]
    public static partial int avcodec_parameters_to_context(AVCodecContext* codec, AVCodecParameters* par);

    [LibraryImport(Name)]
    public static partial int avcodec_parameters_from_context(AVCodecParameters* par, AVCodecContext* codec);

    [LibraryImport(Name)]
    public static partial AVCodecParameters* avcodec_parameters_alloc();

    [LibraryImport(Name)]
    public static partial void avcodec_parameters_free(AVCodecParameters** par);

    [LibraryImport(Name)]
    public static partial int avcodec_open2(AVCodecContext* avctx, AVCodec* codec, AVDictionary** options);

    [LibraryImport(Name)]
    public static partial int avcodec_send_packet(AVCodecContext* avctx, AVPacket* avpkt);

    [LibraryImport(Name)]
    public static partial int avcodec_receive_frame(AVCodecContext* avctx, AVFrame* frame);

    [LibraryImport(Name)]
    public static partial int avcodec_send_frame(AVCodecContext* avctx, AVFrame* frame);

    [LibraryImport(Name)]
    public static partial int avcodec_receive_packet(AVCodecContext* avctx, AVPacket* avpkt);

    [LibraryImport(Name)]
    public static partial AVPacket* av_packet_alloc();

    [LibraryImport(Name)]
    public static partial void av_packet_free(AVPacket** pkt);

    [LibraryImport(Name)]
    public static partial void av_packet_unref(AVPacket* pkt);
}
