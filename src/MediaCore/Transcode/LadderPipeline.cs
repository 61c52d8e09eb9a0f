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
/// upright, then scale + encode per rung; every kept audio stream (up to <see cref="LadderOptions.MaxAudioTracks"/>)
/// decoded and encoded once to stereo 48 kHz AAC, an alternative rendition each; all into VOD CMAF tracks.
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
    private AVPacketHandle? _packet;
    private AVFrameHandle? _decoded;
    private readonly List<AudioLane> _audios = [];
    private AudioLane?[] _audioLaneOf = []; // by source stream index
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
    private AVRational _videoTimeBase;
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

        var renditions = new List<VodVideoRendition>();

        // Every codec opens below, on this thread: the threads libav and x264 start meanwhile are the ones to lower. Inside
        // the window no other transcode opens codecs or starts a thread that still carries this thread's name.
        lock (ThreadNice.Window)
        {
            ThreadNice.Siblings? siblings = _options.Nice > 0 ? ThreadNice.TakeSiblings() : null;
            if (info.Video is { } video)
            {
                SetUpVideo(video, renditions);
            }

            SetUpAudio(info);

            if (siblings is not null)
            {
                var (moved, refused) = ThreadNice.LowerStartedSince(siblings.Value, _options.Nice);
                if (refused is not null)
                {
                    Log.NiceRefused(_logger, _input, _options.Nice, refused);
                }

                Log.Niced(_logger, _input, moved, _options.Nice);
            }
        }

        Log.Started(_logger, _input, info.Video is null ? "none" : $"{info.Video.Codec} {info.Video.Width}x{info.Video.Height} rot {_rotation}",
            _audios.Count == 0 ? "none" : string.Join(", ", _audios.Select(a => $"{a.Source.Codec} {a.Source.ChannelLayout} {a.Source.SampleRate} Hz {a.Rendition.Language}{(a.Rendition.IsDefault ? " (default)" : "")}")),
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

        foreach (var lane in _audios)
        {
            Decode(lane.Decoder.Ptr, null, lane);
        }

        StopEncodeThread();
        ct.ThrowIfCancellationRequested();
        foreach (var rung in _rungs)
        {
            rung.Finish();
        }

        foreach (var lane in _audios)
        {
            lane.Encoder.Finish();
        }
        if (_rungs.Count > 0 && _rungs[0].Frames == 0)
        {
            throw new MediaProbeException(MediaProbeError.Truncated, $"'{Path.GetFileName(_input)}': no video frame could be decoded.");
        }

        // An index that promises more than the file holds (truncated faststart MP4) ends the demux early and quietly.
        // (Longest track: a video that stops before its audio is a real, if odd, upload.)
        var audioDuration = _audios.Count == 0 ? 0 : _audios.Max(a => a.Rendition.Track.Duration);
        var produced = Math.Max(renditions.Count > 0 ? renditions[0].Track.Duration : 0, audioDuration);
        if (_duration >= 1 && produced < _duration * 0.9)
        {
            throw new MediaProbeException(MediaProbeError.Truncated,
                $"'{Path.GetFileName(_input)}' declares {_duration:0.0} s but only {produced:0.0} s could be decoded: the file is truncated.");
        }

        VodPresentationWriter.Write(_directory, renditions, [.. _audios.Select(a => a.Rendition)]);
        var thumbs = _thumbnails?.Finish(_hasCurrent ? _current!.Ptr : null, _nextSlot / Math.Max(_fps, 1));
        progress?.Report(1.0);

        var outputDuration = renditions.Count > 0 ? renditions[0].Track.Duration : audioDuration;
        var audioTracks = _audios.Select(a => new AudioResult(a.Rendition.Track.Codec!, AudioEncoder.SampleRate, AudioEncoder.Channels,
            a.Rendition.Track.PeakBitrate, a.Rendition.Track.AverageBitrate, a.Rendition.Track.Prefix + ".m3u8", a.Rendition.Track.Segments.Count)
        {
            Language = a.Rendition.Language,
            Name = a.Rendition.Name,
            IsDefault = a.Rendition.IsDefault,
            SourceIndex = a.Source.Index,
        }).ToList();
        return new LadderResult
        {
            OutputDirectory = _directory,
            MasterPlaylist = VodPresentationWriter.MasterPlaylist,
            DashManifest = VodPresentationWriter.Manifest,
            Rungs = _rungs.Select(r => new RungResult(r.Rung.Name, r.Rung.Width, r.Rung.Height, r.Rung.Bitrate, r.Track.PeakBitrate,
                r.Track.AverageBitrate, r.Track.Codec!, r.Track.Prefix + ".m3u8", r.Track.Segments.Count, r.Frames)).ToList(),
            Audio = audioTracks.FirstOrDefault(a => a.IsDefault),
            AudioTracks = audioTracks,
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

    /// <summary>
    /// One rendition per kept audio stream, in the source's stream order: a decoder, an AAC encoder and a track each,
    /// whatever the number of video rungs (the sound is encoded once, not per rung). The first is <c>audio</c> (what a
    /// single-audio source always had), the others <c>audio2</c>, <c>audio3</c>, ...
    /// </summary>
    private void SetUpAudio(MediaInfo info)
    {
        var ctx = _format!.Ptr;
        var kept = SelectAudio(info, _options.MaxAudioTracks, s => LibAvCodec.avcodec_find_decoder(ctx->Streams[s.Index]->CodecPar->CodecId) != null);
        if (kept.Count == 0)
        {
            return;
        }

        // Never silent: a stream not kept (over the cap, or one we cannot decode or that has no sound) is logged.
        foreach (var left in info.Streams.Where(s => s.Kind == MediaStreamKind.Audio && !kept.Contains(s)))
        {
            Log.AudioStreamLeftOut(_logger, _input, left.Index, left.Codec, left.Language ?? "und", _options.MaxAudioTracks);
        }

        _audioLaneOf = new AudioLane?[ctx->NbStreams];
        var names = NameAudio(kept);
        var defaultIndex = (kept.FirstOrDefault(s => s.IsDefault) ?? kept[0]).Index;
        for (var i = 0; i < kept.Count; i++)
        {
            var source = kept[i];
            var language = LanguageTag.From(source.Language);
            var track = new VodTrackWriter(_directory, i == 0 ? "audio" : "audio" + (i + 1).ToString(CultureInfo.InvariantCulture), TrackKind.Audio,
                AudioEncoder.SampleRate, _options.SegmentDuration);
            var decoder = Codecs.CreateDecoder(ctx->Streams[source.Index]);
            AudioEncoder encoder;
            try
            {
                encoder = new AudioEncoder(_options.AudioBitrate, track, language.Iso639);
            }
            catch
            {
                decoder.Dispose();
                throw;
            }

            var lane = new AudioLane(source, ctx->Streams[source.Index]->TimeBase, decoder, encoder,
                new VodAudioRendition(track, AudioEncoder.SampleRate, AudioEncoder.Channels, language.Tag, names[i], source.Index == defaultIndex));
            _audios.Add(lane);
            _audioLaneOf[source.Index] = lane;
        }
    }

    /// <summary>
    /// The audio streams to keep, in stream order: every decodable one, at most <paramref name="max"/>. The stream
    /// the container marks default (else av_find_best_stream's choice) is always kept; the others by stream order.
    /// </summary>
    internal static List<MediaStreamInfo> SelectAudio(MediaInfo info, int max, Func<MediaStreamInfo, bool> decodable)
    {
        var all = info.Streams.Where(s => s.Kind == MediaStreamKind.Audio && s.Channels > 0 && s.SampleRate > 0 && decodable(s)).ToList();
        var first = all.FirstOrDefault(s => s.IsDefault) ?? all.FirstOrDefault(s => s.Index == info.Audio?.Index) ?? all.FirstOrDefault();
        if (first is null)
        {
            return [];
        }

        var kept = new List<MediaStreamInfo> { first };
        kept.AddRange(all.Where(s => s != first).Take(max - 1));
        kept.Sort((a, b) => a.Index.CompareTo(b.Index));
        return kept;
    }

    /// <summary>
    /// What a player shows for each: the title tag, else the language's name; made fit for an HLS quoted-string
    /// (no '"', CR, LF; RFC 8216bis §4.2) and unique (§4.4.6.1.1: every NAME in a group differs) with " 2", " 3".
    /// </summary>
    internal static List<string> NameAudio(IReadOnlyList<MediaStreamInfo> streams)
    {
        var names = new List<string>();
        foreach (var s in streams)
        {
            var title = s.Title is null ? null : new string([.. s.Title.Where(c => !char.IsControl(c)).Select(c => c == '"' ? '\'' : c)]).Trim();
            if (title is { Length: > 100 })
            {
                title = title[..100].TrimEnd();
            }

            var name = string.IsNullOrEmpty(title) ? LanguageTag.From(s.Language).Name : title;
            var unique = name;
            for (var n = 2; names.Contains(unique, StringComparer.OrdinalIgnoreCase); n++)
            {
                unique = string.Create(CultureInfo.InvariantCulture, $"{name} {n}");
            }

            names.Add(unique);
        }

        return names;
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
                else if (packet->StreamIndex < _audioLaneOf.Length && _audioLaneOf[packet->StreamIndex] is { } lane)
                {
                    Decode(lane.Decoder.Ptr, packet, lane);
                }
            }
            finally
            {
                LibAvCodec.av_packet_unref(packet);
            }

            if (progress is not null && _duration > 0)
            {
                var done = Math.Clamp(Math.Max(_nextSlot / Math.Max(_fps, 1), AudioSamplesOut / (double)AudioEncoder.SampleRate) / _duration, 0, 0.99);
                if (done - _lastProgress >= 0.01)
                {
                    _lastProgress = done;
                    progress.Report(done);
                }
            }
        }
    }

    /// <param name="packet">Owned by the caller; null drains the decoder.</param>
    private void DecodeVideo(AVPacket* packet) => Decode(_videoDecoder!.Ptr, packet, audio: null);

    /// <summary>Sends one packet (null: drain) and hands every frame it yields to the track's consumer.</summary>
    /// <param name="audio">The audio stream the decoder belongs to; null for the video.</param>
    private void Decode(AVCodecContext* decoder, AVPacket* packet, AudioLane? audio)
    {
        var kind = audio is null ? "video" : "audio";
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
                if (audio is null)
                {
                    OnVideoFrame(frame);
                }
                else
                {
                    OnAudioFrame(audio, frame);
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
            if (_currentEmits > 0 && ++_repeats / _fps > _framesDecoded + (AudioSamplesOut / (double)AudioEncoder.SampleRate) + MaxUnexplainedRepeatSeconds)
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
        var running = new ManualResetEventSlim(); // not disposed: the thread may still be inside Set when Wait returns; no handle is made
        _encodeThread = new Thread(() =>
        {
            running.Set();
            EncodeLoop();
        }) { IsBackground = true, Name = "mediacore-encode" };
        ThreadNice.StartNamed(_encodeThread, running);
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

    private void OnAudioFrame(AudioLane lane, AVFrame* frame)
    {
        var ts = frame->BestEffortTimestamp != LibAvUtil.NoPtsValue ? frame->BestEffortTimestamp : frame->Pts;
        var time = ts != LibAvUtil.NoPtsValue ? (ts * lane.TimeBase.ToDouble()) - _origin : double.NaN;
        lane.Encoder.Add(frame, time);
    }

    /// <summary>The sound encoded so far: that of the longest audio rendition.</summary>
    private long AudioSamplesOut
    {
        get
        {
            long max = 0;
            foreach (var lane in _audios)
            {
                max = Math.Max(max, lane.Encoder.SamplesOut);
            }

            return max;
        }
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
        foreach (var lane in _audios)
        {
            lane.Dispose();
        }
        _prepare?.Dispose();
        _prepared?.Dispose();
        _current?.Dispose();
        _decoded?.Dispose();
        _packet?.Dispose();
        _videoDecoder?.Dispose();
        _format?.Dispose();
    }

    /// <summary>One kept audio stream: its decoder, encoder and rendition, owned by the pipeline.</summary>
    private sealed class AudioLane(MediaStreamInfo source, AVRational timeBase, AVCodecContextHandle decoder, AudioEncoder encoder, VodAudioRendition rendition)
        : IDisposable
    {
        public MediaStreamInfo Source { get; } = source;

        public AVRational TimeBase { get; } = timeBase;

        public AVCodecContextHandle Decoder { get; } = decoder;

        public AudioEncoder Encoder { get; } = encoder;

        public VodAudioRendition Rendition { get; } = rendition;

        public void Dispose()
        {
            Encoder.Dispose();
            Decoder.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(5100, LogLevel.Information,
            "Ladder for {Input}: audio stream {Index} ({Codec}, {Language}) left out: over the cap of {Max} (Jobs:Ladder:MaxAudioTracks), or no decoder, sample rate or channels")]
        public static partial void AudioStreamLeftOut(ILogger logger, string input, int index, string codec, string language, int max);

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
