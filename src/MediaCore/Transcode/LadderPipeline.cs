using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Probe;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Vod;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// The ladder: demux once, decode once, make the video constant-rate (duplicate or drop by output time), turn it
/// upright, then scale + encode per rung; audio to stereo 48 kHz AAC; all into VOD CMAF tracks.
/// Two dedicated threads (libav calls block): the caller's runs demux, decode, CFR and audio; an encode thread
/// runs swscale + libx264 for every rung and the thumbnails. Between them a bounded channel of picture references
/// (av_frame_clone: refcounted, read-only) keeps decoding one step ahead without unbounded memory.
/// Every libav object here is owned by this instance and freed in <see cref="Dispose"/>, after the encode thread ended.
/// </summary>
internal sealed unsafe partial class LadderPipeline : IDisposable
{
    private const int MaxDecodeErrors = 50;

    /// <summary>
    /// Repeated pictures (what fills the gaps of a variable-rate or damaged timeline) beyond what the file's own
    /// content accounts for: a second per decoded picture and the length of the decoded sound, plus this many
    /// seconds. Real files stay far inside it (a still screen, a dropped connection in a recording, a slide shown for
    /// minutes under narration); a crafted one with three pictures hours apart would otherwise cost hours of
    /// encoding for a few kilobytes. Counted as the repeats are made, so such a file fails within this budget.
    /// </summary>
    internal const double MaxUnexplainedRepeatSeconds = 600;

    private const int PictureQueue = 4;

    private readonly string _input;
    private readonly string _directory;
    private readonly LadderOptions _options;
    private readonly ILogger _logger;
    private readonly List<VideoRungEncoder> _rungs = [];

    private AVFormatContextHandle? _format;
    private AVCodecContextHandle? _videoDecoder;
    private AVCodecContextHandle? _audioDecoder;
    private AVPacketHandle? _packet;
    private AVFrameHandle? _decoded;
    private AudioEncoder? _audio;
    private Thumbnails? _thumbnails;
    private Channel<(AVFrameHandle Picture, long Slot)>? _pictures;
    private Thread? _encodeThread;
    private ExceptionDispatchInfo? _encodeError;
    private CancellationToken _ct;

    // Constant-rate conversion state.
    private AVFrameHandle? _current; // the picture shown until the next input frame (a ref, or our rotated copy)
    private AVFrameHandle? _prepared; // yuv420p at the coded size, when rotating a non-yuv420p source
    private FrameScaler? _prepare;
    private bool _hasCurrent;
    private int _currentEmits;
    private double _currentTime;
    private double _inputFrameDuration;
    private long _nextSlot;
    private AVRational _rate;
    private double _fps;
    private int _rotation;
    private int _videoIndex = -1;
    private int _audioIndex = -1;
    private AVRational _videoTimeBase;
    private AVRational _audioTimeBase;
    private double _origin;
    private double _duration;
    private long _framesDecoded;
    private long _duplicated;
    private long _repeats;
    private long _dropped;
    private int _decodeErrors;
    private double _lastProgress = -1;

    public LadderPipeline(string input, string directory, LadderOptions options, ILogger logger)
    {
        _input = input;
        _directory = directory;
        _options = options;
        _logger = logger;
    }

