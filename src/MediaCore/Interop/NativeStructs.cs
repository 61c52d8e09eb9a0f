using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamVerse.MediaCore.Interop;

// Mirrors of the libav 5.1 structs (lavf 59.27, lavc 59.37, lavu 57.28), ONLY the fields we read or
// write. Never instantiated in managed memory: we only ever hold pointers that libav allocated.
// Every [NativeField] offset and size is checked against the installed headers by StructLayoutProbeTests,
// which compiles a C probe with offsetof/sizeof; a libav update that moves a field fails that test.

/// <summary>Names the C struct a mirror stands for (used by the layout probe test).</summary>
[AttributeUsage(AttributeTargets.Struct)]
internal sealed class NativeStructAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Names the C member a mirrored field stands for (a dotted path for unions).</summary>
[AttributeUsage(AttributeTargets.Field)]
internal sealed class NativeFieldAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

[NativeStruct("AVRational")]
[StructLayout(LayoutKind.Sequential)]
internal struct AVRational
{
    [NativeField("num")]
    public int Num;

    [NativeField("den")]
    public int Den;

    public AVRational(int num, int den)
    {
        Num = num;
        Den = den;
    }

    public readonly double ToDouble() => Den == 0 ? 0 : (double)Num / Den;

    public override readonly string ToString() => $"{Num}/{Den}";
}

[NativeStruct("AVChannelLayout")]
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct AVChannelLayout
{
    [NativeField("order")]
    [FieldOffset(0)]
    public int Order;

    [NativeField("nb_channels")]
    [FieldOffset(4)]
    public int NbChannels;

    [NativeField("u.mask")]
    [FieldOffset(8)]
    public ulong Mask;
}

