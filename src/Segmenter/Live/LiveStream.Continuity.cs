using Microsoft.Extensions.Logging;

namespace StreamVerse.Segmenter.Live;

/// <summary>
/// Discontinuities: a timestamp jump inside one publish (an encoder stall, a restarted clock) and a publisher that
/// drops and comes back within the reconnect window both start a new timeline. The segment in progress is closed,
/// the next one is marked (HLS EXT-X-DISCONTINUITY, RFC 8216bis §4.4.4.3; a new DASH Period, ISO/IEC 23009-1 §5.3.2),
/// MSNs continue and stay shared by audio and video, and the new timeline starts on a keyframe where the old one
/// ended plus the wall-clock time that passed (so a dynamic MPD's timing stays true to the wall clock).
/// <para>
/// The input clock is mapped to the timeline per track (<c>_zero</c> for video, <c>_audioZero</c> for audio) and
/// per epoch: the video decides when a new epoch starts; audio joins it when its own clock jumps too (held until
/// then if it jumps first), or keeps its clock if it never jumps. A ladder (source or rung) does not cut on jumps:
/// its rungs align to the source's timestamps.
/// </para>
/// </summary>
public sealed partial class LiveStream
{
    /// <summary>A forward step of more than this (and more than 4 frames) between samples is a jump, not jitter.</summary>
    private const long JumpTicks = 90_000;

    /// <summary>Audio frames held after an audio-only jump before deciding that the video is not going to jump (~5 s).</summary>
    private const int MaxHeldAudio = 250;

    private readonly object _gate = new();
    private readonly List<(long Dts, byte[] Data)> _heldAudio = [];
    private readonly TaskCompletionSource _endedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _epoch;
    private long _audioEpoch;
    private long _epochStart;
    private long _epochKeyframeDts;
    private long _audioMinDts;
    private long _lastAudioDts = long.MinValue;
    private bool _epochFirstVideo;
    private bool _awaitKeyframe;
    private bool _audioResync;
    private bool _suspended;
    private DateTimeOffset _lastSampleWall;
    private long _resumeBase;
    private DateTimeOffset _resumeWall;
    private ITimer? _reconnectTimer;
    private long _generation;
    private long _lastFeed;
    private int _targetDurationFrozen;

    private bool _independentSegments = true;

    private bool DetectsJumps => _ladder is null;

    /// <summary>
    /// A segment starts on a frame that is not an IDR: from now on the multivariant playlist and the recording stop
    /// declaring EXT-X-INDEPENDENT-SEGMENTS (RFC 8216bis §4.4.2.1), which would be untrue.
    /// </summary>
    private void NotIndependent()
    {
        if (_independentSegments)
        {
            _independentSegments = false;
            _segmentsChanged = true;
            Log.NotIndependent(_logger, Name);
        }
    }

    /// <summary>Completes when the session has ended (after the reconnect window, if the publisher left).</summary>
    internal Task Ended => _endedSignal.Task;

    /// <summary>The publisher is gone and the session waits (within the reconnect window) for it to come back.</summary>
    public bool IsSuspended => Volatile.Read(ref _suspended);

    private static bool IsJump(long step, long typical) =>
        step < -Math.Max(typical, 1) || step > Math.Max(JumpTicks, 4 * typical);

    /// <summary>
    /// Whether a keyframe-flagged H.264 access unit (4-byte length-prefixed NAL units) is an IDR picture: its first
    /// slice is nal_unit_type 5, not 1 (ITU-T H.264 §7.4.1.2.4). The FLV keyframe flag alone also marks open-GOP
    /// I-frames (recovery points whose leading pictures reference the previous GOP): a segment that starts on one is
    /// not independent. Without a slice to read (a malformed unit), the container's flag is trusted.
    /// </summary>
    internal static bool StartsWithIdr(ReadOnlySpan<byte> accessUnit)
    {
        var at = 0;
        while (at + 5 <= accessUnit.Length)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(accessUnit[at..]);
            switch (accessUnit[at + 4] & 0x1F)
            {
                case 5:
                    return true;
                case 1:
                    return false;
            }

            if (length == 0 || length > (uint)(accessUnit.Length - at - 4))
            {
                break;
            }

            at += 4 + (int)length;
        }

