using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using StreamVerse.Segmenter.Dash;
using StreamVerse.Segmenter.Fmp4;
using StreamVerse.Segmenter.Hls;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Recording;

namespace StreamVerse.Segmenter.Live;

/// <summary>
/// One publish session: packages what ingest delivers into CMAF (one track per file), keeps the recent
/// segments and parts in memory for HLS/LL-HLS and DASH, and records everything to disk.
/// <para>
/// Threading: the <see cref="IMediaSink"/> methods run on the ingest thread and own all mutable state.
/// After each change they publish an immutable <see cref="StreamView"/> (playlists already rendered) and
/// wake blocked viewers; the Get* methods only read the current view, so viewers never take a lock and
/// never slow ingest.
/// </para>
/// </summary>
public sealed partial class LiveStream : IMediaSink
{
    private const int MaxPreStartAudio = 512;

    private readonly LiveStreamRegistry _registry;
    private readonly SegmenterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RecordingWriter _recorder;
    private readonly string _recordingDirectory;
    private readonly StringBuilder _sb = new(8192);
    private readonly long _targetTicks;
    private readonly long _partTicks;
    private readonly TimeSpan _waitLimit;
    private readonly Queue<AudioBoundary> _audioBoundaries = new();
    private readonly List<(long Dts, byte[] Data)> _preStartAudio = [];
    private readonly List<double> _publishDelays = [];
    private readonly LiveLadder? _ladder;
    private readonly bool _isRung;

    private AvcConfig? _avc;
    private AacConfig? _aac;
    private TrackState? _video;
    private TrackState? _audio;
    private bool _started;
    private bool _ended;
    private bool _dirty;
    private bool _segmentsChanged;
    private long _zero;
    private long _audioZero;
    private long _lastVideoDts;
    private long _lastVideoDuration = 3600;
    private long _videoPartLimit;
    private long _videoSamples;
    private long _audioFrameTicks90k;
    private bool _audioTimelineStarted;
    private long _audioRunStartDts;
    private long _audioRunStartTicks;
    private long _audioRunCount;
    private DateTimeOffset _startWallClock;
    private double _frozenPartTarget;
    private double _peakBandwidth;
    private long _renderVersion;
    private StoredObject? _master;
    private StoredObject? _mpd;

    private StreamView _view = StreamView.Empty;
    private TaskCompletionSource _changed = NewSignal();
    private long _segmentsProduced;
    private long _partsProduced;

    /// <param name="ladder">The live ladder this stream belongs to (as its source, or as a rung), or null.</param>
    /// <param name="videoPrefix">File prefix and playlist name of the video track (<c>video</c>; a rung's own name).</param>
    /// <param name="isRung">A transcoded rung: video only, its timeline, segment cuts and MSNs follow the ladder's source.</param>
    internal LiveStream(string name, string sessionId, LiveStreamRegistry registry, SegmenterOptions options, TimeProvider time, RecordingWriter recorder, ILogger logger,
        LiveLadder? ladder = null, string videoPrefix = "video", bool isRung = false)
    {
        Name = name;
        _ladder = ladder;
        VideoPrefix = videoPrefix;
        _isRung = isRung;
        SessionId = sessionId;
        _registry = registry;
        _options = options;
        _time = time;
        _recorder = recorder;
        _logger = logger;
        _recordingDirectory = Path.Combine(options.RecordingsPath, name);
        _targetTicks = ToTicks90k(options.TargetDuration);
        _partTicks = ToTicks90k(options.PartTarget);
        _waitLimit = options.TargetDuration * 3;
    }

    /// <summary>Raised on the ingest thread after a part is published, with the seconds between the arrival
    /// of the part's first sample and its publication (for a publish-delay histogram). Keep handlers cheap.</summary>
    public event Action<double>? PartPublished;

    public string Name { get; }

    /// <summary>File prefix and playlist name (without <c>.m3u8</c>) of the video track.</summary>
    internal string VideoPrefix { get; }

    internal LiveLadder? Ladder => _ladder;

    /// <summary>Unique per publish; the folder of this session's files.</summary>
    public string SessionId { get; }

    public bool IsEnded => Volatile.Read(ref _view).Ended;

    /// <summary>
    /// The media time of the live edge: seconds of media published so far (completed segments plus the parts of the
    /// segment in progress, of the video track, else the audio track), counted from the start of this publish, which is
    /// also the start of its recording. Safe from any thread (read from the published view).
    /// </summary>
    public double MediaSeconds => Volatile.Read(ref _view).MediaSeconds;

    /// <summary>Completed segments (of the video track, or of the audio track for audio-only streams).</summary>
    public long SegmentsProduced => Interlocked.Read(ref _segmentsProduced);

    /// <summary>Parts published, all tracks.</summary>
    public long PartsProduced => Interlocked.Read(ref _partsProduced);

    /// <summary>Peak segment bitrate, video + audio, in bits per second; null before the first segment.</summary>
    public double? PeakBandwidth
    {
        get
        {
            var value = Volatile.Read(ref _peakBandwidth);
            return value > 0 ? value : null;
        }
    }

    internal StreamView View => Volatile.Read(ref _view);

    // ---------------------------------------------------------------- ingest side (one thread)

    public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
    {
        if (_ended)
        {
            return;
        }

        if (_started)
        {
            if (_avc is null || !avcDecoderConfigurationRecord.SequenceEqual(_avc.Record))
            {
                Log.ConfigChangeIgnored(_logger, Name, "video");
            }

            return;
        }

        try
        {
            _avc = AvcConfig.Parse(avcDecoderConfigurationRecord);
        }
        catch (InvalidDataException ex)
        {
            Log.BadConfig(_logger, Name, "video", ex);
        }
    }

