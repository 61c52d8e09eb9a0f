using StreamVerse.MediaCore.Interop;

namespace StreamVerse.MediaCore.Probe;

/// <summary>
/// Opens a file with libavformat and describes it. Refuses what the ladder cannot take: empty, truncated,
/// non-media files, codecs without a decoder, absurd picture sizes. Blocking: call it off the request path.
/// </summary>
public static class MediaProbe
{
    /// <summary>Largest picture we accept (8K UHD); libav happily reports 65535x65535 for crafted headers.</summary>
    public const int MaxWidth = 8192;
    public const int MaxHeight = 8192;

    /// <summary>Smallest picture we accept: the ladder scales to even sizes of at least 2x2 (LadderPlanner).</summary>
    public const int MinWidth = 2;
    public const int MinHeight = 2;

    public static MediaInfo Probe(string path)
    {
        using var input = Open(path);
        var info = Describe(input, path);
        CheckTail(input, info, path);
        return info;
    }

    /// <summary>
    /// A file whose index (e.g. a faststart MP4's moov) promises more media than the file holds opens fine; seeking
    /// near the promised end and reading finds nothing there. Only a successful seek followed by a failed read counts:
    /// formats that cannot seek are not judged.
    /// </summary>
    internal static unsafe void CheckTail(AVFormatContextHandle input, MediaInfo info, string path)
    {
        if (info.Duration is not { } duration || duration < TimeSpan.FromSeconds(1))
        {
            return;
        }

        // ctx, and the packet below, are owned by their handles for this call; nothing is kept.
        var ctx = input.Ptr;
        var start = ctx->StartTime is not LibAvUtil.NoPtsValue ? ctx->StartTime : 0;
        var target = start + (long)(duration.TotalMicroseconds * 0.9);
        // ANY: land on the packet there, not on the (possibly very early) keyframe before it.
        if (LibAvFormat.av_seek_frame(ctx, -1, target, LibAvFormat.SeekFlagBackward | LibAvFormat.SeekFlagAny) < 0)
        {
            return;
        }

        using var packet = AVPacketHandle.Alloc();
        var r = LibAvFormat.av_read_frame(ctx, packet.Ptr);
        LibAvCodec.av_packet_unref(packet.Ptr);
        if (r < 0)
        {
            throw new MediaProbeException(MediaProbeError.Truncated,
                $"'{Path.GetFileName(path)}' declares {duration.TotalSeconds:0.0} s but its data ends early ({AvError.Describe(r)}): the file is truncated.");
        }
    }

    /// <summary>
    /// The demuxers an upload may be read with (libavformat's <c>format_whitelist</c>, matched against each
    /// demuxer's names): containers and elementary streams that hold their media in the file itself. Left out on
    /// purpose: demuxers that read other files or URLs named inside the input (hls, dash, concat, image2 sequences,
    /// playlists, subtitles with includes), which would let an uploaded text file pull the server's own files
    /// (another viewer's recording, another upload) into a public video. With <c>protocol_whitelist=file</c>
    /// nothing but the upload itself is opened either.
    /// </summary>
    internal static ReadOnlySpan<byte> AcceptedFormats =>
        "mov,matroska,webm,avi,flv,live_flv,mpegts,mpeg,mpegvideo,m4v,h264,hevc,ogg,asf,mxf,dv,nut,ivf,obu,yuv4mpegpipe,wav,w64,aiff,caf,mp3,aac,ac3,eac3,flac,truehd,mlp\0"u8;

    /// <summary>Opens and reads stream info; the caller owns the returned handle.</summary>
    internal static AVFormatContextHandle Open(string path) => Open(path, AcceptedFormats);

    /// <summary>Opens with the demuxers named in <paramref name="formats"/> (a NUL-terminated <c>format_whitelist</c>) only.</summary>
    internal static unsafe AVFormatContextHandle Open(string path, ReadOnlySpan<byte> formats)
    {
        ArgumentNullException.ThrowIfNull(path);
        LibAv.EnsureInitialized();
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new MediaProbeException(MediaProbeError.Unreadable, $"'{file.Name}' does not exist.");
        }

        if (file.Length == 0)
        {
            throw new MediaProbeException(MediaProbeError.Empty, $"'{file.Name}' is empty (0 bytes): the upload did not arrive.");
        }

        AVFormatContext* ctx = null;
        AVDictionary* options = null;
        var url = Utf8Z.Get(path);
        int result;
        fixed (byte* u = url, accepted = formats, protocols = "file\0"u8, formatKey = "format_whitelist\0"u8, protocolKey = "protocol_whitelist\0"u8)
        {
            try
            {
                LibAvUtil.av_dict_set(&options, formatKey, accepted, 0);
                LibAvUtil.av_dict_set(&options, protocolKey, protocols, 0);

                // On failure avformat_open_input frees the context and leaves ctx null.
                result = LibAvFormat.avformat_open_input(&ctx, u, null, &options);
            }
            finally
            {
                LibAvUtil.av_dict_free(&options);
            }
        }

