using System.Globalization;
using System.Text;
using StreamVerse.Segmenter.Dash;
using StreamVerse.Segmenter.Hls;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Live;

/// <summary>What one member of a ladder last published for the multivariant playlist and the MPD. Immutable.</summary>
internal sealed record LadderMemberState(
    bool Ended,
    MpdTrack? Video,
    MpdTrack? Audio,
    double VideoPeak,
    double VideoAverage,
    double AudioPeak,
    double AudioAverage,
    double Duration,
    int TargetDuration);

/// <summary>
/// A live presentation with several video renditions sharing one audio track (a live ABR ladder): the source
/// stream (registered under the stream name; it carries the audio and, passed through, the source video) and one
/// video-only <see cref="LiveStream"/> per transcoded rung. All share the session id, so every file lives under
/// <c>/live/{name}/{session}/</c> with the rendition as file prefix (<c>video360_12.m4s</c>), and the recording is
/// one folder.
/// <para>
/// Alignment: the source decides where segments start (on its keyframes, by the target duration) and records
/// each start's presentation time, MSN and program date-time here; the transcoder forces a keyframe on exactly
/// the source's keyframes, and a rung cuts a segment only where the source did and takes the source's MSN and
/// PROGRAM-DATE-TIME, so every rendition switches at the same instants (RFC 8216bis §6.2.4 "matching content",
/// ISO/IEC 23009-1 segmentAlignment).
/// </para>
/// <para>
/// Threading: the source runs on the ingest thread, rungs on the transcoder's thread. Members hand their
/// published state to <see cref="Update"/>, which renders the multivariant playlist and the MPD under a lock
/// (rare: once per segment per member); viewers read the immutable result without locking.
/// </para>
/// </summary>
internal sealed class LiveLadder
{
    private const int MaxSegmentStarts = 256;

    private readonly object _gate = new();
    private readonly List<LiveStream> _rungs = [];
    private readonly Dictionary<LiveStream, LadderMemberState> _states = [];
    private readonly Dictionary<long, SegmentStart> _starts = [];
    private readonly Queue<long> _startOrder = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _sb = new(4096);
    private readonly SegmenterOptions _options;
    private readonly TimeProvider _time;
    private readonly TimeSpan _waitLimit;
    private LiveStream? _source;
    private LiveStream[] _members = [];
    private long _zero;
    private DateTimeOffset _startWallClock;
    private long _renderVersion;
    private Documents _documents = new(null, null, false);
    private TaskCompletionSource _changed = NewSignal();

    internal LiveLadder(SegmenterOptions options, TimeProvider time, bool advertiseSource)
    {
        _options = options;
        _time = time;
        _waitLimit = options.TargetDuration * 3;
        AdvertisesSource = advertiseSource;
    }

    /// <summary>The source is listed as a variant (the top one); false keeps it packaged (it is the timeline) but unlisted.</summary>
    public bool AdvertisesSource { get; }

    /// <summary>The source is offered to players: when configured, and always when no rung exists (a source smaller than every rung).</summary>
    internal bool ListsSource => AdvertisesSource || Volatile.Read(ref _members).Length == 1;

    public LiveStream Source => _source!;

    /// <summary>Completes when the source and every rung have ended.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The rungs added so far (read by the transcoder and tests).</summary>
    public IReadOnlyList<LiveStream> Rungs
    {
        get
        {
            lock (_gate)
            {
                return [.. _rungs];
            }
        }
    }

    /// <summary>Input DTS of the source's first keyframe: decode time zero of every member.</summary>
    internal long Zero => Volatile.Read(ref _zero);

    internal DateTimeOffset StartWallClock
    {
        get
        {
            lock (_gate)
            {
                return _startWallClock;
            }
        }
    }

    internal void SetSource(LiveStream source)
    {
        _source = source;
        _members = [source];
    }

    /// <summary>
    /// Adds a transcoded rendition, a video-only sink named <paramref name="prefix"/> (its playlist is
    /// <c>{prefix}.m3u8</c>). Add every rung before the source's first segment completes: the multivariant playlist
    /// waits for each rung it knows.
    /// </summary>
    /// <exception cref="ArgumentException">The prefix is not [a-z0-9]+ starting with "video", is "video", or is taken.</exception>
    public IMediaSink AddRung(string prefix, LiveStreamRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (prefix.Length <= 5 || prefix.Length > 32 || !prefix.StartsWith("video", StringComparison.Ordinal) || !prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            throw new ArgumentException("A rung's prefix is 'video' followed by lower-case letters or digits.", nameof(prefix));
        }

        lock (_gate)
        {
            if (_rungs.Any(r => r.VideoPrefix == prefix))
            {
                throw new ArgumentException($"Rung {prefix} exists.", nameof(prefix));
            }

            var rung = registry.CreateRung(Source, this, prefix);
            _rungs.Add(rung);
            _members = [Source, .. _rungs];
            return rung;
        }
    }