    public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
    {
        if (_ended)
        {
            return;
        }

        if (_started)
        {
            if (_aac is null || !audioSpecificConfig.SequenceEqual(_aac.Record))
            {
                Log.ConfigChangeIgnored(_logger, Name, "audio");
            }

            return;
        }

        try
        {
            _aac = AacConfig.Parse(audioSpecificConfig);
        }
        catch (InvalidDataException ex)
        {
            Log.BadConfig(_logger, Name, "audio", ex);
        }
    }

    public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        if (_ended || data.IsEmpty)
        {
            return;
        }

        var arrival = _time.GetTimestamp();
        if (!_started || _suspended)
        {
            if (track == TrackKind.Video)
            {
                if (_avc is null || !isKeyframe)
                {
                    return;
                }

                if (_isRung)
                {
                    // A rung starts where a segment of the source starts, with that segment's number, so MSNs
                    // (and the rendition reports that name them) agree across the ladder.
                    if (_ladder!.SegmentStartAt(pts) is not { } first)
                    {
                        return;
                    }

                    StartRung(first.Msn);
                }
                else if (_suspended)
                {
                    Resume(dts);
                }
                else
                {
                    Start(dts);
                }
            }
            else
            {
                if (_aac is null)
                {
                    return;
                }

                if (_avc is not null)
                {
                    // Video decides where the timeline starts; hold audio until its first keyframe.
                    HoldPreStartAudio(dts, data);
                    return;
                }

                if (_suspended)
                {
                    Resume(dts);
                }
                else
                {
                    Start(dts);
                }
            }
        }

        if (track == TrackKind.Video)
        {
            if (_video is not null)
            {
                AddVideo(dts, pts, isKeyframe, data, arrival);
            }
        }
        else if (_audio is not null)
        {
            AddAudio(dts, data, arrival);
        }

