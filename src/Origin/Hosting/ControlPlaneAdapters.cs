using System.Net;
using Microsoft.Extensions.Options;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Live;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.StreamKeys;
using StreamVerse.ControlPlane.Videos;
using StreamVerse.Origin.Http;
using StreamVerse.Origin.Live;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Vod;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Hosting;

/// <summary>
/// Publish keys: the static <c>--stream NAME=KEY</c> ones first (constant-time, no I/O), then the control plane's
/// per-channel keys.
/// </summary>
internal sealed class CompositeStreamKeyResolver(ConfigurationStreamKeyResolver configured, LiveIngest ingest,
    Microsoft.Extensions.Options.IOptionsMonitor<RtmpOptions> options, LiveStreamRegistry registry) : IStreamKeyResolver
{
    public async ValueTask<PublishGrant?> CheckAsync(string app, string key, CancellationToken cancellationToken)
    {
        if (configured.TryResolve(app, key, out var name))
        {
            return new PublishGrant(null, name!);
        }

        if (!string.Equals(app, options.CurrentValue.Application, StringComparison.Ordinal))
        {
            return null;
        }

        // The subject is the key's digest (never the key): the broadcast starts only if the key still has it.
        return await ingest.CheckAsync(key, cancellationToken).ConfigureAwait(false) is { } live ? new PublishGrant(live.KeyId, live.Hash) : null;
    }

    public async ValueTask<string?> BeginAsync(PublishGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return grant.StreamKeyId is null
            ? grant.Subject
            : await ingest.BeginAsync(new LiveIngest.LiveKey(grant.StreamKeyId, grant.Subject), cancellationToken, registry.WouldContinue).ConfigureAwait(false);
    }
}

/// <summary>
/// The control plane's view of the running RTMP/RTMPS/SRT publishes: it ends them (key revoked, broadcast ended, a ban)
/// and reads their health, with warnings against what the segmenter needs.
/// </summary>
internal sealed class ControlPlaneLivePublishers(RtmpPublishers publishers, IOptions<SegmenterOptions> segmenter, Audience.LiveViewers viewers) : ILivePublishers, ILiveHealth
{
    public int Disconnect(IReadOnlyCollection<string> streamKeyIds, string reason) => publishers.Disconnect(streamKeyIds, reason);

    public List<LivePublishHealth> Of(IReadOnlyCollection<string> streamKeyIds) =>
        [.. publishers.Find(streamKeyIds).Select(p => Map(p, segmenter.Value, viewers))];

    private static LivePublishHealth Map(RtmpPublishInfo publish, SegmenterOptions segmenter, Audience.LiveViewers viewers)
    {
        var h = publish.Health;
        return new LivePublishHealth(
            publish.StreamKeyId!,
            publish.StreamName,
            Math.Round(h.Uptime.TotalSeconds, 3),
            Math.Round(h.BitsPerSecond / 1000, 1),
            Round(h.FrameRate, 2),
            Round(h.KeyframeIntervalSeconds, 3),
            Round(h.MaxKeyframeIntervalSeconds, 3),
            Round(h.AvDriftMilliseconds, 1),
            h.VideoFrames,
            h.AudioFrames,
            h.DroppedFrames,
            StreamHealthWarnings.Of(h, segmenter.TargetDuration),
            publish.StreamName is { } name ? viewers.Count(name) : 0,
            publish.Protocol,
            publish.Link is { } l ? new LiveLinkHealth(l.PacketsReceived, l.PacketsLost, l.PacketsRetransmitted, l.PacketsDropped, Math.Round(l.ReceiveRateMbps, 3), l.ContinuityErrors) : null);
    }

    private static double? Round(double? value, int digits) => value is { } v ? Math.Round(v, digits) : null;
}