    public LadderResult Run(IProgress<double>? progress, CancellationToken ct)
    {
        _ct = ct;
        _format = MediaProbe.Open(_input);
        var info = MediaProbe.Describe(_format, _input);
        var ctx = _format.Ptr;
        _duration = info.Duration?.TotalSeconds ?? info.Video?.Duration?.TotalSeconds ?? info.Audio?.Duration?.TotalSeconds ?? 0;
        _origin = ctx->StartTime is not LibAvUtil.NoPtsValue ? ctx->StartTime / (double)LibAvUtil.TimeBase : 0;
        _packet = AVPacketHandle.Alloc();
        _decoded = AVFrameHandle.Alloc();

        var target = _options.SegmentDuration;
        var renditions = new List<VodVideoRendition>();

        // Every codec opens below, on this thread: the threads libav and x264 start meanwhile are the ones to lower.
        ThreadNice.Siblings? siblings = _options.Nice > 0 ? ThreadNice.TakeSiblings() : null;
        if (info.Video is { } video)
        {
            SetUpVideo(video, renditions);
        }

        VodAudioRendition? audioRendition = null;
        if (info.Audio is { } audio)
        {
            _audioIndex = audio.Index;
            _audioTimeBase = ctx->Streams[_audioIndex]->TimeBase;
            _audioDecoder = Codecs.CreateDecoder(ctx->Streams[_audioIndex]);
            var track = new VodTrackWriter(_directory, "audio", TrackKind.Audio, AudioEncoder.SampleRate, target);
            _audio = new AudioEncoder(_options.AudioBitrate, track);
            audioRendition = new VodAudioRendition(track, AudioEncoder.SampleRate, AudioEncoder.Channels);
        }

        if (siblings is not null)
        {
            var (moved, refused) = ThreadNice.LowerStartedSince(siblings.Value, _options.Nice);
            if (refused is not null)
            {
                Log.NiceRefused(_logger, _input, _options.Nice, refused);
            }

            Log.Niced(_logger, _input, moved, _options.Nice);
        }

        Log.Started(_logger, _input, info.Video is null ? "none" : $"{info.Video.Codec} {info.Video.Width}x{info.Video.Height} rot {_rotation}",
            info.Audio is null ? "none" : $"{info.Audio.Codec} {info.Audio.ChannelLayout} {info.Audio.SampleRate} Hz",
            string.Join(", ", _rungs.Select(r => $"{r.Rung.Width}x{r.Rung.Height}@{r.Rung.Bitrate / 1000}k")));

        if (_rungs.Count > 0)
        {
            StartEncodeThread();
        }

        Demux(progress, ct);

        // End of input: drain the decoders, finish the constant-rate tail, flush the encoders.
        if (_videoDecoder is not null)
        {
            DecodeVideo(null);
            var end = _currentTime + _inputFrameDuration;
            EmitUntil(end);
        }

        if (_audioDecoder is not null)
        {
            DecodeAudio(null);
        }

        StopEncodeThread();
        ct.ThrowIfCancellationRequested();
        foreach (var rung in _rungs)
        {
            rung.Finish();
        }

        _audio?.Finish();
        if (_rungs.Count > 0 && _rungs[0].Frames == 0)
        {
            throw new MediaProbeException(MediaProbeError.Truncated, $"'{Path.GetFileName(_input)}': no video frame could be decoded.");
        }

        // An index that promises more than the file holds (truncated faststart MP4) ends the demux early and quietly.
        // (Longest track: a video that stops before its audio is a real, if odd, upload.)
        var produced = Math.Max(renditions.Count > 0 ? renditions[0].Track.Duration : 0, audioRendition?.Track.Duration ?? 0);
        if (_duration >= 1 && produced < _duration * 0.9)
        {
            throw new MediaProbeException(MediaProbeError.Truncated,
                $"'{Path.GetFileName(_input)}' declares {_duration:0.0} s but only {produced:0.0} s could be decoded: the file is truncated.");
        }

        VodPresentationWriter.Write(_directory, renditions, audioRendition);
        var thumbs = _thumbnails?.Finish(_hasCurrent ? _current!.Ptr : null, _nextSlot / Math.Max(_fps, 1));
        progress?.Report(1.0);

        var outputDuration = renditions.Count > 0 ? renditions[0].Track.Duration : audioRendition?.Track.Duration ?? 0;
        return new LadderResult
        {
            OutputDirectory = _directory,
            MasterPlaylist = VodPresentationWriter.MasterPlaylist,
            DashManifest = VodPresentationWriter.Manifest,
            Rungs = _rungs.Select(r => new RungResult(r.Rung.Name, r.Rung.Width, r.Rung.Height, r.Rung.Bitrate, r.Track.PeakBitrate,
                r.Track.AverageBitrate, r.Track.Codec!, r.Track.Prefix + ".m3u8", r.Track.Segments.Count, r.Frames)).ToList(),
            Audio = audioRendition is null ? null : new AudioResult(audioRendition.Track.Codec!, AudioEncoder.SampleRate, AudioEncoder.Channels,
                audioRendition.Track.PeakBitrate, audioRendition.Track.AverageBitrate, "audio.m3u8", audioRendition.Track.Segments.Count),
            Duration = TimeSpan.FromSeconds(outputDuration),
            FrameRate = _fps,
            Rotation = _rotation,
            Poster = thumbs?.Poster,
            Storyboard = thumbs?.Storyboard,
            StoryboardTrack = thumbs?.Track,
            FramesDecoded = _framesDecoded,
            FramesOut = _nextSlot,
            FramesDuplicated = _duplicated,
            FramesDropped = _dropped,
        };
    }