        if (_dirty)
        {
            Publish();
        }
    }

    private void HoldPreStartAudio(long dts, ReadOnlySpan<byte> data)
    {
        if (_preStartAudio.Count == MaxPreStartAudio)
        {
            _preStartAudio.RemoveAt(0);
        }

        _preStartAudio.Add((dts, data.ToArray()));
    }

    public void OnEnd()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        StopReconnectTimer();
        if (!_started)
        {
            Publish();
            _registry.Remove(this);
            return;
        }

        CloseAll();
        Publish();
        Log.Ended(_logger, Name, SessionId, _video?.NextMsn ?? _audio?.NextMsn ?? 0);
        _ = FinishRecordingAsync();
    }

    /// <summary>Closes the segment in progress of every track (the last audio segment takes all remaining audio).</summary>
    private void CloseAll()
    {
        if (_video is not null)
        {
            if (_video.PendingCount > 0)
            {
                _video.SetLastDuration((int)_lastVideoDuration);
                CloseVideoPart(long.MaxValue, endSegment: true);
            }
            else if (_video.SegmentPartCount > 0)
            {
                CloseSegment(_video);
                _audioBoundaries.Enqueue(new AudioBoundary(long.MaxValue, SegmentEnd: true, Discontinuity: false));
            }
        }

        if (_audio is not null)
        {
            if (_video is not null)
            {
                DrainAudioBoundaries(final: true);
            }

            if (_audio.PendingCount > 0)
            {
                ClosePart(_audio, _audio.PendingCount, _audio.PendingFirstArrival);
            }

            if (_audio.SegmentPartCount > 0)
            {
                CloseSegment(_audio);
            }
        }
    }

    private void StartRung(long firstMsn)
    {
        _started = true;
        _zero = _ladder!.Zero;
        _audioZero = _zero;
        _startWallClock = _ladder.StartWallClock;
        _video = new TrackState(TrackKind.Video, 90000, InitSegmentWriter.WriteVideo(_avc!), _avc!.Codec, SessionId, _options.WindowSegments + 4, VideoPrefix, firstMsn);
        Record(_video, "init.mp4", _video.Init.Chunks);
        _videoPartLimit = Math.Max(1, _partTicks);
        Log.Started(_logger, Name + "/" + VideoPrefix, SessionId, _video.Codec, "-");
    }

    private void Start(long dts)
    {
        _started = true;
        _zero = dts;
        _audioZero = dts;
        _audioMinDts = dts;
        _startWallClock = _time.GetUtcNow();
        _ladder?.SourceStarted(dts, _startWallClock);
        var retain = _options.WindowSegments + 4;
        if (_avc is not null)
        {
            _video = new TrackState(TrackKind.Video, 90000, InitSegmentWriter.WriteVideo(_avc), _avc.Codec, SessionId, retain, VideoPrefix);
            Record(_video, "init.mp4", _video.Init.Chunks);
        }

        if (_aac is not null)
        {
            _audio = new TrackState(TrackKind.Audio, _aac.SampleRate, InitSegmentWriter.WriteAudio(_aac), _aac.Codec, SessionId, retain);
            _audioFrameTicks90k = (long)_aac.FrameLength * 90000 / _aac.SampleRate;
            Record(_audio, "init.mp4", _audio.Init.Chunks);
        }

        // Video parts end early enough that the matching audio part (cut at the first audio frame at or
        // after the video boundary, so up to one frame longer) still fits the part target.
        _videoPartLimit = Math.Max(1, _partTicks - (_audio is not null ? _audioFrameTicks90k : 0));
        Log.Started(_logger, Name, SessionId, _video?.Codec ?? "-", _audio?.Codec ?? "-");
        _epochFirstVideo = true;
        ReplayPreStartAudio();
    }

    /// <summary>Buffered audio that starts at or after the first keyframe joins the timeline; earlier is dropped.</summary>
    private void ReplayPreStartAudio()
    {
        if (_video is not null && _audio is not null)
        {
            var arrival = _time.GetTimestamp();
            foreach (var (audioDts, audioData) in _preStartAudio)
            {
                AppendAudio(audioDts, audioData, arrival);
            }
        }

        _preStartAudio.Clear();
    }

    private void AddVideo(long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data, long arrival)
    {
        var v = _video!;
        if (!_epochFirstVideo && DetectsJumps && v.PendingCount > 0 && IsJump(dts - _lastVideoDts, _lastVideoDuration))
        {
            // Defect: a stalled or restarted encoder's clock must not become one long sample (a 22 s segment).
            Log.TimestampJump(_logger, Name, "video", (dts - _lastVideoDts) / 90000.0);
            BeginDiscontinuity();
        }

        if (_awaitKeyframe)
        {
            // After a discontinuity the new timeline starts on a keyframe, as a new publish does.
            _lastVideoDts = dts;
            if (!isKeyframe)
            {
                return;
            }

            StartEpoch(dts);
        }

        if (!_epochFirstVideo && v.PendingCount > 0)
        {
            var duration = Math.Clamp(dts - _lastVideoDts, 1, int.MaxValue);
            _lastVideoDuration = duration;
            v.SetLastDuration((int)duration);
            var segmentTicks = v.NextDecodeTime - v.SegmentStartTime;

            // A rung cuts exactly where the source did (same keyframe, by presentation time); after a dropped GOP
            // its segment spans the missing boundary rather than invent one.
            var cut = _isRung ? isKeyframe && _ladder!.SegmentStartAt(pts) is not null : isKeyframe && segmentTicks >= _targetTicks;
            if (!cut && !_isRung && segmentTicks + duration > MaxSegmentTicks())
            {
                // RFC 8216bis §4.4.3.1: TARGETDURATION must not change, and every segment must fit it; an encoder
                // whose keyframes come later than that gets a segment cut on a frame that is not one.
                Log.ForcedCut(_logger, Name, v.NextMsn, segmentTicks / 90000.0);
                cut = true;
                NotIndependent();
            }
            else if (cut && !_isRung && !StartsWithIdr(data))
            {
                // An open GOP (x264 open-gop): the keyframe is an I-frame whose leading pictures reference the GOP
                // before it. Players start on it as on any keyframe, but the segment is not independent.
                NotIndependent();
            }

            if (v.PendingCount > 1 && v.PendingTicks > _videoPartLimit)
            {
                // Variable frame rate: the last frame's duration, known only now, took the part past the target.
                // RFC 8216bis §4.4.4.9: a part must not exceed PART-TARGET, so the part ends before that frame.
                CloseVideoPartBefore(v.PendingCount - 1);
            }

            if (cut)
            {
                CloseVideoPart(dts - _zero, endSegment: true);
            }
            else if (v.PendingTicks + duration > _videoPartLimit)
            {
                CloseVideoPart(dts - _zero, endSegment: false);
            }
        }

        var cts = (int)Math.Clamp(pts - dts, int.MinValue, int.MaxValue);
        var wallClock = _isRung && isKeyframe && _ladder!.SegmentStartAt(pts) is { } start ? start.ProgramDateTime : _time.GetUtcNow();
        if (_epochFirstVideo)
        {
            // The first sample of a timeline: decode time is its distance from the timeline's zero (a rung shares the
            // source's); after a discontinuity, never before what is already packaged.
            _epochFirstVideo = false;
            v.Append(Math.Max(v.NextDecodeTime, dts - _zero), 0, cts, isKeyframe, dts - _zero, arrival, wallClock, data);
        }
        else
        {
            v.Append(v.NextDecodeTime, 0, cts, isKeyframe, dts - _zero, arrival, wallClock, data);
        }

        if (_ladder is not null && !_isRung && v.PendingCount == 1 && v.SegmentPartCount == 0)
        {
            _ladder.SourceSegmentStarted(pts, v.NextMsn, v.SegmentProgramDateTime);
        }

        _lastVideoDts = dts;
        _videoSamples++;

        // The wall clock of the last packaged sample: a jump measures the time without media from here.
        _lastSampleWall = _time.GetUtcNow();
    }

    /// <param name="boundary">Timeline position (90 kHz) where the next video part starts.</param>
    private void CloseVideoPart(long boundary, bool endSegment)
    {
        var v = _video!;
        ClosePart(v, v.PendingCount, v.PendingFirstArrival);
        if (endSegment)
        {
            CloseSegment(v);
        }

        if (_audio is not null)
        {
            _audioBoundaries.Enqueue(new AudioBoundary(boundary, endSegment, Discontinuity: false));
            DrainAudioBoundaries(final: false);
        }
    }

    /// <summary>Closes a part of the first <paramref name="count"/> pending video samples; the rest stay pending.</summary>
    private void CloseVideoPartBefore(int count)
    {
        var v = _video!;
        var boundary = v.PendingPosition(count);
        ClosePart(v, count, v.PendingFirstArrival);
        if (_audio is not null)
        {
            _audioBoundaries.Enqueue(new AudioBoundary(boundary, SegmentEnd: false, Discontinuity: false));
            DrainAudioBoundaries(final: false);
        }
    }

    private void AddAudio(long dts, ReadOnlySpan<byte> data, long arrival)
    {
        if (DetectsJumps && _lastAudioDts != long.MinValue && (_heldAudio.Count > 0 || IsJump(dts - _lastAudioDts, _audioFrameTicks90k)))
        {
            if (_heldAudio.Count == 0)
            {
                Log.TimestampJump(_logger, Name, "audio", (dts - _lastAudioDts) / 90000.0);
            }

            _lastAudioDts = dts;
            if (_video is null)
            {
                BeginDiscontinuity();
                StartEpoch(dts);
            }
            else if (_epoch > _audioEpoch)
            {
                AdoptEpoch();
            }
            else
            {
                // Audio jumped first: hold it until the video's new timeline starts (or, if the video never
                // jumps, until it is clear that only the audio did).
                HoldJumpedAudio(dts, data);
                return;
            }
        }

        _lastAudioDts = dts;
        AppendAudio(dts, data, arrival);
    }

    private void AppendAudio(long dts, ReadOnlySpan<byte> data, long arrival)
    {
        if (dts < _audioMinDts)
        {
            // Before the timeline's first keyframe: dropped, as at the start.
            return;
        }

        var a = _audio!;
        var frame = _aac!.FrameLength;
        if (_video is not null && _epoch > _audioEpoch && dts - _audioZero >= _epochStart + 90_000)
        {
            // The video started a new timeline but this audio never jumped: it keeps its own clock.
            AdoptEpoch(keepClock: true);
        }

        // Exact 1024-sample durations, accumulated; the input clock only resyncs the run after a real gap
        // (more than one frame late), never per sample.
        var expected = _audioRunStartDts + (_audioRunCount * frame * 90000 / a.Timescale);
        if (!_audioTimelineStarted || _audioResync || dts - expected > _audioFrameTicks90k)
        {
            var ticks = (dts - _audioZero) * a.Timescale / 90000;
            _audioRunStartTicks = _audioTimelineStarted ? Math.Max(ticks, a.NextDecodeTime) : ticks;
            _audioRunStartDts = dts;
            _audioRunCount = 0;
            _audioTimelineStarted = true;
            _audioResync = false;
        }

        var decodeTime = _audioRunStartTicks + (_audioRunCount * frame);
        _audioRunCount++;

        if (_video is null && a.PendingCount > 0)
        {
            // Audio-only: cut by duration.
            var segmentTicks = a.NextDecodeTime - a.SegmentStartTime;
            if (segmentTicks * 90000 >= _targetTicks * a.Timescale)
            {
                ClosePart(a, a.PendingCount, a.PendingFirstArrival);
                CloseSegment(a);
            }
            else if ((a.PendingTicks + frame) * 90000 > _partTicks * a.Timescale)
            {
                ClosePart(a, a.PendingCount, a.PendingFirstArrival);
            }
        }

        _lastSampleWall = _time.GetUtcNow();
        a.Append(decodeTime, frame, 0, true, dts - _audioZero, arrival, _lastSampleWall, data);

        if (_video is not null)
        {
            DrainAudioBoundaries(final: false);
        }
    }

    /// <summary>
    /// Cuts audio at the video's part boundaries: each audio part ends before the first audio sample whose
    /// timeline position is at or after the video boundary, so both tracks share MSNs and part indices. A
    /// discontinuity boundary takes every pending sample (all of the old timeline), once the audio has joined the new one.
    /// </summary>
    private void DrainAudioBoundaries(bool final)
    {
        var a = _audio!;
        while (_audioBoundaries.Count > 0)
        {
            var boundary = _audioBoundaries.Peek();
            int index;
            if (boundary.Discontinuity)
            {
                if (!final && _audioEpoch < _epoch)
                {
                    return; // the old timeline's audio may still come
                }

                index = a.PendingCount;
            }
            else
            {
                index = a.FindFirstAtOrAfter(boundary.Position);
                if (final)
                {
                    // The stream is over: no later audio will come to close a boundary, and the last audio
                    // segment takes everything left.
                    index = index < 0 || _audioBoundaries.Count == 1 ? a.PendingCount : index;
                }
                else if (index < 0)
                {
                    return; // wait for audio to pass the boundary
                }
            }

            _audioBoundaries.Dequeue();
            if (index > 0)
            {
                ClosePart(a, index, a.PendingFirstArrival);
            }
            else
            {
                Log.EmptyAudioPart(_logger, Name, a.NextMsn);
            }

            if (boundary.SegmentEnd)
            {
                CloseSegment(a);
            }

            if (boundary.Discontinuity)
            {
                a.MarkDiscontinuity();
            }
        }
    }

    private void ClosePart(TrackState track, int count, long firstArrival)
    {
        var part = track.ClosePart(count);
        _dirty = true;
        Interlocked.Increment(ref _partsProduced);
        // Parts are not recorded: playlists list them only near the live edge, which memory always holds, and
        // the recording's segments are the same bytes (a segment is its parts' buffers back to back).
        _publishDelays.Add(_time.GetElapsedTime(firstArrival).TotalSeconds);
    }

    private void CloseSegment(TrackState track)
    {
        if (track == _audio && _video is not null)
        {
            // Same wall-clock mapping as the video segment with this MSN.
            var videoSegments = _video.AllSegments;
            var index = track.NextMsn - (videoSegments.Count > 0 ? videoSegments[0].Msn : 0);
            if (index >= 0 && index < videoSegments.Count)
            {
                var video = videoSegments[(int)index];
                var offset = ((double)track.SegmentStartTime / track.Timescale) - ((double)video.StartTime / 90000);
                track.SegmentProgramDateTime = video.ProgramDateTime.AddSeconds(offset);
            }
        }

        var segment = track.CloseSegment();
        if (segment is null)
        {
            return;
        }

        _dirty = true;
        _segmentsChanged = true;
        Record(track, string.Create(CultureInfo.InvariantCulture, $"{segment.Msn}.m4s"), segment.Body.Chunks);
        if (track == (_video ?? _audio))
        {
            Interlocked.Increment(ref _segmentsProduced);
        }

        var total = 0.0;
        foreach (var t in (ReadOnlySpan<TrackState?>)[_video, _audio])
        {
            if (t is null)
            {
                continue;
            }

            if (t.SegmentBitrate(segment.Msn) is not { } bitrate)
            {
                return; // the other track has not closed this MSN yet
            }

            total += bitrate;
        }

        Volatile.Write(ref _peakBandwidth, Math.Max(_peakBandwidth, total));
    }

    private void Record(TrackState track, string suffix, ReadOnlyMemory<byte>[] chunks) =>
        _recorder.TryWrite(Path.Combine(_recordingDirectory, SessionId, track.Prefix + "_" + suffix), chunks);

    // ---------------------------------------------------------------- publishing

    private int TargetDuration() =>
        FrozenTargetDuration(HlsPlaylistWriter.TargetDurationFor(Math.Max(_video?.MaxSegmentDuration ?? 0, _audio?.MaxSegmentDuration ?? 0), _options.TargetDuration));

    private double PartTarget()
    {
        if (_frozenPartTarget > 0)
        {
            return _frozenPartTarget;
        }

        var value = Math.Max(_options.PartTarget.TotalSeconds, Math.Max(_video?.MaxPartDuration ?? 0, _audio?.MaxPartDuration ?? 0));
        value = Math.Ceiling(value * 100000) / 100000;

        // Frozen once every track has a segment: a changing PART-TARGET breaks iOS players.
        if ((_video is null || _video.NextMsn > 0) && (_audio is null || _audio.NextMsn > 0))
        {
            _frozenPartTarget = value;
        }

        return value;
    }

    private void Publish()
    {
        _dirty = false;
        var targetDuration = TargetDuration();
        var partTarget = PartTarget();
        var video = _video?.CreateView();
        var audio = _audio?.CreateView();
        if (video is not null)
        {
            RenderPlaylists(video, audio, "audio.m3u8", targetDuration, partTarget);
        }

        if (audio is not null)
        {
            RenderPlaylists(audio, video, "video.m3u8", targetDuration, partTarget);
        }

        if (_segmentsChanged || _ended)
        {
            _segmentsChanged = false;
            if (_ladder is null)
            {
                RenderMasterAndMpd();
            }
            else
            {
                _ladder.Update(this, LadderState());
            }
        }

        var view = new StreamView
        {
            Started = _started,
            Ended = _ended,
            Video = video,
            Audio = audio,
            Master = _master,
            Mpd = _mpd,
            TargetDuration = targetDuration,
            MediaSeconds = TotalDuration() + PendingSeconds(video ?? audio),
            TargetDurationFrozen = _targetDurationFrozen > 0 || _isRung,
        };
        Volatile.Write(ref _view, view);
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

        if (_publishDelays.Count > 0)
        {
            var handler = PartPublished;
            foreach (var delay in _publishDelays)
            {
                handler?.Invoke(delay);
            }

            _publishDelays.Clear();
        }
    }

    private void RenderPlaylists(TrackView view, TrackView? other, string otherUri, int targetDuration, double partTarget)
    {
        List<RenditionReport> reports = [];
        if (other is not null && (_ladder is null || other.Kind == TrackKind.Audio || _ladder.ListsSource))
        {
            var (reportMsn, reportPart) = other.LastPart;
            reports.Add(new RenditionReport(other.Kind == TrackKind.Video ? VideoPrefix + ".m3u8" : otherUri, reportMsn, reportPart));
        }

        _ladder?.AddSiblingReports(this, reports);
        var p = new MediaPlaylistParams(SessionId, targetDuration, partTarget, _options.WindowSegments, _ended, reports);
        view.Playlist = new StoredObject(HlsPlaylistWriter.WriteLive(_sb, view, p, skip: false)!, NextETag(), StoredObject.HlsPlaylist);
        if (!_ended && HlsPlaylistWriter.WriteLive(_sb, view, p, skip: true) is { } delta)
        {
            view.DeltaPlaylist = new StoredObject(delta, NextETag(), StoredObject.HlsPlaylist);
        }
    }

    private void RenderMasterAndMpd()
    {
        var tracks = BuildMpdTracks(live: true);
        if (tracks is null)
        {
            return;
        }

        _master = new StoredObject(HlsPlaylistWriter.WriteMaster(_sb, MasterParams(), _independentSegments), NextETag(), StoredObject.HlsPlaylist);
        var window = _options.TargetDuration * _options.WindowSegments;
        var mpd = new MpdParams(SessionId, Dynamic: !_ended, _startWallClock, _time.GetUtcNow(), _options.TargetDuration, window, TotalDuration());
        _mpd = new StoredObject(MpdWriter.Write(_sb, mpd, tracks), NextETag(), StoredObject.DashManifest);
    }

    /// <summary>What the ladder's multivariant playlist and MPD need from this stream (called on its ingest thread).</summary>
    private LadderMemberState LadderState()
    {
        var tracks = BuildMpdTracks(live: !_ended);
        return new LadderMemberState(
            _ended,
            tracks?.FirstOrDefault(t => t.IsVideo),
            tracks?.FirstOrDefault(t => !t.IsVideo),
            _video?.PeakBitrate ?? 0,
            Average(_video),
            _audio?.PeakBitrate ?? 0,
            Average(_audio),
            TotalDuration(),
            TargetDuration());

        static double Average(TrackState? t) => t is null || t.TotalTicks == 0 ? 0 : t.TotalBytes * 8.0 * t.Timescale / t.TotalTicks;
    }

    /// <summary>Null until every track has completed a segment.</summary>
    private List<MpdTrack>? BuildMpdTracks(bool live)
    {
        var tracks = new List<MpdTrack>(2);
        foreach (var t in (ReadOnlySpan<TrackState?>)[_video, _audio])
        {
            if (t is null)
            {
                continue;
            }

            if (t.AllSegments.Count == 0)
            {
                return null;
            }

            IReadOnlyList<SegmentInfo> segments = t.AllSegments;
            if (live && segments.Count > _options.WindowSegments)
            {
                segments = [.. t.AllSegments.Skip(segments.Count - _options.WindowSegments)];
            }

            tracks.Add(new MpdTrack
            {
                Prefix = t.Prefix,
                IsVideo = t.Kind == TrackKind.Video,
                Timescale = t.Timescale,
                Codec = t.Codec,
                Bandwidth = (long)Math.Ceiling(t.PeakBitrate),
                Width = _avc?.Width ?? 0,
                Height = _avc?.Height ?? 0,
                FrameRate = FrameRate(),
                SampleRate = _aac?.SampleRate ?? 0,
                Channels = _aac?.Channels ?? 0,
                Segments = segments,
            });
        }

        return tracks.Count > 0 ? tracks : null;
    }

    private MasterPlaylistParams MasterParams()
    {
        double average = 0;
        foreach (var t in (ReadOnlySpan<TrackState?>)[_video, _audio])
        {
            if (t is not null && t.TotalTicks > 0)
            {
                average += t.TotalBytes * 8.0 * t.Timescale / t.TotalTicks;
            }
        }

        var codecs = _video is not null && _audio is not null ? _video.Codec + "," + _audio.Codec : (_video ?? _audio)!.Codec;
        return new MasterPlaylistParams(
            _video is not null,
            _audio is not null,
            (long)Math.Ceiling(Math.Max(_peakBandwidth, average)),
            (long)Math.Ceiling(average),
            codecs,
            _avc?.Width ?? 0,
            _avc?.Height ?? 0,
            FrameRate(),
            _aac?.Channels ?? 0);
    }

    private double FrameRate()
    {
        if (_avc?.FrameRate is { } vui && vui is > 0 and < 1000)
        {
            return vui;
        }

        return _video is not null && _videoSamples > 1 && _video.NextDecodeTime > 0
            ? Math.Round(90000.0 * (_videoSamples - 1) / _video.NextDecodeTime, 3)
            : 0;
    }

    private static double PendingSeconds(TrackView? lead)
    {
        var seconds = 0.0;
        foreach (var part in lead?.PendingParts ?? [])
        {
            seconds += part.Duration;
        }

        return seconds;
    }

    private double TotalDuration()
    {
        var lead = _video ?? _audio;
        return lead is null || lead.Timescale == 0 ? 0 : (double)lead.TotalTicks / lead.Timescale;
    }

    private string NextETag() => string.Create(CultureInfo.InvariantCulture, $"\"{SessionId}-r{++_renderVersion}\"");

    private async Task FinishRecordingAsync()
    {
        if (_ladder is not null)
        {
            await FinishLadderRecordingAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            if (_master is not null && BuildMpdTracks(live: false) is { } tracks)
            {
                // Build everything on this (ingest) thread's turn; the writes happen on the recorder.
                var sb = new StringBuilder(8192);
                var targetDuration = TargetDuration();
                var files = new List<(string Name, byte[] Bytes)>
                {
                    ("index.m3u8", _master.Chunks[0].ToArray()),
                };
                foreach (var t in (ReadOnlySpan<TrackState?>)[_video, _audio])
                {
                    if (t is not null)
                    {
                        files.Add((t.Prefix + ".m3u8", HlsPlaylistWriter.WriteRecorded(sb, SessionId, t.Prefix, t.AllSegments, targetDuration, _independentSegments)));
                    }
                }

                var mpd = new MpdParams(SessionId, Dynamic: false, _startWallClock, _time.GetUtcNow(), _options.TargetDuration, TimeSpan.Zero, TotalDuration());
                files.Add(("index.mpd", MpdWriter.Write(sb, mpd, tracks)));

                foreach (var (name, bytes) in files)
                {
                    await _recorder.WriteAsync(Path.Combine(_recordingDirectory, name), [bytes], CancellationToken.None).ConfigureAwait(false);
                }

                await _recorder.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.FinishFailed(_logger, Name, ex);
        }
        finally
        {
            _registry.Remove(this);
        }
    }

    /// <summary>
    /// In a ladder every member records its own media playlists; the source also writes the ladder's multivariant
    /// playlist and MPD once every rung has ended (so they list every rendition's last segment), and only then
    /// leaves the registry, so until the recording is complete viewers are answered from memory.
    /// </summary>
    private async Task FinishLadderRecordingAsync()
    {
        try
        {
            var sb = new StringBuilder(8192);
            var targetDuration = TargetDuration();
            var files = new List<(string Name, byte[] Bytes)>();
            foreach (var t in (ReadOnlySpan<TrackState?>)[_video, _audio])
            {
                if (t is not null && t.AllSegments.Count > 0)
                {
                    files.Add((t.Prefix + ".m3u8", HlsPlaylistWriter.WriteRecorded(sb, SessionId, t.Prefix, t.AllSegments, targetDuration, _independentSegments)));
                }
            }

            foreach (var (name, bytes) in files)
            {
                await _recorder.WriteAsync(Path.Combine(_recordingDirectory, name), [bytes], CancellationToken.None).ConfigureAwait(false);
            }

            if (!_isRung)
            {
                // Rungs end when the transcoder has flushed, shortly after the publisher left; bounded, so a wedged
                // transcoder cannot keep the stream in the registry.
                await _ladder!.Completion.WaitAsync(_options.TargetDuration * 10, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                var (master, mpd) = _ladder.FinalDocuments();
                if (master is not null)
                {
                    await _recorder.WriteAsync(Path.Combine(_recordingDirectory, "index.m3u8"), [master], CancellationToken.None).ConfigureAwait(false);
                }

                if (mpd is not null)
                {
                    await _recorder.WriteAsync(Path.Combine(_recordingDirectory, "index.mpd"), [mpd], CancellationToken.None).ConfigureAwait(false);
                }
            }

            await _recorder.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.FinishFailed(_logger, Name, ex);
        }
        finally
        {
            if (!_isRung)
            {
                _registry.Remove(this);
            }
        }
    }

    // ---------------------------------------------------------------- viewer side (any thread)

    /// <summary>The multivariant playlist; waits (up to 3x the target duration) for the first segment.</summary>
    public ValueTask<StoredObject?> GetMasterPlaylistAsync(CancellationToken ct)
    {
        if (_ladder is not null)
        {
            return _ladder.GetMasterAsync(ct);
        }

        var view = View;
        return view.Master is not null || view.Ended
            ? new ValueTask<StoredObject?>(view.Master)
            : WaitForAsync(static v => v.Master, ct);
    }

    /// <summary>The DASH MPD (dynamic while live, static once ended); waits like <see cref="GetMasterPlaylistAsync"/>.</summary>
    public ValueTask<StoredObject?> GetMpdAsync(CancellationToken ct)
    {
        if (_ladder is not null)
        {
            return _ladder.GetMpdAsync(ct);
        }

        var view = View;
        return view.Mpd is not null || view.Ended
            ? new ValueTask<StoredObject?>(view.Mpd)
            : WaitForAsync(static v => v.Mpd, ct);
    }

    /// <summary>
    /// A media playlist, with LL-HLS blocking reload (RFC 8216bis §6.2.5.2) when <paramref name="msn"/> is
    /// given and a delta update (§6.2.5.1) when <paramref name="skip"/> is set.
    /// </summary>
    public ValueTask<PlaylistResult> GetMediaPlaylistAsync(string playlistFile, long? msn, int? part, bool skip, CancellationToken ct)
    {
        TrackKind kind;
        if (playlistFile.Length == VideoPrefix.Length + 5 && playlistFile.StartsWith(VideoPrefix, StringComparison.Ordinal) && playlistFile.EndsWith(".m3u8", StringComparison.Ordinal))
        {
            kind = TrackKind.Video;
        }
        else if (string.Equals(playlistFile, "audio.m3u8", StringComparison.Ordinal) && !_isRung)
        {
            kind = TrackKind.Audio;
        }
        else if (_ladder?.FindRung(playlistFile.AsSpan(0, Math.Max(0, playlistFile.Length - 5))) is { } rung && playlistFile.EndsWith(".m3u8", StringComparison.Ordinal))
        {
            return rung.GetMediaPlaylistAsync(playlistFile, msn, part, skip, ct);
        }
        else
        {
            return new ValueTask<PlaylistResult>(new PlaylistResult(PlaylistStatus.NotFound, null));
        }

        if (msn < 0 || part < 0)
        {
            return new ValueTask<PlaylistResult>(new PlaylistResult(PlaylistStatus.BadRequest, null));
        }

        return TryAnswer(View, kind, msn, part, skip, out var result)
            ? new ValueTask<PlaylistResult>(result)
            : WaitForPlaylistAsync(kind, msn, part, skip, ct);
    }

    /// <summary>
    /// A session file by name without the session folder: <c>video_init.mp4</c>, <c>video_12.m4s</c>,
    /// <c>video_12.3.m4s</c> (same with <c>audio_</c>). Null when unknown or no longer in memory. The part
    /// named by the preload hint, and the segment in progress, are awaited (up to 3x the target duration).
    /// </summary>
    public ValueTask<StoredObject?> GetSessionFileAsync(string fileName, CancellationToken ct)
    {
        if (!TryParseFileName(fileName, VideoPrefix, out var kind, out var msn, out var part) || (_isRung && kind == TrackKind.Audio))
        {
            var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
            return underscore > 0 && _ladder?.FindRung(fileName.AsSpan(0, underscore)) is { } rung && rung != this
                ? rung.GetSessionFileAsync(fileName, ct)
                : new ValueTask<StoredObject?>((StoredObject?)null);
        }

        var view = View;
        var found = Find(view, kind, msn, part);
        if (found is not null || msn < 0 || view.Ended)
        {
            return new ValueTask<StoredObject?>(found);
        }

        // Wait for the part the preload hint names, and for the segment in progress (DASH clients whose
        // clock runs a little ahead ask for it just before it is complete); anything else is unknown.
        var track = view.Track(kind);
        if (track is null || msn != track.NextMsn || (part >= 0 && part != track.PendingParts.Length))
        {
            return new ValueTask<StoredObject?>((StoredObject?)null);
        }

        return WaitForAsync(v => Find(v, kind, msn, part), ct);
    }

    private static StoredObject? Find(StreamView view, TrackKind kind, long msn, int part)
    {
        var track = view.Track(kind);
        if (track is null)
        {
            return null;
        }

        if (msn < 0)
        {
            return track.Init;
        }

        return part < 0 ? track.FindSegment(msn)?.Body : track.FindPart(msn, part)?.Body;
    }

    /// <summary>Parses <c>{video|audio}_{init.mp4|msn.m4s|msn.part.m4s}</c>; msn -1 means the init segment, part -1 a whole segment.</summary>
    internal static bool TryParseFileName(string fileName, out TrackKind kind, out long msn, out int part) =>
        TryParseFileName(fileName, "video", out kind, out msn, out part);

    /// <summary>As above with the video track's own prefix (a ladder rung's, e.g. <c>video360_12.m4s</c>).</summary>
    internal static bool TryParseFileName(string fileName, string videoPrefix, out TrackKind kind, out long msn, out int part)
    {
        var name = fileName.AsSpan();
        msn = -1;
        part = -1;
        if (name.Length > videoPrefix.Length && name.StartsWith(videoPrefix, StringComparison.Ordinal) && name[videoPrefix.Length] == '_')
        {
            kind = TrackKind.Video;
            name = name[(videoPrefix.Length + 1)..];
        }
        else if (name.StartsWith("audio_", StringComparison.Ordinal))
        {
            kind = TrackKind.Audio;
            name = name[6..];
        }
        else
        {
            kind = default;
            return false;
        }

        if (name.SequenceEqual("init.mp4"))
        {
            return true;
        }

        if (!name.EndsWith(".m4s", StringComparison.Ordinal))
        {
            return false;
        }

        name = name[..^4];
        var dot = name.IndexOf('.');
        var msnText = dot < 0 ? name : name[..dot];
        if (!long.TryParse(msnText, NumberStyles.None, CultureInfo.InvariantCulture, out msn))
        {
            return false;
        }

        return dot < 0 || int.TryParse(name[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out part);
    }

    private static bool TryAnswer(StreamView view, TrackKind kind, long? msn, int? part, bool skip, out PlaylistResult result)
    {
        var track = view.Track(kind);
        if (track is null)
        {
            if (view.Started || view.Ended)
            {
                result = new PlaylistResult(PlaylistStatus.NotFound, null);
                return true;
            }

            result = default;
            return false;
        }

        var ok = new PlaylistResult(PlaylistStatus.Ok, skip && track.DeltaPlaylist is not null ? track.DeltaPlaylist : track.Playlist);
        if (view.Ended)
        {
            result = ok;
            return true;
        }

        // Nothing is served before the first segment: it fixes EXT-X-TARGETDURATION, which must not change afterwards
        // (RFC 8216bis §6.2.1), and an encoder's keyframe interval may make it longer than configured.
        var frozen = view.TargetDurationFrozen;
        if (msn is not { } requested)
        {
            result = ok;
            return frozen && track.LastPart.Msn >= 0;
        }

        // §6.2.5.2: more than one segment ahead of the one in progress, or a part beyond the Advance Part
        // Limit (3), cannot be answered in reasonable time.
        if (requested > track.NextMsn + 1
            || (part is { } p && ((requested == track.NextMsn && p > track.PendingParts.Length + 2) || (requested == track.NextMsn + 1 && p > 2))))
        {
            result = new PlaylistResult(PlaylistStatus.BadRequest, null);
            return true;
        }

        var satisfied = part is { } wanted ? track.HasPart(requested, wanted) : requested < track.NextMsn;
        result = ok;
        return satisfied && frozen;
    }

    private async ValueTask<PlaylistResult> WaitForPlaylistAsync(TrackKind kind, long? msn, int? part, bool skip, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        while (true)
        {
            var signal = Volatile.Read(ref _changed).Task;
            if (TryAnswer(View, kind, msn, part, skip, out var result))
            {
                return result;
            }

            var remaining = _waitLimit - _time.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return new PlaylistResult(PlaylistStatus.Unavailable, null);
            }

            await WaitSignalAsync(signal, remaining, ct).ConfigureAwait(false);
        }
    }

    private async ValueTask<StoredObject?> WaitForAsync(Func<StreamView, StoredObject?> select, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        while (true)
        {
            var signal = Volatile.Read(ref _changed).Task;
            var view = View;
            var found = select(view);
            if (found is not null || view.Ended)
            {
                return found;
            }

            var remaining = _waitLimit - _time.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            await WaitSignalAsync(signal, remaining, ct).ConfigureAwait(false);
        }
    }

    private async Task WaitSignalAsync(Task signal, TimeSpan remaining, CancellationToken ct)
    {
        try
        {
            await signal.WaitAsync(remaining, _time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The caller re-checks and reports the timeout.
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static long ToTicks90k(TimeSpan value) => value.Ticks * 9 / 1000;

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Information, "Stream {Name} session {SessionId} started (video {VideoCodec}, audio {AudioCodec})")]
        public static partial void Started(ILogger logger, string name, string sessionId, string videoCodec, string audioCodec);

        [LoggerMessage(2002, LogLevel.Information, "Stream {Name} session {SessionId} ended after {Segments} segments")]
        public static partial void Ended(ILogger logger, string name, string sessionId, long segments);

        [LoggerMessage(2003, LogLevel.Warning, "Stream {Name}: invalid {Track} configuration ignored")]
        public static partial void BadConfig(ILogger logger, string name, string track, Exception exception);

        [LoggerMessage(2004, LogLevel.Warning, "Stream {Name}: {Track} configuration changed mid-stream; ignored")]
        public static partial void ConfigChangeIgnored(ILogger logger, string name, string track);

        [LoggerMessage(2005, LogLevel.Warning, "Stream {Name}: no audio between video boundaries in segment {Msn}")]
        public static partial void EmptyAudioPart(ILogger logger, string name, long msn);

        [LoggerMessage(2006, LogLevel.Error, "Stream {Name}: writing the final recording playlists failed")]
        public static partial void FinishFailed(ILogger logger, string name, Exception exception);
    }
}