    internal LiveStream? FindRung(ReadOnlySpan<char> prefix)
    {
        foreach (var member in Volatile.Read(ref _members))
        {
            if (member != _source && prefix.SequenceEqual(member.VideoPrefix))
            {
                return member;
            }
        }

        return null;
    }

    // ---------------------------------------------------------------- alignment (source writes, rungs read)

    internal readonly record struct SegmentStart(long Msn, DateTimeOffset ProgramDateTime);

    internal void SourceStarted(long zeroDts, DateTimeOffset wallClock)
    {
        lock (_gate)
        {
            _startWallClock = wallClock;
        }

        Volatile.Write(ref _zero, zeroDts);
    }

    /// <summary>The source began segment <paramref name="msn"/> with the keyframe presented at <paramref name="pts"/>.</summary>
    internal void SourceSegmentStarted(long pts, long msn, DateTimeOffset programDateTime)
    {
        lock (_gate)
        {
            if (_starts.TryAdd(pts, new SegmentStart(msn, programDateTime)))
            {
                _startOrder.Enqueue(pts);
                if (_startOrder.Count > MaxSegmentStarts)
                {
                    _starts.Remove(_startOrder.Dequeue());
                }
            }
        }
    }

    /// <summary>The source segment that starts at this presentation time, if any (rungs lag the source, so it is known).</summary>
    internal SegmentStart? SegmentStartAt(long pts)
    {
        lock (_gate)
        {
            return _starts.TryGetValue(pts, out var start) ? start : null;
        }
    }

    /// <summary>EXT-X-RENDITION-REPORTs for the other renditions listed in the multivariant playlist.</summary>
    internal void AddSiblingReports(LiveStream self, List<RenditionReport> reports)
    {
        foreach (var member in Volatile.Read(ref _members))
        {
            if (member == self)
            {
                continue;
            }

            var view = member.View;
            if (member != _source && view.Ended && !self.View.Ended && !_source!.View.Ended)
            {
                continue; // a rung that failed early is not listed in the multivariant playlist either
            }

            if (view.Video is { } video && (member != _source || ListsSource))
            {
                var (msn, part) = video.LastPart;
                reports.Add(new RenditionReport(member.VideoPrefix + ".m3u8", msn, part));
            }

            if (view.Audio is { } audio)
            {
                var (msn, part) = audio.LastPart;
                reports.Add(new RenditionReport("audio.m3u8", msn, part));
            }
        }
    }

    // ---------------------------------------------------------------- composite documents

    private sealed record Documents(StoredObject? Master, StoredObject? Mpd, bool Ended);

    /// <summary>A member published a new segment, or ended: re-render the multivariant playlist and the MPD.</summary>
    internal void Update(LiveStream member, LadderMemberState state)
    {
        lock (_gate)
        {
            _states[member] = state;
            var members = _members;
            var ended = members.All(m => _states.TryGetValue(m, out var s) && s.Ended);
            var documents = Render(members, ended) ?? _documents with { Ended = ended };
            Volatile.Write(ref _documents, documents);
            if (ended)
            {
                _completion.TrySetResult();
            }
        }

        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
    }

    /// <summary>The last documents (static once everything ended), as bytes for the recording.</summary>
    internal (byte[]? Master, byte[]? Mpd) FinalDocuments()
    {
        var d = Volatile.Read(ref _documents);
        return (d.Master?.Chunks[0].ToArray(), d.Mpd?.Chunks[0].ToArray());
    }

