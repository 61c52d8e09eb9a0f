using System.Globalization;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Probe;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// Single pictures through libav: an uploaded image (avatar, banner, custom thumbnail) decoded and re-encoded, and one
/// frame of a video at a chosen time. Everything leaves as a baseline JPEG made by our own encoder from decoded pixels,
/// so nothing the uploader wrote survives but the picture: no metadata (EXIF position), no trailing bytes (polyglots),
/// no second frame. Blocking: call it off the request thread.
/// </summary>
public static unsafe class Stills
{
    /// <summary>The image demuxers an uploaded picture may be read with (one file, one picture; no image2 sequences).</summary>
    internal static ReadOnlySpan<byte> ImageFormats => "png_pipe,jpeg_pipe,webp_pipe\0"u8;

    /// <summary>
    /// Decodes the picture of a PNG, JPEG or WebP file no larger than <paramref name="maxSourceWidth"/> x
    /// <paramref name="maxSourceHeight"/> and encodes it as a JPEG that fits in <paramref name="maxWidth"/> x
    /// <paramref name="maxHeight"/> (scaled down keeping its shape, never up).
    /// </summary>
    /// <exception cref="StillImageException">The file is no such image, or too large in pixels.</exception>
    public static byte[] ReencodeImage(string path, int maxWidth, int maxHeight, int maxSourceWidth, int maxSourceHeight)
    {
        AVFormatContextHandle input;
        try
        {
            input = MediaProbe.Open(path, ImageFormats);
        }
        catch (MediaProbeException e)
        {
            throw new StillImageException("The file is not a PNG, JPEG or WebP image that can be decoded.", e);
        }

        using (input)
        {
            return Render(input, 0, maxWidth, maxHeight, maxSourceWidth, maxSourceHeight);
        }
    }

    /// <summary>
    /// The frame of a video file (any container <see cref="MediaProbe"/> accepts) shown at <paramref name="atSeconds"/>
    /// from its start, as a JPEG that fits in <paramref name="maxWidth"/> x <paramref name="maxHeight"/>. A time past the
    /// end gives the last frame.
    /// </summary>
    /// <exception cref="StillImageException">The file has no decodable picture.</exception>
    public static byte[] ExtractFrame(string path, double atSeconds, int maxWidth, int maxHeight)
    {
        AVFormatContextHandle input;
        try
        {
            input = MediaProbe.Open(path);
        }
        catch (MediaProbeException e)
        {
            throw new StillImageException("The video's media could not be read.", e);
        }

        using (input)
        {
            return Render(input, Math.Max(0, atSeconds), maxWidth, maxHeight, MediaProbe.MaxWidth, MediaProbe.MaxHeight);
        }
    }