    private void SetUpVideo(MediaStreamInfo video, List<VodVideoRendition> renditions)
    {
        var ctx = _format!.Ptr;
        _videoIndex = video.Index;
        var stream = ctx->Streams[_videoIndex];
        _videoTimeBase = stream->TimeBase;
        _videoDecoder = Codecs.CreateDecoder(stream);
        _rotation = video.Rotation;

        // Output rate: the source's nominal rate (that of its fastest part; see MediaStreamInfo.NominalFrameRate),
        // capped by MaxFrameRate; then every picture of a variable-rate source finds a slot of its own, where the
        // average rate would drop the frames of its fast parts. The average serves only when there is no nominal
        // rate; unknown or absurd rates fall back to 30.
        _rate = video.NominalFrameRate is >= 1 and <= 1000 ? new AVRational(video.NominalFrameRateNum, video.NominalFrameRateDen)
            : video.FrameRateNum > 0 && video.FrameRateDen > 0 && video.FrameRate is >= 1 and <= 1000 ? new AVRational(video.FrameRateNum, video.FrameRateDen)
            : new AVRational(30, 1);
        if (_rate.ToDouble() > _options.MaxFrameRate)
        {
            _rate = new AVRational(_options.MaxFrameRate, 1);
        }

        _fps = _rate.ToDouble();
        _inputFrameDuration = 1 / (video.NominalFrameRate is >= 1 and <= 1000 ? video.NominalFrameRate : _fps);

        // A GOP of exactly one segment: IDR on the same output frame in every rung, so segments align.
        var gop = Math.Max(1, (int)Math.Round(_options.SegmentDuration.TotalSeconds * _fps));
        var segment = TimeSpan.FromSeconds(gop / _fps);
        var rungs = LadderPlanner.Plan(video.DisplayWidth, video.DisplayHeight, _options.Rungs);
        foreach (var rung in rungs)
        {
            var track = new VodTrackWriter(_directory, rung.Name, TrackKind.Video, 90_000, segment);
            var encoder = new VideoRungEncoder(rung, _rate, gop, _options.Preset, track);
            _rungs.Add(encoder);
            renditions.Add(new VodVideoRendition(track, rung.Width, rung.Height, _fps));
        }

        _current = AVFrameHandle.Alloc();
        if (_rotation != 0)
        {
            var yuv420p = Codecs.PixelFormat("yuv420p");
            _current.Dispose();
            _current = AVFrameHandle.AllocVideo(video.DisplayWidth, video.DisplayHeight, yuv420p);
        }

        if (_options.Thumbnails)
        {
            _thumbnails = new Thumbnails(_directory, video.DisplayWidth, video.DisplayHeight, _duration, _options);
        }
    }