/// <summary>
/// The segmenter as publish target, telling the control plane when a publish ends (its live video becomes "ended").
/// Per stream name, <c>StreamVerse:Live:Transcode</c> decides between passthrough (the stream as published) and a
/// live ladder (the source plus rungs transcoded in-process, see <see cref="LiveLadderSink"/>).
/// </summary>
internal sealed partial class ControlPlanePublishTarget : ILivePublishTarget
{
    private readonly LiveStreamRegistry _registry;
    private readonly LiveIngest _ingest;
    private readonly LiveTranscodeOptions _transcode;
    private readonly ILogger _logger;

    private readonly Cluster.StreamDirectory? _directory;

    public ControlPlanePublishTarget(LiveStreamRegistry registry, LiveIngest ingest, IOptions<LiveTranscodeOptions> transcode, ILogger<ControlPlanePublishTarget> logger,
        Cluster.StreamDirectory? directory = null)
    {
        _directory = directory;
        _registry = registry;
        _ingest = ingest;
        _transcode = transcode.Value;
        _logger = logger;
        LiveMetrics.Observe(registry);
    }

    public IMediaSink? TryBeginPublish(string streamName)
    {
        if (_transcode.PlanFor(streamName) is { } plan)
        {
            try
            {
                LibAv.EnsureInitialized();
                var ladder = _registry.TryStartLadder(streamName, plan.IncludeSource);
                if (ladder is null)
                {
                    return null;
                }

                var settings = new LiveLadderSettings(plan.Rungs, plan.Preset, plan.QueueFrames, plan.QueueBytes);
                var sink = new LiveLadderSink(ladder, _registry, settings, _logger, LiveMetrics.DroppedGop);
                LiveMetrics.Meter(ladder.Source);
                _directory?.Claim(streamName);
                return new EndNotifyingSink(sink, streamName, _ingest);
            }
            catch (Exception ex) when (ex is NotSupportedException or DllNotFoundException or EntryPointNotFoundException)
            {
                // libav missing or of the wrong version: the stream still goes live, as it was published.
                Log.LadderUnavailable(_logger, streamName, ex);
            }
        }

        var publisher = _registry.TryBeginPublish(streamName, out var continued);
        if (publisher is null)
        {
            return null;
        }

        var stream = publisher.Stream;
        var published = _published.GetValue(stream, static _ => new PublishedTime());
        if (!continued)
        {
            LiveMetrics.Meter(stream);

            // The broadcast ends with its session: at once on an unpublish, else when the reconnect window passes.
            _ = stream.Ended.ContinueWith(
                _ => _ingest.EndedAsync(streamName, published.Total, CancellationToken.None),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        // The cluster's stream directory now names this origin (a publish here takes the name over from any other).
        _directory?.Claim(streamName);
        return new EndNotifyingSink(publisher, streamName, _ingest, published);
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<LiveStream, PublishedTime> _published = new();

    /// <summary>Media time published into one session, summed over its publishers' connections.</summary>
    private sealed class PublishedTime
    {
        private long _ticks = -1;

        public TimeSpan? Total
        {
            get
            {
                var ticks = Interlocked.Read(ref _ticks);
                return ticks < 0 ? null : TimeSpan.FromSeconds(ticks / 90_000.0);
            }
        }

        public void Add(long ticks)
        {
            long seen, next;
            do
            {
                seen = Interlocked.Read(ref _ticks);
                next = Math.Max(0, seen) + ticks;
            }
            while (Interlocked.CompareExchange(ref _ticks, next, seen) != seen);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "Stream {Name} is configured as a live ladder, but libav is unavailable; passing it through")]
        public static partial void LadderUnavailable(ILogger logger, string name, Exception exception);
    }

    /// <summary>Passes everything on, and on the end tells the control plane how much media time was published.</summary>
    /// <param name="published">A live session's publishers share it: the session's end reports their total (not this sink).</param>
    private sealed class EndNotifyingSink(IMediaSink inner, string streamName, LiveIngest ingest, PublishedTime? published = null) : IMediaSink, IPublishSession
    {
        private long _first = long.MinValue;
        private long _end;
        private long _lastVideo = long.MinValue;
        private long _lastAudio = long.MinValue;

        public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord) => inner.OnVideoConfig(avcDecoderConfigurationRecord);

        public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig) => inner.OnAudioConfig(audioSpecificConfig);

        public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
        {
            Measure(ref track == TrackKind.Video ? ref _lastVideo : ref _lastAudio, dts);
            inner.OnSample(track, dts, pts, isKeyframe, data);
        }

        /// <summary>From the first sample's DTS to the last one's plus its track's last interval (its own duration).</summary>
        private void Measure(ref long last, long dts)
        {
            if (_first == long.MinValue)
            {
                _first = dts;
            }

            var interval = last == long.MinValue ? 0 : dts - last;
            last = dts;
            if (interval is > 0 and < 10 * 90_000)
            {
                _end = Math.Max(_end, dts + interval);
            }
            else
            {
                _end = Math.Max(_end, dts);
            }
        }

        public CancellationToken Superseded => inner is IPublishSession session ? session.Superseded : CancellationToken.None;

        public void MarkUnpublished() => (inner as IPublishSession)?.MarkUnpublished();

        public void OnEnd()
        {
            if (published is not null)
            {
                if (_first != long.MinValue)
                {
                    published.Add(_end - _first);
                }

                inner.OnEnd();
                return;
            }

            inner.OnEnd();
            TimeSpan? duration = _first == long.MinValue ? null : TimeSpan.FromSeconds((_end - _first) / 90_000.0);

            // The ingest thread must not wait on the database; the update logs its own failure. Not cancelled at
            // shutdown: a publish ended by shutdown should still be recorded as ended.
            _ = ingest.EndedAsync(streamName, duration, CancellationToken.None);
        }
    }
}