        return true;
    }

    /// <summary>The longest a video segment may grow before it is cut on any frame: one that still rounds to TARGETDURATION.</summary>
    private long MaxSegmentTicks()
    {
        var target = _targetDurationFrozen > 0 ? _targetDurationFrozen : 3 * HlsTargetFromOptions();
        // The matching audio segment may end up to two frames later; EXTINF rounds to the nearest integer (§4.4.3.1).
        return (long)((target + 0.5) * 90000) - (2 * _audioFrameTicks90k) - 90;
    }

    private int HlsTargetFromOptions() => Hls.HlsPlaylistWriter.TargetDurationFor(0, _options.TargetDuration);

    /// <summary>End of what is packaged, on the 90 kHz timeline.</summary>
    private long EndOfMedia()
    {
        var end = _video?.NextDecodeTime ?? 0;
        if (_audio is not null)
        {
            end = Math.Max(end, _audio.NextDecodeTime * 90000 / _audio.Timescale);
        }

        return end;
    }

    /// <summary>Closes the segments in progress at a jump; the next ones start a new timeline.</summary>
    private void BeginDiscontinuity()
    {
        var v = _video;
        if (v is not null)
        {
            if (v.PendingCount > 0)
            {
                v.SetLastDuration((int)_lastVideoDuration);
                ClosePart(v, v.PendingCount, v.PendingFirstArrival);
            }

            CloseSegment(v);
            v.MarkDiscontinuity();
            if (_audio is not null)
            {
                _audioBoundaries.Enqueue(new AudioBoundary(0, SegmentEnd: true, Discontinuity: true));
            }

            _awaitKeyframe = true;
        }
        else if (_audio is { } a)
        {
            if (a.PendingCount > 0)
            {
                ClosePart(a, a.PendingCount, a.PendingFirstArrival);
            }

            CloseSegment(a);
            a.MarkDiscontinuity();
        }

        _resumeBase = EndOfMedia();
        _resumeWall = _lastSampleWall;
    }

    /// <summary>Starts the new timeline at the sample with input <paramref name="dts"/> (a keyframe, or audio without video).</summary>
    private void StartEpoch(long dts, bool resume = false)
    {
        var lastDuration = _video is not null ? _lastVideoDuration : _audioFrameTicks90k;
        var gap = (_time.GetUtcNow() - _resumeWall).TotalSeconds - (lastDuration / 90000.0);
        var position = _resumeBase + (long)Math.Round(Math.Max(0, gap) * 90000);
        _epoch++;
        _zero = dts - position;
        _epochStart = position;
        _epochKeyframeDts = dts;
        _awaitKeyframe = false;
        _epochFirstVideo = _video is not null;
        _dirty = true;
        Log.NewTimeline(_logger, Name, _epoch, _video?.NextMsn ?? _audio?.NextMsn ?? 0);
        if (_audio is null)
        {
            return;
        }

        if (_video is null || resume)
        {
            AdoptEpoch();
            return;
        }

        if (_heldAudio.Count > 0)
        {
            AdoptEpoch();
            var arrival = _time.GetTimestamp();
            foreach (var (heldDts, heldData) in _heldAudio)
            {
                AppendAudio(heldDts, heldData, arrival);
            }

            _heldAudio.Clear();
        }
    }

    /// <summary>The audio joins the current epoch: what it had of the old timeline closes the segment before the discontinuity.</summary>
    private void AdoptEpoch(bool keepClock = false)
    {
        _audioEpoch = _epoch;
        if (_video is not null)
        {
            FlushAudioBoundariesBeforeDiscontinuity();
        }

        if (!keepClock)
        {
            _audioZero = _zero;
            _audioMinDts = _epochKeyframeDts;
        }

        _audioResync = true;
    }

    /// <summary>
    /// Part boundaries queued before the discontinuity take whatever old-timeline audio there is (no more will come),
    /// then the discontinuity boundary takes the rest.
    /// </summary>
    private void FlushAudioBoundariesBeforeDiscontinuity()
    {
        var a = _audio!;
        while (_audioBoundaries.Count > 0 && !_audioBoundaries.Peek().Discontinuity)
        {
            var boundary = _audioBoundaries.Dequeue();
            var index = a.FindFirstAtOrAfter(boundary.Position);
            index = index < 0 ? a.PendingCount : index;
            if (index > 0)
            {
                ClosePart(a, index, a.PendingFirstArrival);
            }

            if (boundary.SegmentEnd)
            {
                CloseSegment(a);
            }
        }

        DrainAudioBoundaries(final: false);
    }

    private void HoldJumpedAudio(long dts, ReadOnlySpan<byte> data)
    {
        _heldAudio.Add((dts, data.ToArray()));
        if (_heldAudio.Count < MaxHeldAudio)
        {
            return;
        }

        // Only the audio jumped: it continues on its own clock (the gap logic resyncs the run).
        var arrival = _time.GetTimestamp();
        foreach (var (heldDts, heldData) in _heldAudio)
        {
            AppendAudio(heldDts, heldData, arrival);
        }

        _heldAudio.Clear();
    }

    // ---------------------------------------------------------------- reconnect window

    /// <summary>
    /// A publisher for this session: the first one, or one that takes over (a reconnect within the window, or a new
    /// publish while the old connection stalls). Calls from an earlier publisher are ignored from then on, and its
    /// <see cref="LivePublisher.Superseded"/> token is cancelled so its connection can be closed.
    /// </summary>
    internal LivePublisher? Attach(TimeSpan reconnectWindow)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return null;
            }

            var previous = _publisher;
            _publisher = new LivePublisher(this, ++_generation, reconnectWindow, _registry);
            Touch();
            previous?.Supersede();
            if (previous is not null && !_suspended && _started && !_ended)
            {
                // Taking over a stalled connection: what it delivered so far is kept; the new publisher continues
                // after a discontinuity as after a reconnect.
                Log.TakenOver(_logger, Name, SessionId);
                Suspend();
            }

            _reconnectTimer?.Dispose();
            _reconnectTimer = null;
            return _publisher;
        }
    }

    private LivePublisher? _publisher;

    /// <summary>Held by <see cref="LivePublisher"/> around every call: the reconnect timer and a takeover run on other threads.</summary>
    internal object Gate => _gate;

    internal bool IsCurrent(long generation) => generation == _generation;

    internal void Touch() => Volatile.Write(ref _lastFeed, _time.GetTimestamp());

    /// <summary>True when the current publisher has delivered nothing for <paramref name="idle"/> (or none is attached).</summary>
    internal bool IsStalled(TimeSpan idle)
    {
        lock (_gate)
        {
            return _publisher is null || _suspended || _time.GetElapsedTime(Volatile.Read(ref _lastFeed)) >= idle;
        }
    }

    /// <summary>The current publisher left: hold the session for the window, or end it (window 0, or never started).</summary>
    internal void Leave(long generation, TimeSpan window)
    {
        lock (_gate)
        {
            if (generation != _generation || _ended)
            {
                return;
            }

            _publisher = null;
            if (window <= TimeSpan.Zero || !_started || _ladder is not null)
            {
                OnEnd();
                return;
            }

            Suspend();
            _reconnectTimer?.Dispose();
            _reconnectTimer = _time.CreateTimer(static state => ((LiveStream)state!).WindowElapsed(), this, window, Timeout.InfiniteTimeSpan);
            Log.Suspended(_logger, Name, SessionId, window.TotalSeconds);
        }
    }

    private void WindowElapsed()
    {
        lock (_gate)
        {
            if (_suspended && !_ended && _publisher is null)
            {
                OnEnd();
            }
        }
    }

    private void StopReconnectTimer()
    {
        _reconnectTimer?.Dispose();
        _reconnectTimer = null;
        _endedSignal.TrySetResult();
    }

    /// <summary>Closes every segment in progress and waits for a keyframe of the next publisher; the presentation stays live.</summary>
    private void Suspend()
    {
        if (_suspended)
        {
            return;
        }

        CloseAll();
        _video?.MarkDiscontinuity();
        _audio?.MarkDiscontinuity();
        _resumeBase = EndOfMedia();
        _resumeWall = _lastSampleWall;
        _heldAudio.Clear();
        _preStartAudio.Clear();
        _awaitKeyframe = false;
        _lastAudioDts = long.MinValue;
        Volatile.Write(ref _suspended, true);
        Publish();
    }

    private void Resume(long dts)
    {
        Volatile.Write(ref _suspended, false);
        _reconnectTimer?.Dispose();
        _reconnectTimer = null;
        Log.Resumed(_logger, Name, SessionId);
        StartEpoch(dts, resume: true);
        ReplayPreStartAudio();
    }

    /// <summary>
    /// Whether a republished codec configuration can continue this session: the init segments are the session's,
    /// so a different one (another resolution, sample rate) needs a new session.
    /// </summary>
    internal bool CanContinueWith(Media.TrackKind kind, ReadOnlySpan<byte> record)
    {
        lock (_gate)
        {
            return !_started || (kind == Media.TrackKind.Video ? _avc is null || record.SequenceEqual(_avc.Record) : _aac is null || record.SequenceEqual(_aac.Record));
        }
    }

    /// <summary>Ends a held session at once (its publisher came back with a configuration it cannot continue).</summary>
    internal void EndNow()
    {
        lock (_gate)
        {
            _publisher = null;
            ++_generation;
            OnEnd();
        }
    }

    /// <summary>RFC 8216bis §4.4.3.1: the target duration must not change; frozen at the first segment.</summary>
    private int FrozenTargetDuration(int computed)
    {
        if (_targetDurationFrozen > 0)
        {
            return _targetDurationFrozen;
        }

        if (!_isRung && (_video ?? _audio) is { } lead && lead.AllSegments.Count > 0)
        {
            _targetDurationFrozen = computed;
        }

        return computed;
    }

    private static partial class Log
    {
        [LoggerMessage(5900, LogLevel.Warning, "Stream {Name}: {Track} timestamps jumped by {Seconds:0.###} s; starting a new timeline (discontinuity)")]
        public static partial void TimestampJump(ILogger logger, string name, string track, double seconds);

        [LoggerMessage(5901, LogLevel.Information, "Stream {Name}: timeline {Epoch} starts at segment {Msn}")]
        public static partial void NewTimeline(ILogger logger, string name, long epoch, long msn);

        [LoggerMessage(5902, LogLevel.Information, "Stream {Name} session {SessionId}: publisher left; holding the session for {Seconds} s")]
        public static partial void Suspended(ILogger logger, string name, string sessionId, double seconds);

        [LoggerMessage(5903, LogLevel.Information, "Stream {Name} session {SessionId}: publisher back; the session continues")]
        public static partial void Resumed(ILogger logger, string name, string sessionId);

        [LoggerMessage(5904, LogLevel.Warning, "Stream {Name} session {SessionId}: a new publisher takes over from a stalled one")]
        public static partial void TakenOver(ILogger logger, string name, string sessionId);

        [LoggerMessage(5906, LogLevel.Warning, "Stream {Name}: a segment starts on a frame that is not an IDR (open GOP, or keyframes further apart than the target duration); EXT-X-INDEPENDENT-SEGMENTS is no longer declared")]
        public static partial void NotIndependent(ILogger logger, string name);

        [LoggerMessage(5905, LogLevel.Warning, "Stream {Name}: no IDR within the target duration; segment {Msn} cut after {Seconds:0.###} s on a frame that is not one")]
        public static partial void ForcedCut(ILogger logger, string name, long msn, double seconds);
    }
}

/// <summary>A video part boundary the audio is cut at (timeline position, 90 kHz), or a discontinuity.</summary>
internal readonly record struct AudioBoundary(long Position, bool SegmentEnd, bool Discontinuity);