    /// <summary>Null while the source, or a rung, has no segment yet (a rung gets up to 3 source segments to catch up, then is left out).</summary>
    private Documents? Render(LiveStream[] members, bool ended)
    {
        if (!_states.TryGetValue(_source!, out var source))
        {
            return null;
        }

        if (source.Video is null)
        {
            // An audio-only publish to a ladder stream: nothing to transcode, one audio variant as without a ladder.
            if (source.Audio is not { } only || members.Length > 1)
            {
                return null;
            }

            var variant = new VariantParams("audio.m3u8", (long)Math.Ceiling(Math.Max(source.AudioPeak, source.AudioAverage)), (long)Math.Ceiling(source.AudioAverage), only.Codec, 0, 0, 0);
            var audioMpd = new MpdParams(_source!.SessionId, Dynamic: !ended, _startWallClock, _time.GetUtcNow(), _options.TargetDuration, _options.TargetDuration * _options.WindowSegments, source.Duration);
            return new Documents(
                new StoredObject(HlsPlaylistWriter.WriteVodMaster(_sb, [variant], null, 0, version: 9), NextETag(), StoredObject.HlsPlaylist),
                new StoredObject(MpdWriter.Write(_sb, audioMpd, [only]), NextETag(), StoredObject.DashManifest),
                ended);
        }

        var renditions = new List<(LiveStream Member, LadderMemberState State)>();
        foreach (var member in members)
        {
            if (_states.TryGetValue(member, out var state) && state.Video is not null)
            {
                // A rung that ended while the source goes on (its transcoder failed) is no longer offered.
                if ((member != _source || ListsSource) && (member == _source || !state.Ended || source.Ended))
                {
                    renditions.Add((member, state));
                }
            }
            else if (member != _source && source.Video.Segments.Count < 3 && !source.Ended)
            {
                return null; // wait for this rung's first segment
            }
        }

        if (renditions.Count == 0)
        {
            return null;
        }

        renditions.Sort((a, b) => a.State.Video!.Height != b.State.Video!.Height
            ? a.State.Video.Height.CompareTo(b.State.Video.Height)
            : a.State.VideoPeak.CompareTo(b.State.VideoPeak));

        var audio = source.Audio;
        var variants = new List<VariantParams>(renditions.Count);
        var tracks = new List<MpdTrack>(renditions.Count + 1);
        foreach (var (member, state) in renditions)
        {
            var video = state.Video!;
            var codecs = audio is null ? video.Codec : video.Codec + "," + audio.Codec;
            var peak = state.VideoPeak + source.AudioPeak;
            var average = state.VideoAverage + source.AudioAverage;
            variants.Add(new VariantParams(member.VideoPrefix + ".m3u8", (long)Math.Ceiling(Math.Max(peak, average)), (long)Math.Ceiling(average), codecs, video.Width, video.Height, video.FrameRate));
            tracks.Add(video);
        }

        if (!ended)
        {
            TrimToCommonEdge(tracks);
        }

        if (audio is not null)
        {
            tracks.Add(audio);
        }

        var master = HlsPlaylistWriter.WriteVodMaster(_sb, variants, audio is null ? null : "audio.m3u8", audio?.Channels ?? 0, version: 9);
        var window = _options.TargetDuration * _options.WindowSegments;
        var mpd = new MpdParams(_source!.SessionId, Dynamic: !ended, _startWallClock, _time.GetUtcNow(), _options.TargetDuration, window, source.Duration);
        return new Documents(
            new StoredObject(master, NextETag(), StoredObject.HlsPlaylist),
            new StoredObject(MpdWriter.Write(_sb, mpd, tracks), NextETag(), StoredObject.DashManifest),
            ended);
    }

    /// <summary>
    /// A live MPD lists, for every video Representation, only the segments all of them have completed: rungs lag
    /// the source by the transcoder's latency, and a timeline that runs ahead in one Representation only would
    /// make a DASH client ask a lagging one for a segment it does not have yet (and it would defeat the shared
    /// SegmentTemplate, which needs identical timelines).
    /// </summary>
    private static void TrimToCommonEdge(List<MpdTrack> videos)
    {
        if (videos.Count < 2)
        {
            return;
        }

        var edge = long.MaxValue;
        foreach (var t in videos)
        {
            if (t.Segments.Count == 0)
            {
                return;
            }

            var last = t.Segments[^1];
            edge = Math.Min(edge, last.StartTime + last.Ticks);
        }

        for (var i = 0; i < videos.Count; i++)
        {
            var t = videos[i];
            var kept = t.Segments.Where(s => s.StartTime + s.Ticks <= edge).ToList();
            if (kept.Count > 0 && kept.Count < t.Segments.Count)
            {
                videos[i] = new MpdTrack
                {
                    Prefix = t.Prefix,
                    IsVideo = t.IsVideo,
                    Timescale = t.Timescale,
                    Codec = t.Codec,
                    Bandwidth = t.Bandwidth,
                    Width = t.Width,
                    Height = t.Height,
                    FrameRate = t.FrameRate,
                    SampleRate = t.SampleRate,
                    Channels = t.Channels,
                    Segments = kept,
                };
            }
        }
    }

    private string NextETag() => string.Create(CultureInfo.InvariantCulture, $"\"{_source!.SessionId}-l{++_renderVersion}\"");

    // ---------------------------------------------------------------- viewer side

    /// <summary>The multivariant playlist; waits (up to 3x the target duration) for every rendition's first segment.</summary>
    public ValueTask<StoredObject?> GetMasterAsync(CancellationToken ct) => GetAsync(static d => d.Master, ct);

    /// <summary>The MPD (dynamic until every rendition ended); waits like <see cref="GetMasterAsync"/>.</summary>
    public ValueTask<StoredObject?> GetMpdAsync(CancellationToken ct) => GetAsync(static d => d.Mpd, ct);

    private ValueTask<StoredObject?> GetAsync(Func<Documents, StoredObject?> select, CancellationToken ct)
    {
        var d = Volatile.Read(ref _documents);
        return select(d) is { } found || d.Ended ? new ValueTask<StoredObject?>(select(d)) : WaitAsync(select, ct);
    }

    private async ValueTask<StoredObject?> WaitAsync(Func<Documents, StoredObject?> select, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        while (true)
        {
            var signal = Volatile.Read(ref _changed).Task;
            var d = Volatile.Read(ref _documents);
            if (select(d) is { } found)
            {
                return found;
            }

            var remaining = _waitLimit - _time.GetElapsedTime(start);
            if (d.Ended || remaining <= TimeSpan.Zero)
            {
                return null;
            }

            try
            {
                await signal.WaitAsync(remaining, _time, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // re-checked above
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
