using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Rtmp;

/// <summary>What one publish looks like from the ingest, at one instant.</summary>
/// <param name="Uptime">Since the publish was accepted.</param>
/// <param name="BitsPerSecond">Media payload received over the last complete seconds (up to five).</param>
/// <param name="FrameRate">Video frames per second of media time over the last complete GOP (before one: since the first frame).</param>
/// <param name="KeyframeIntervalSeconds">Media time between the last two keyframes.</param>
/// <param name="MaxKeyframeIntervalSeconds">The longest keyframe interval seen in this publish.</param>
/// <param name="AvDriftMilliseconds">How far the video timeline runs ahead of the audio timeline, against the arrival clock.</param>
/// <param name="DroppedFrames">Frames the ingest could not use (before their track's configuration, or beyond the wait buffer).</param>
internal readonly record struct IngestHealthSnapshot(
    TimeSpan Uptime,
    double BitsPerSecond,
    double? FrameRate,
    double? KeyframeIntervalSeconds,
    double? MaxKeyframeIntervalSeconds,
    double? AvDriftMilliseconds,
    long VideoFrames,
    long AudioFrames,
    long DroppedFrames);

/// <summary>
/// Measures one publish as its samples pass: written by the connection's read loop, read by the control plane's
/// health endpoint. Per sample it updates a few fields under an uncontended lock and allocates nothing; the byte
/// rate lives in a ring of one-second buckets.
/// </summary>
internal sealed class IngestHealth
{
    private const int Buckets = 6;
    private const int RateSeconds = Buckets - 1;
    private const double TicksPerSecond = 90_000;

    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly object _gate = new();
    private readonly long[] _bucketSecond = [-1, -1, -1, -1, -1, -1];
    private readonly long[] _bucketBytes = new long[Buckets];

    private long _bytes;
    private long _videoFrames;
    private long _audioFrames;
    private long _dropped;

    private long _firstVideoDts = long.MinValue;
    private long _lastVideoDts;
    private long _lastVideoArrival;
    private long _lastAudioDts = long.MinValue;
    private long _lastAudioArrival;

    private long _gopStart = long.MinValue;
    private long _gopFrames;
    private long _lastGopTicks;
    private long _lastGopFrames;
    private long _maxGopTicks;

    public IngestHealth(TimeProvider time)
    {
        _time = time;
        _started = time.GetTimestamp();
    }

    /// <summary>One sample handed to the sink (90 kHz DTS).</summary>
    public void OnSample(TrackKind track, long dts, bool isKeyframe, int length)
    {
        var now = _time.GetTimestamp();
        var second = (long)_time.GetElapsedTime(_started, now).TotalSeconds;
        lock (_gate)
        {
            var slot = (int)(second % Buckets);
            if (_bucketSecond[slot] != second)
            {
                _bucketSecond[slot] = second;
                _bucketBytes[slot] = 0;
            }

            _bucketBytes[slot] += length;
            _bytes += length;
            if (track == TrackKind.Audio)
            {
                _audioFrames++;
                _lastAudioDts = dts;
                _lastAudioArrival = now;
                return;
            }

            _videoFrames++;
            if (_firstVideoDts == long.MinValue)
            {
                _firstVideoDts = dts;
            }

            _lastVideoDts = dts;
            _lastVideoArrival = now;
            if (isKeyframe)
            {
                if (_gopStart != long.MinValue && dts > _gopStart)
                {
                    _lastGopTicks = dts - _gopStart;
                    _lastGopFrames = _gopFrames;
                    _maxGopTicks = Math.Max(_maxGopTicks, _lastGopTicks);
                }

                _gopStart = dts;
                _gopFrames = 0;
            }

            _gopFrames++;
        }
    }

    /// <summary>Frames the ingest had to drop.</summary>
    public void Dropped(int frames) => Interlocked.Add(ref _dropped, frames);

    public IngestHealthSnapshot Snapshot()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_started, now);
        var second = (long)elapsed.TotalSeconds;
        lock (_gate)
        {
            // The complete seconds before this one; a publish younger than a second is measured over its age.
            double bits;
            if (second == 0)
            {
                bits = elapsed.TotalSeconds > 0 ? _bytes * 8 / elapsed.TotalSeconds : 0;
            }
            else
            {
                long sum = 0;
                var from = Math.Max(0, second - RateSeconds);
                for (var s = from; s < second; s++)
                {
                    var slot = (int)(s % Buckets);
                    sum += _bucketSecond[slot] == s ? _bucketBytes[slot] : 0;
                }

                bits = sum * 8.0 / (second - from);
            }

            double? frameRate = _lastGopTicks > 0
                ? _lastGopFrames * TicksPerSecond / _lastGopTicks
                : _videoFrames > 1 && _lastVideoDts > _firstVideoDts ? (_videoFrames - 1) * TicksPerSecond / (_lastVideoDts - _firstVideoDts) : null;

            // Each track's latest DTS against its arrival: a positive drift is video ahead of audio.
            double? drift = _videoFrames > 0 && _lastAudioDts != long.MinValue
                ? ((_lastVideoDts - _lastAudioDts) / 90.0) - _time.GetElapsedTime(_lastAudioArrival, _lastVideoArrival).TotalMilliseconds
                : null;

            return new IngestHealthSnapshot(
                elapsed,
                bits,
                frameRate,
                _lastGopTicks > 0 ? _lastGopTicks / TicksPerSecond : null,
                _maxGopTicks > 0 ? _maxGopTicks / TicksPerSecond : null,
                drift,
                _videoFrames,
                _audioFrames,
                Interlocked.Read(ref _dropped));
        }
    }
}