/// <summary>The origin's playback check, answered by the control plane's in-memory gate.</summary>
internal sealed class ControlPlanePlaybackAuthorizer(PlaybackGate gate) : IPlaybackAuthorizer
{
    public bool Allows(string streamName, ReadOnlySpan<char> token, IPAddress? client) => gate.Allows(streamName, token, client);
}

/// <summary>VOD delivery's catalog: the control plane's cached <c>vod_prefix</c> lookup and its blob storage.</summary>
internal sealed class ControlPlaneVodCatalog(VodCatalog catalog, IBlobStorage storage) : IVodCatalog
{
    /// <summary>One origin-side view per cached control-plane entry: mapped once, not per request.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<VodEntry, VodPresentation> _views = new();

    public async Task<VodPresentation?> ResolveAsync(string videoId, CancellationToken cancellationToken) =>
        await catalog.ResolveAsync(videoId, cancellationToken).ConfigureAwait(false) is { } entry
            ? _views.GetValue(entry, e => new VodPresentation(e.Prefix, e.DurationSeconds, [.. e.Captions.Select(c => new VodCaption(c.Language, c.Label, c.File))], e.CaptionsTag))
            : null;

    public async Task<VodFileInfo?> StatAsync(string key, CancellationToken cancellationToken) =>
        await storage.StatAsync(key, cancellationToken).ConfigureAwait(false) is { } info ? Map(info) : null;

    public async Task<(Stream Content, VodFileInfo Info)?> OpenReadAsync(string key, long offset, long length, CancellationToken cancellationToken) =>
        await storage.OpenReadAsync(key, offset, length, cancellationToken).ConfigureAwait(false) is { } read ? (read.Content, Map(read.Info)) : null;

    public string? LocalPathOf(string key) => storage.LocalPathOf(key);

    private static VodFileInfo Map(BlobInfo info) => new(info.Length, info.ContentType, info.ETag, info.LastModified);
}

/// <summary>Chat's question to the media path: the live edge's media time of a broadcast this daemon ingests (stream name = video id).</summary>
internal sealed class SegmenterLiveMediaClock(LiveStreamRegistry registry) : StreamVerse.ControlPlane.Chat.ILiveMediaClock
{
    public TimeSpan? CurrentMediaTime(string videoId) =>
        registry.FindLive(videoId) is { IsEnded: false } stream ? TimeSpan.FromSeconds(stream.MediaSeconds) : null;
}