    private void Demux(IProgress<double>? progress, CancellationToken ct)
    {
        var packet = _packet!.Ptr;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var r = LibAvFormat.av_read_frame(_format!.Ptr, packet);
            if (r == AvError.Eof)
            {
                return;
            }

            AvError.Check(r, "av_read_frame");
            try
            {
                if (packet->StreamIndex == _videoIndex)
                {
                    DecodeVideo(packet);
                }
                else if (packet->StreamIndex == _audioIndex)
                {
                    DecodeAudio(packet);
                }
            }
            finally
            {
                LibAvCodec.av_packet_unref(packet);
            }

            if (progress is not null && _duration > 0)
            {
                var done = Math.Clamp(Math.Max(_nextSlot / Math.Max(_fps, 1), (_audio?.SamplesOut ?? 0) / (double)AudioEncoder.SampleRate) / _duration, 0, 0.99);
                if (done - _lastProgress >= 0.01)
                {
                    _lastProgress = done;
                    progress.Report(done);
                }
            }
        }
    }

    /// <param name="packet">Owned by the caller; null drains the decoder.</param>
    private void DecodeVideo(AVPacket* packet) => Decode(_videoDecoder!.Ptr, packet, video: true);

    /// <param name="packet">Owned by the caller; null drains the decoder.</param>
    private void DecodeAudio(AVPacket* packet) => Decode(_audioDecoder!.Ptr, packet, video: false);

    /// <summary>Sends one packet (null: drain) and hands every frame it yields to the track's consumer.</summary>
    private void Decode(AVCodecContext* decoder, AVPacket* packet, bool video)
    {
        var kind = video ? "video" : "audio";
        var r = LibAvCodec.avcodec_send_packet(decoder, packet);
        if (r < 0 && !AvError.IsAgainOrEof(r))
        {
            CountDecodeError(kind, r);
        }

        // _decoded is reused for every frame of both tracks: the consumers copy what they keep before the unref.
        var frame = _decoded!.Ptr;
        while (true)
        {
            r = LibAvCodec.avcodec_receive_frame(decoder, frame);
            if (AvError.IsAgainOrEof(r))
            {
                return;
            }

            if (r < 0)
            {
                CountDecodeError(kind, r);
                return;
            }

            try
            {
                if (video)
                {
                    OnVideoFrame(frame);
                }
                else
                {
                    OnAudioFrame(frame);
                }
            }
            finally
            {
                LibAvUtil.av_frame_unref(frame);
            }
        }
    }

    /// <summary>
    /// Constant-rate conversion (what ffmpeg's -vsync cfr does): output frame n (time n/fps) shows the newest
    /// input frame that starts no later than half an output frame after it. So a new input frame at time t first
    /// releases every still-pending output slot before t with the previous picture: repeated for a gap, skipped
    /// entirely (dropped) when two inputs fall into one slot.
    /// </summary>
    private void OnVideoFrame(AVFrame* frame)
    {
        _framesDecoded++;
        var ts = frame->BestEffortTimestamp != LibAvUtil.NoPtsValue ? frame->BestEffortTimestamp : frame->Pts;
        var time = ts != LibAvUtil.NoPtsValue
            ? (ts * _videoTimeBase.ToDouble()) - _origin
            : _currentTime + _inputFrameDuration;

        EmitUntil(time);
        if (_hasCurrent)
        {
            if (_currentEmits == 0)
            {
                _dropped++;
            }
            else
            {
                _duplicated += _currentEmits - 1;
            }
        }

        // Replace the current picture. Queued slots keep their own references to the previous one's buffers.
        if (_rotation == 0)
        {
            LibAvUtil.av_frame_unref(_current!.Ptr);
            AvError.Check(LibAvUtil.av_frame_ref(_current.Ptr, frame), "av_frame_ref");
        }
        else
        {
            var source = frame;
            var yuv420p = _current!.Ptr->Format; // the rotated picture is yuv420p
            if (frame->Format != yuv420p)
            {
                _prepared ??= AVFrameHandle.AllocVideo(frame->Width, frame->Height, yuv420p);
                _prepare ??= new FrameScaler(frame->Width, frame->Height, yuv420p);
                _prepare.Scale(frame, _prepared.Ptr);
                source = _prepared.Ptr;
            }

            // A fresh buffer per input picture: the encode thread may still read the previous one.
            var rotated = AVFrameHandle.AllocVideo(_current!.Ptr->Width, _current.Ptr->Height, yuv420p);
            PlaneRotation.Rotate(source, rotated.Ptr, _rotation);
            _current.Dispose();
            _current = rotated;
        }

        // The last picture is shown for the interval before it (the tail of a 30 fps part of a 60 fps source is
        // two output frames, not one); a gap of a second or more is a gap, not a frame interval.
        if (_hasCurrent && time - _currentTime is > 0 and < 1)
        {
            _inputFrameDuration = time - _currentTime;
        }

        _hasCurrent = true;
        _currentEmits = 0;
        _currentTime = Math.Max(time, _currentTime);
    }

    private void EmitUntil(double time)
    {
        if (!_hasCurrent)
        {
            return;
        }

        while ((_nextSlot + 0.5) / _fps < time)
        {
            if (_currentEmits > 0 && ++_repeats / _fps > _framesDecoded + ((_audio?.SamplesOut ?? 0) / (double)AudioEncoder.SampleRate) + MaxUnexplainedRepeatSeconds)
            {
                throw new MediaProbeException(MediaProbeError.BrokenTimestamps, string.Create(CultureInfo.InvariantCulture,
                    $"'{Path.GetFileName(_input)}': the video's timestamps jump from {_currentTime:0.0} s to {time:0.0} s with nothing in between: the file is damaged."));
            }

            Post(AVFrameHandle.Clone(_current!.Ptr), _nextSlot);
            _nextSlot++;
            _currentEmits++;
        }
    }

    private void StartEncodeThread()
    {
        _pictures = Channel.CreateBounded<(AVFrameHandle, long)>(new BoundedChannelOptions(PictureQueue)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _encodeThread = new Thread(EncodeLoop) { IsBackground = true, Name = "mediacore-encode" };
        _encodeThread.Start();
    }

    /// <summary>The encode thread: every queued picture through the thumbnails and every rung, in slot order.</summary>
    private void EncodeLoop()
    {
        var reader = _pictures!.Reader;
        try
        {
            while (reader.WaitToReadAsync(_ct).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var item))
                {
                    using (item.Picture)
                    {
                        _ct.ThrowIfCancellationRequested();
                        _thumbnails?.Offer(item.Picture.Ptr, item.Slot / _fps);
                        foreach (var rung in _rungs)
                        {
                            rung.Encode(item.Picture.Ptr, item.Slot);
                        }
                    }
                }
            }
        }
        catch (Exception e)
        {
            _encodeError = ExceptionDispatchInfo.Capture(e);
            _pictures.Writer.TryComplete(e); // unblocks the producer
        }
    }

    /// <summary>Blocks while the queue is full; rethrows the encode thread's failure.</summary>
    private void Post(AVFrameHandle picture, long slot)
    {
        try
        {
            _pictures!.Writer.WriteAsync((picture, slot), _ct).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            picture.Dispose();
            if (_encodeError is not null)
            {
                _encodeThread!.Join();
                _encodeError.Throw();
            }

            throw;
        }
    }

    /// <summary>Ends the queue and waits for the encode thread; rethrows its failure.</summary>
    private void StopEncodeThread()
    {
        if (_encodeThread is null)
        {
            return;
        }

        _pictures!.Writer.TryComplete();
        _encodeThread.Join();
        _encodeThread = null;
        while (_pictures.Reader.TryRead(out var left))
        {
            left.Picture.Dispose();
        }

        _encodeError?.Throw();
    }

    private void OnAudioFrame(AVFrame* frame)
    {
        var ts = frame->BestEffortTimestamp != LibAvUtil.NoPtsValue ? frame->BestEffortTimestamp : frame->Pts;
        var time = ts != LibAvUtil.NoPtsValue ? (ts * _audioTimeBase.ToDouble()) - _origin : double.NaN;
        _audio!.Add(frame, time);
    }

    private void CountDecodeError(string kind, int error)
    {
        // A damaged packet costs a frame, as in ffmpeg; a stream of them means the file is not usable.
        Log.DecodeError(_logger, kind, AvError.Describe(error));
        if (++_decodeErrors > MaxDecodeErrors)
        {
            throw new AvException($"{kind} decoding", error);
        }
    }

    public void Dispose()
    {
        // On failure or cancellation the encode thread may still run: end it before freeing what it uses.
        if (_encodeThread is not null)
        {
            _pictures!.Writer.TryComplete();
            _encodeThread.Join();
            while (_pictures.Reader.TryRead(out var left))
            {
                left.Picture.Dispose();
            }
        }

        foreach (var rung in _rungs)
        {
            rung.Dispose();
        }

        _thumbnails?.Dispose();
        _audio?.Dispose();
        _prepare?.Dispose();
        _prepared?.Dispose();
        _current?.Dispose();
        _decoded?.Dispose();
        _packet?.Dispose();
        _videoDecoder?.Dispose();
        _audioDecoder?.Dispose();
        _format?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4100, LogLevel.Information, "Ladder for {Input}: video {Video}, audio {Audio}, rungs {Rungs}")]
        public static partial void Started(ILogger logger, string input, string video, string audio, string rungs);

        [LoggerMessage(4102, LogLevel.Debug, "Ladder for {Input}: {Threads} codec threads at nice {Nice}")]
        public static partial void Niced(ILogger logger, string input, int threads, int nice);

        [LoggerMessage(4103, LogLevel.Warning, "Ladder for {Input}: a codec thread stays at the daemon's priority: setting nice {Nice} failed ({Reason})")]
        public static partial void NiceRefused(ILogger logger, string input, int nice, string reason);

        [LoggerMessage(4101, LogLevel.Warning, "Skipping undecodable {Kind} data: {Error}")]
        public static partial void DecodeError(ILogger logger, string kind, string error);
    }
}