    private static byte[] Render(AVFormatContextHandle input, double atSeconds, int maxWidth, int maxHeight, int maxSourceWidth, int maxSourceHeight)
    {
        // ctx, its streams and codec parameters are owned by input for this call; the decoder, packet and frames by their
        // handles, all disposed before return. Only the encoded bytes leave.
        var ctx = input.Ptr;
        var index = LibAvFormat.av_find_best_stream(ctx, AVMediaType.Video, -1, -1, null, 0);
        if (index < 0)
        {
            throw new StillImageException("The file holds no picture.");
        }

        var stream = ctx->Streams[index];
        var (width, height) = (stream->CodecPar->Width, stream->CodecPar->Height);
        if (width > maxSourceWidth || height > maxSourceHeight)
        {
            throw new StillImageException(string.Create(CultureInfo.InvariantCulture,
                $"The picture is {width}x{height} pixels; at most {maxSourceWidth}x{maxSourceHeight} are accepted."));
        }

        var timeBase = stream->TimeBase.Num > 0 && stream->TimeBase.Den > 0 ? (double)stream->TimeBase.Num / stream->TimeBase.Den : 1.0 / 90000;
        var start = stream->StartTime != LibAvUtil.NoPtsValue ? stream->StartTime : 0;
        if (atSeconds > 0)
        {
            // Backward: land on the keyframe at or before the time, then decode forward to it. A failed seek (a
            // format that cannot) decodes from the start instead, which is slower but right.
            _ = LibAvFormat.av_seek_frame(ctx, index, start + (long)(atSeconds / timeBase), LibAvFormat.SeekFlagBackward);
        }

        using var decoder = CreateDecoder(stream);
        using var packet = AVPacketHandle.Alloc();
        using var frame = AVFrameHandle.Alloc();
        AVFrameHandle? chosen = null;
        try
        {
            var draining = false;
            while (true)
            {
                var received = LibAvCodec.avcodec_receive_frame(decoder.Ptr, frame.Ptr);
                if (received == 0)
                {
                    var t = frame.Ptr->BestEffortTimestamp == LibAvUtil.NoPtsValue ? 0 : (frame.Ptr->BestEffortTimestamp - start) * timeBase;
                    chosen?.Dispose();
                    chosen = AVFrameHandle.Clone(frame.Ptr);
                    LibAvUtil.av_frame_unref(frame.Ptr);
                    if (t >= atSeconds - 0.001)
                    {
                        break;
                    }

                    continue;
                }

                if (received == AvError.Eof || (received != AvError.EAgain && chosen is not null))
                {
                    break; // the end, or a broken tail after a good picture: the last good one stands
                }

                AvError.Check(received == AvError.EAgain ? 0 : received, "avcodec_receive_frame");
                if (draining)
                {
                    break;
                }

                var read = LibAvFormat.av_read_frame(ctx, packet.Ptr);
                if (read < 0)
                {
                    draining = true;
                    AvError.Check(LibAvCodec.avcodec_send_packet(decoder.Ptr, null), "avcodec_send_packet (flush)");
                    continue;
                }

                if (packet.Ptr->StreamIndex == index)
                {
                    // A packet the decoder refuses (corrupt data) is skipped: what matters is whether a picture comes out.
                    _ = LibAvCodec.avcodec_send_packet(decoder.Ptr, packet.Ptr);
                }

                LibAvCodec.av_packet_unref(packet.Ptr);
            }

            if (chosen is null)
            {
                throw new StillImageException("No picture could be decoded from the file.");
            }

            var picture = chosen.Ptr;
            if (picture->Width < 1 || picture->Height < 1 || picture->Width > maxSourceWidth || picture->Height > maxSourceHeight)
            {
                throw new StillImageException(string.Create(CultureInfo.InvariantCulture,
                    $"The picture is {picture->Width}x{picture->Height} pixels; at most {maxSourceWidth}x{maxSourceHeight} are accepted."));
            }

            var (outWidth, outHeight) = Fit(picture->Width, picture->Height, maxWidth, maxHeight);
            var yuvj420p = Codecs.PixelFormat("yuvj420p");
            using var scaled = AVFrameHandle.AllocVideo(outWidth, outHeight, yuvj420p);
            using (var scaler = new FrameScaler(outWidth, outHeight, yuvj420p))
            {
                scaler.Scale(picture, scaled.Ptr);
            }

            return JpegEncode(scaled.Ptr);
        }
        catch (AvException e)
        {
            throw new StillImageException("The picture could not be decoded: " + e.Message, e);
        }
        finally
        {
            chosen?.Dispose();
        }
    }

    private static AVCodecContextHandle CreateDecoder(AVStream* stream)
    {
        try
        {
            return Codecs.CreateDecoder(stream);
        }
        catch (NotSupportedException e)
        {
            throw new StillImageException("The picture's format cannot be decoded.", e);
        }
    }

    /// <summary>The even size within the box that keeps the picture's shape; never larger than the picture (but at least 2x2).</summary>
    internal static (int Width, int Height) Fit(int width, int height, int maxWidth, int maxHeight)
    {
        var scale = Math.Min(1.0, Math.Min((double)maxWidth / width, (double)maxHeight / height));
        return (LadderPlanner.Even((int)Math.Round(width * scale)), LadderPlanner.Even((int)Math.Round(height * scale)));
    }

    /// <summary>One yuvj420p picture through the mjpeg encoder (quality q:v 3); the frame is owned by the caller.</summary>
    internal static byte[] JpegEncode(AVFrame* frame)
    {
        using var encoder = Codecs.CreateEncoder("mjpeg");
        var ctx = encoder.Ptr;
        Codecs.Set(ctx, "video_size", string.Create(CultureInfo.InvariantCulture, $"{frame->Width}x{frame->Height}"));
        Codecs.SetInt(ctx, "pixel_format", frame->Format);
        Codecs.Set(ctx, "flags", "+qscale");
        Codecs.SetInt(ctx, "global_quality", 3 * 118); // FF_QP2LAMBDA * 3
        ctx->TimeBase = new AVRational(1, 25);
        Codecs.Open(encoder, "mjpeg");

        using var packet = AVPacketHandle.Alloc();
        frame->Pts = 0;
        AvError.Check(LibAvCodec.avcodec_send_frame(ctx, frame), "avcodec_send_frame (mjpeg)");
        AvError.Check(LibAvCodec.avcodec_send_frame(ctx, null), "avcodec_send_frame (mjpeg flush)");
        AvError.Check(LibAvCodec.avcodec_receive_packet(ctx, packet.Ptr), "avcodec_receive_packet (mjpeg)");

        // The packet's data belongs to the packet handle, freed at the end of this method.
        return new ReadOnlySpan<byte>(packet.Ptr->Data, packet.Ptr->Size).ToArray();
    }
}

/// <summary>A picture that cannot be taken: the message is for the uploader (no paths, no stack).</summary>
public sealed class StillImageException : Exception
{
    public StillImageException()
    {
    }

    public StillImageException(string message)
        : base(message)
    {
    }

    public StillImageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
