using StreamVerse.MediaCore.Interop;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Vod;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// Decoded audio of any layout/rate/format -> swresample to stereo 48 kHz fltp -> native AAC-LC encoder ->
/// the audio CMAF track. Resampled samples wait in a small managed FIFO until a full AAC frame (1024) exists.
/// Owns its codec context, resampler, frames and packet; pipeline thread only.
/// </summary>
internal sealed unsafe class AudioEncoder : IDisposable
{
    public const int SampleRate = 48_000;
    public const int Channels = 2;

    private readonly AVCodecContextHandle _encoder;
    private readonly AVFrameHandle _frame;
    private readonly AVPacketHandle _packet;
    private readonly int _frameSize;
    private SwrContextHandle? _swr;
    private float[] _left = new float[8192];
    private float[] _right = new float[8192];
    private int _buffered;
    private long _startOffset;
    private long _samplesSent;

    /// <param name="language">ISO 639-2/T code for the track header.</param>
    public AudioEncoder(int bitrate, VodTrackWriter track, string language = "und")
    {
        Track = track;
        var fltp = Codecs.SampleFormat("fltp");
        _encoder = Codecs.CreateEncoder("aac");
        var ctx = _encoder.Ptr;
        ctx->SampleFmt = fltp;
        Codecs.SetInt(ctx, "ar", SampleRate);
        Codecs.Set(ctx, "ch_layout", "stereo");
        Codecs.SetInt(ctx, "b", bitrate);
        Codecs.Set(ctx, "flags", "+global_header"); // AudioSpecificConfig in extradata -> esds
        ctx->TimeBase = new AVRational(1, SampleRate);
        Codecs.Open(_encoder, "aac");

        var (asc, frameSize, priming) = Codecs.ReadParameters(_encoder);
        _frameSize = frameSize > 0 ? frameSize : 1024;

        // The first packet's DTS is -priming; the track shifts it to 0 and the edit list hides the priming.
        track.SetAudioConfig(AacConfig.Parse(asc), priming, language);

        _frame = AVFrameHandle.Alloc();
        _frame.Ptr->Format = fltp;
        _frame.Ptr->SampleRate = SampleRate;
        _frame.Ptr->NbSamples = _frameSize;
        LibAvUtil.av_channel_layout_default(&_frame.Ptr->ChLayout, Channels);
        AvError.Check(LibAvUtil.av_frame_get_buffer(_frame.Ptr, 0), "av_frame_get_buffer (audio)");
        _packet = AVPacketHandle.Alloc();
    }

    public VodTrackWriter Track { get; }

    public long SamplesOut => _samplesSent;

    /// <summary>Resamples and encodes one decoded frame (owned by the caller, read only).</summary>
    /// <param name="input">The decoded frame.</param>
    /// <param name="time">
    /// Its presentation time in seconds on the presentation clock (0 = where video starts), NaN when unknown. The first
    /// frame's time aligns the audio track: a late start is padded with silence, an early one trimmed, so audio
    /// sample 0 plays with video frame 0. Later timestamps are not followed (the track stays continuous).
    /// </param>
    public void Add(AVFrame* input, double time)
    {
        if (_swr is null)
        {
            if (!double.IsNaN(time))
            {
                _startOffset = (long)Math.Round(time * SampleRate);
            }

            var swr = LibSwResample.swr_alloc();
            if (swr == null)
            {
                throw new OutOfMemoryException("swr_alloc");
            }

            _swr = new SwrContextHandle(swr);

            // Input layout/rate/format from the decoded frame, output from our template frame.
            AvError.Check(LibSwResample.swr_config_frame(swr, _frame.Ptr, input), "swr_config_frame");
            AvError.Check(LibSwResample.swr_init(swr), "swr_init");
        }

        Convert(input->ExtendedData, input->NbSamples);
        AlignStart();
        EncodeBuffered(final: false);
    }

    public void Finish()
    {
        if (_swr is not null)
        {
            int got;
            do
            {
                got = Convert(null, 0); // flush the resampler's delay line
            }
            while (got > 0);
        }

        EncodeBuffered(final: true);
        var r = LibAvCodec.avcodec_send_frame(_encoder.Ptr, null);
        if (r != AvError.Eof)
        {
            AvError.Check(r, "avcodec_send_frame (aac flush)");
        }

        Drain();
        Track.Finish(_frameSize);
    }