        if (result < 0)
        {
            throw OpenFailure(file, result);
        }

        var handle = new AVFormatContextHandle(ctx);
        try
        {
            result = LibAvFormat.avformat_find_stream_info(ctx, null);
            if (result < 0)
            {
                throw new MediaProbeException(MediaProbeError.Truncated,
                    $"'{file.Name}' could not be analysed ({AvError.Describe(result)}): it is probably truncated.");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The image format a file's first bytes announce (their signatures), or null.</summary>
    private static string? ImageKind(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "JPEG"
        : head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? "PNG"
        : head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8) ? "GIF"
        : head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8) ? "WebP"
        : null;

    private static MediaProbeException OpenFailure(FileInfo file, int result)
    {
        Span<byte> head = stackalloc byte[12];
        int read;
        using (var s = file.OpenRead())
        {
            read = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        // An ISO BMFF file starts with a box whose type is 'ftyp': the container is right, its index (moov) is
        // missing, which is what an interrupted upload of a non-faststart MP4 looks like.
        if (read >= 8 && head[4..8].SequenceEqual("ftyp"u8))
        {
            return new MediaProbeException(MediaProbeError.Truncated,
                $"'{file.Name}' is an MP4/MOV whose index is missing or cut ({AvError.Describe(result)}): the file is truncated or incomplete.",
                new AvException("avformat_open_input", result));
        }

        // A still image (libavformat reads one as a one-frame video through its image demuxers, none of them accepted).
        if (ImageKind(head[..read]) is { } image)
        {
            return new MediaProbeException(MediaProbeError.NotMedia,
                $"'{file.Name}' is a {image} image; images are not videos: upload a video file.",
                new AvException("avformat_open_input", result));
        }

        // EINVAL from a readable file: libavformat recognised it, as a demuxer not on AcceptedFormats.
        if (result == AvError.EInval)
        {
            return new MediaProbeException(MediaProbeError.NotMedia,
                $"'{file.Name}' is not a video or audio container we accept (playlists, concat lists and image sequences are refused: upload the media file itself).",
                new AvException("avformat_open_input", result));
        }

        return new MediaProbeException(MediaProbeError.NotMedia,
            $"'{file.Name}' is not a media file we recognise ({AvError.Describe(result)}).",
            new AvException("avformat_open_input", result));
    }

    internal static unsafe MediaInfo Describe(AVFormatContextHandle input, string path)
    {
        // ctx and its streams belong to the caller's handle, valid for this call; only copies leave it.
        var ctx = input.Ptr;
        var name = Path.GetFileName(path);
        var streams = new List<MediaStreamInfo>();
        for (var i = 0; i < ctx->NbStreams; i++)
        {
            streams.Add(DescribeStream(ctx, ctx->Streams[i]));
        }

        var videoIndex = LibAvFormat.av_find_best_stream(ctx, AVMediaType.Video, -1, -1, null, 0);
        var audioIndex = LibAvFormat.av_find_best_stream(ctx, AVMediaType.Audio, -1, -1, null, 0);
        var video = videoIndex >= 0 && !streams[videoIndex].IsAttachedPicture ? streams[videoIndex] : null;
        var audio = audioIndex >= 0 ? streams[audioIndex] : null;

        if (video is null && audio is null)
        {
            throw new MediaProbeException(MediaProbeError.NotMedia, $"'{name}' has no audio or video stream.");
        }

        foreach (var s in (ReadOnlySpan<MediaStreamInfo?>)[video, audio])
        {
            if (s is not null && LibAvCodec.avcodec_find_decoder(CodecId(ctx, s.Index)) == null)
            {
                throw new MediaProbeException(MediaProbeError.UnsupportedCodec,
                    $"'{name}': the {s.Kind.ToString().ToLowerInvariant()} codec '{s.Codec}' is not supported (no decoder).");
            }
        }

        if (video is not null && (video.Width < MinWidth || video.Height < MinHeight || video.Width > MaxWidth || video.Height > MaxHeight))
        {
            throw new MediaProbeException(MediaProbeError.AbsurdDimensions,
                $"'{name}': a {video.Width}x{video.Height} picture is outside what we accept ({MinWidth}x{MinHeight} to {MaxWidth}x{MaxHeight}).");
        }

        if (audio is not null && video is null && (audio.SampleRate <= 0 || audio.Channels <= 0))
        {
            throw new MediaProbeException(MediaProbeError.Truncated, $"'{name}': the audio stream has no sample rate or channels: the file is damaged.");
        }

        return new MediaInfo
        {
            Container = Utf8Z.Read(ctx->IFormat->Name) ?? "unknown",
            ContainerLongName = Utf8Z.Read(ctx->IFormat->LongName),
            Duration = ctx->Duration is > 0 and not LibAvUtil.NoPtsValue
                ? TimeSpan.FromMicroseconds(ctx->Duration)
                : null,
            BitRate = ctx->BitRate,
            Streams = streams,
            Video = video,
            Audio = audio,
        };
    }

    private static unsafe int CodecId(AVFormatContext* ctx, int index) => ctx->Streams[index]->CodecPar->CodecId;

    private static unsafe MediaStreamInfo DescribeStream(AVFormatContext* ctx, AVStream* stream)
    {
        // stream and its codecpar belong to the format context, alive while the caller holds its handle.
        var par = stream->CodecPar;
        var kind = par->CodecType switch
        {
            AVMediaType.Video => MediaStreamKind.Video,
            AVMediaType.Audio => MediaStreamKind.Audio,
            _ => MediaStreamKind.Other,
        };
        TimeSpan? duration = stream->Duration is > 0 and not LibAvUtil.NoPtsValue && stream->TimeBase.Den > 0
            ? TimeSpan.FromSeconds(stream->Duration * stream->TimeBase.ToDouble())
            : null;
        var info = new MediaStreamInfo
        {
            Index = stream->Index,
            Kind = kind,
            Codec = Utf8Z.Read(LibAvCodec.avcodec_get_name(par->CodecId)) ?? "unknown",
            BitRate = par->BitRate,
            Duration = duration,
            Language = Tag(stream, "language\0"u8),
            Title = Tag(stream, "title\0"u8),
            IsDefault = (stream->Disposition & LibAvFormat.DispositionDefault) != 0,
        };

        if (kind == MediaStreamKind.Video)
        {
            var rate = stream->AvgFrameRate.Num > 0 && stream->AvgFrameRate.Den > 0 ? stream->AvgFrameRate : stream->RFrameRate;
            var nominal = LibAvFormat.av_guess_frame_rate(ctx, stream, null);
            if (nominal.Num <= 0 || nominal.Den <= 0)
            {
                nominal = rate.Num > 0 && rate.Den > 0 ? rate : default;
            }

            info = info with
            {
                Width = par->Width,
                Height = par->Height,
                PixelFormat = par->Format >= 0 ? Utf8Z.Read(LibAvUtil.av_get_pix_fmt_name(par->Format)) : null,
                FrameRate = rate.Den > 0 ? rate.ToDouble() : 0,
                FrameRateNum = rate.Num,
                FrameRateDen = rate.Den,
                NominalFrameRateNum = nominal.Num,
                NominalFrameRateDen = nominal.Den,
                Rotation = Rotation(stream),
                IsAttachedPicture = (stream->Disposition & LibAvFormat.DispositionAttachedPic) != 0,
            };
        }
        else if (kind == MediaStreamKind.Audio)
        {
            // Owned by this frame; av_channel_layout_describe NUL-terminates within the size.
            var layout = stackalloc byte[64];
            var described = LibAvUtil.av_channel_layout_describe(&par->ChLayout, layout, 64) > 0;
            info = info with
            {
                SampleRate = par->SampleRate,
                Channels = par->ChLayout.NbChannels,
                ChannelLayout = described ? Utf8Z.Read(layout) : null,
                SampleFormat = par->Format >= 0 ? Utf8Z.Read(LibAvUtil.av_get_sample_fmt_name(par->Format)) : null,
            };
        }

        return info;
    }

    /// <summary>A tag of the stream (case-insensitive key), trimmed; null when absent or blank.</summary>
    /// <param name="key">NUL-terminated UTF-8.</param>
    private static unsafe string? Tag(AVStream* stream, ReadOnlySpan<byte> key)
    {
        // The entry and its strings belong to the stream's dictionary, alive with the format context: copied out here.
        fixed (byte* k = key)
        {
            var entry = LibAvUtil.av_dict_get(stream->Metadata, k, null, 0);
            var value = entry == null ? null : Utf8Z.Read(entry->Value)?.Trim();
            return string.IsNullOrEmpty(value) ? null : value;
        }
    }

    /// <summary>
    /// Clockwise display rotation from the stream's display matrix (ISO/IEC 14496-12 §8.2.2.3 tkhd matrix),
    /// the way ffmpeg's own autorotate reads it: -av_display_rotation_get, normalised to [0, 360), snapped to 90.
    /// </summary>
    internal static unsafe int Rotation(AVStream* stream)
    {
        nuint size = 0;
        // The side data belongs to the stream; read it here, keep nothing.
        var matrix = LibAvFormat.av_stream_get_side_data(stream, LibAvFormat.PacketSideDataDisplayMatrix, &size);
        if (matrix == null || size < 9 * sizeof(int))
        {
            return 0;
        }

        var angle = -LibAvUtil.av_display_rotation_get((int*)matrix);
        if (double.IsNaN(angle))
        {
            return 0;
        }

        var snapped = (int)Math.Round(angle / 90.0) * 90 % 360;
        return snapped < 0 ? snapped + 360 : snapped;
    }
}