[NativeStruct("AVInputFormat")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVInputFormat
{
    [NativeField("name")]
    [FieldOffset(0)]
    public byte* Name;

    [NativeField("long_name")]
    [FieldOffset(8)]
    public byte* LongName;
}

[NativeStruct("AVFormatContext")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVFormatContext
{
    [NativeField("iformat")]
    [FieldOffset(8)]
    public AVInputFormat* IFormat;

    [NativeField("nb_streams")]
    [FieldOffset(44)]
    public uint NbStreams;

    [NativeField("streams")]
    [FieldOffset(48)]
    public AVStream** Streams;

    [NativeField("start_time")]
    [FieldOffset(64)]
    public long StartTime;

    /// <summary>In AV_TIME_BASE (microseconds); AV_NOPTS_VALUE when unknown.</summary>
    [NativeField("duration")]
    [FieldOffset(72)]
    public long Duration;

    [NativeField("bit_rate")]
    [FieldOffset(80)]
    public long BitRate;
}

[NativeStruct("AVStream")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVStream
{
    [NativeField("index")]
    [FieldOffset(0)]
    public int Index;

    [NativeField("time_base")]
    [FieldOffset(16)]
    public AVRational TimeBase;

    [NativeField("start_time")]
    [FieldOffset(24)]
    public long StartTime;

    [NativeField("duration")]
    [FieldOffset(32)]
    public long Duration;

    [NativeField("nb_frames")]
    [FieldOffset(40)]
    public long NbFrames;

    /// <summary>AV_DISPOSITION_* flags.</summary>
    [NativeField("disposition")]
    [FieldOffset(48)]
    public int Disposition;

    /// <summary>enum AVDiscard: what the demuxer may drop for this stream (AVDISCARD_ALL = 48: every packet).</summary>
    [NativeField("discard")]
    [FieldOffset(52)]
    public int Discard;

    /// <summary>The stream's tags (language, title, ...): read with av_dict_get, owned by the format context.</summary>
    [NativeField("metadata")]
    [FieldOffset(64)]
    public AVDictionary* Metadata;

    [NativeField("avg_frame_rate")]
    [FieldOffset(72)]
    public AVRational AvgFrameRate;

    [NativeField("r_frame_rate")]
    [FieldOffset(200)]
    public AVRational RFrameRate;

    [NativeField("codecpar")]
    [FieldOffset(208)]
    public AVCodecParameters* CodecPar;
}

[NativeStruct("AVCodecParameters")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVCodecParameters
{
    [NativeField("codec_type")]
    [FieldOffset(0)]
    public AVMediaType CodecType;

    [NativeField("codec_id")]
    [FieldOffset(4)]
    public int CodecId;

    [NativeField("extradata")]
    [FieldOffset(16)]
    public byte* Extradata;

    [NativeField("extradata_size")]
    [FieldOffset(24)]
    public int ExtradataSize;

    /// <summary>AVPixelFormat for video, AVSampleFormat for audio.</summary>
    [NativeField("format")]
    [FieldOffset(28)]
    public int Format;

    [NativeField("bit_rate")]
    [FieldOffset(32)]
    public long BitRate;

    [NativeField("profile")]
    [FieldOffset(48)]
    public int Profile;

    [NativeField("level")]
    [FieldOffset(52)]
    public int Level;

    [NativeField("width")]
    [FieldOffset(56)]
    public int Width;

    [NativeField("height")]
    [FieldOffset(60)]
    public int Height;

    [NativeField("sample_rate")]
    [FieldOffset(116)]
    public int SampleRate;

    [NativeField("frame_size")]
    [FieldOffset(124)]
    public int FrameSize;

    /// <summary>Encoder delay in samples (AAC: 1024 priming samples).</summary>
    [NativeField("initial_padding")]
    [FieldOffset(128)]
    public int InitialPadding;

    [NativeField("ch_layout")]
    [FieldOffset(144)]
    public AVChannelLayout ChLayout;
}

[NativeStruct("AVPacket")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVPacket
{
    [NativeField("pts")]
    [FieldOffset(8)]
    public long Pts;

    [NativeField("dts")]
    [FieldOffset(16)]
    public long Dts;

    [NativeField("data")]
    [FieldOffset(24)]
    public byte* Data;

    [NativeField("size")]
    [FieldOffset(32)]
    public int Size;

    [NativeField("stream_index")]
    [FieldOffset(36)]
    public int StreamIndex;

    [NativeField("flags")]
    [FieldOffset(40)]
    public int Flags;

    [NativeField("duration")]
    [FieldOffset(64)]
    public long Duration;
}

/// <summary>AVFrame.data / linesize style fixed arrays of 8 (AV_NUM_DATA_POINTERS).</summary>
[InlineArray(8)]
internal struct PointerArray8
{
    private nint _element;
}

[InlineArray(8)]
internal struct IntArray8
{
    private int _element;
}

[NativeStruct("AVFrame")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVFrame
{
    [NativeField("data")]
    [FieldOffset(0)]
    public PointerArray8 Data;

    [NativeField("linesize")]
    [FieldOffset(64)]
    public IntArray8 Linesize;

    [NativeField("extended_data")]
    [FieldOffset(96)]
    public byte** ExtendedData;

    [NativeField("width")]
    [FieldOffset(104)]
    public int Width;

    [NativeField("height")]
    [FieldOffset(108)]
    public int Height;

    [NativeField("nb_samples")]
    [FieldOffset(112)]
    public int NbSamples;

    [NativeField("format")]
    [FieldOffset(116)]
    public int Format;

    [NativeField("key_frame")]
    [FieldOffset(120)]
    public int KeyFrame;

    [NativeField("pict_type")]
    [FieldOffset(124)]
    public int PictType;

    [NativeField("pts")]
    [FieldOffset(136)]
    public long Pts;

    [NativeField("sample_rate")]
    [FieldOffset(208)]
    public int SampleRate;

    [NativeField("best_effort_timestamp")]
    [FieldOffset(344)]
    public long BestEffortTimestamp;

    [NativeField("ch_layout")]
    [FieldOffset(448)]
    public AVChannelLayout ChLayout;
}

/// <summary>
/// Only what has no AVOption (framerate, sample_fmt) or what we read back (time_base), and priv_data (the encoder's private options object,
/// e.g. libx264's sc_threshold / x264-params). Everything else on a codec context is set with av_opt_set*,
/// by name, so it survives layout changes.
/// </summary>
[NativeStruct("AVCodecContext")]
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct AVCodecContext
{
    [NativeField("priv_data")]
    [FieldOffset(32)]
    public void* PrivData;

    [NativeField("time_base")]
    [FieldOffset(100)]
    public AVRational TimeBase;

    /// <summary>AVSampleFormat; encoders have no "sample_fmt" AVOption (only request_sample_fmt for decoders).</summary>
    [NativeField("sample_fmt")]
    [FieldOffset(360)]
    public int SampleFmt;

    [NativeField("framerate")]
    [FieldOffset(712)]
    public AVRational Framerate;
}

// Opaque types: only ever pointed to.
internal struct AVCodec;

internal struct AVDictionary;

/// <summary>One entry of an <see cref="AVDictionary"/>: both strings belong to the dictionary.</summary>
[NativeStruct("AVDictionaryEntry")]
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal unsafe struct AVDictionaryEntry
{
    [NativeField("key")]
    [FieldOffset(0)]
    public byte* Key;

    [NativeField("value")]
    [FieldOffset(8)]
    public byte* Value;
}

internal struct SwsContext;

internal struct SwrContext;

internal enum AVMediaType
{
    Unknown = -1,
    Video = 0,
    Audio = 1,
    Data = 2,
    Subtitle = 3,
    Attachment = 4,
}