    /// <summary>Applies the start offset once samples exist: prepends silence or drops leading samples.</summary>
    private void AlignStart()
    {
        if (_startOffset > 0)
        {
            // Bounded: a start more than 10 s late is a broken timestamp, not a real gap.
            var pad = (int)Math.Min(_startOffset, 10L * SampleRate);
            EnsureCapacity(_buffered + pad);
            Array.Copy(_left, 0, _left, pad, _buffered);
            Array.Copy(_right, 0, _right, pad, _buffered);
            Array.Clear(_left, 0, pad);
            Array.Clear(_right, 0, pad);
            _buffered += pad;
            _startOffset = 0;
        }
        else if (_startOffset < 0)
        {
            var drop = (int)Math.Min(-_startOffset, _buffered);
            Array.Copy(_left, drop, _left, 0, _buffered - drop);
            Array.Copy(_right, drop, _right, 0, _buffered - drop);
            _buffered -= drop;
            _startOffset += drop;
        }
    }

    private void EnsureCapacity(int samples)
    {
        if (samples > _left.Length)
        {
            Array.Resize(ref _left, samples * 2);
            Array.Resize(ref _right, samples * 2);
        }
    }

    private int Convert(byte** input, int count)
    {
        var capacity = LibSwResample.swr_get_out_samples(_swr!.Ptr, count) + 256;
        EnsureCapacity(_buffered + capacity);

        // The managed FIFO arrays are pinned only for this call; swr writes planar floats into them.
        fixed (float* l = &_left[_buffered], r = &_right[_buffered])
        {
            var output = stackalloc byte*[2] { (byte*)l, (byte*)r };
            var got = AvError.Check(LibSwResample.swr_convert(_swr.Ptr, output, capacity, input, count), "swr_convert");
            _buffered += got;
            return got;
        }
    }

    private void EncodeBuffered(bool final)
    {
        var offset = 0;
        while (_buffered - offset >= _frameSize || (final && _buffered - offset > 0))
        {
            var n = Math.Min(_frameSize, _buffered - offset);

            // _frame owns its buffers for this object's life; av_frame_make_writable gives us sole access before
            // the copy (the encoder may still reference the previous contents).
            var frame = _frame.Ptr;
            AvError.Check(LibAvUtil.av_frame_make_writable(frame), "av_frame_make_writable (audio)");
            frame->NbSamples = n;
            new ReadOnlySpan<float>(_left, offset, n).CopyTo(new Span<float>((void*)frame->Data[0], n));
            new ReadOnlySpan<float>(_right, offset, n).CopyTo(new Span<float>((void*)frame->Data[1], n));
            frame->Pts = _samplesSent;
            _samplesSent += n;
            offset += n;
            AvError.Check(LibAvCodec.avcodec_send_frame(_encoder.Ptr, frame), "avcodec_send_frame (aac)");
            Drain();
        }

        if (offset > 0)
        {
            Array.Copy(_left, offset, _left, 0, _buffered - offset);
            Array.Copy(_right, offset, _right, 0, _buffered - offset);
            _buffered -= offset;
        }
    }

    private void Drain()
    {
        var packet = _packet.Ptr;
        while (true)
        {
            var r = LibAvCodec.avcodec_receive_packet(_encoder.Ptr, packet);
            if (AvError.IsAgainOrEof(r))
            {
                return;
            }

            AvError.Check(r, "avcodec_receive_packet (aac)");
            try
            {
                // Time base is 1/48000 = the track timescale. packet->Data is valid until the unref below.
                Track.AddSample(packet->Dts, packet->Pts, isKeyframe: true, new ReadOnlySpan<byte>(packet->Data, packet->Size));
            }
            finally
            {
                LibAvCodec.av_packet_unref(packet);
            }
        }
    }

    public void Dispose()
    {
        _swr?.Dispose();
        _packet.Dispose();
        _frame.Dispose();
        _encoder.Dispose();
    }
}
