using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// The one writer: drains the <see cref="AnalyticsBuffer"/> in batches of up to <see cref="AnalyticsOptions.BatchSize"/> rows
/// or every <see cref="AnalyticsOptions.FlushInterval"/>, applies the counting rules (<see cref="ViewCounter"/>), writes the
/// rows to the store in one append per table, then adds the batch's counted views to <c>videos.view_count</c> (one
/// statement per video, in one transaction) so "most viewed" sorts by them. Hourly it purges rows older than
/// <see cref="AnalyticsOptions.RetentionDays"/>. A failed flush is logged and its rows dropped (counted); the loop never
/// ends on an exception. Registered after the refresher, whose start applies the migrations (hosted services start in order).
/// </summary>
internal sealed partial class AnalyticsWriter(
    AnalyticsBuffer buffer, IAnalyticsStore store, ViewerKeys keys, Database database, IOptions<AnalyticsOptions> options, TimeProvider time,
    ILogger<AnalyticsWriter> logger) : BackgroundService
{
    private readonly AnalyticsOptions _options = options.Value;
    private readonly ViewCounter _counter = new(options.Value.ViewSeconds, options.Value.MaxStartsPerMinute);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastPurge = long.MinValue;

    /// <summary>Completes once the store's tables exist (the metrics endpoints wait for it).</summary>
    public Task Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
                _ready.TrySetResult();
                break;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.StoreUnavailable(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ConfigureAwait(false);
            }
        }

        var beacons = new List<BeaconBatch>();
        var observations = new List<DeliveryObservation>();
        while (true)
        {
            try
            {
                await WaitAsync(stoppingToken).ConfigureAwait(false);
                Take(beacons, observations);
                if (beacons.Count > 0 || observations.Count > 0)
                {
                    await FlushAsync(beacons, observations, CancellationToken.None).ConfigureAwait(false);
                }

                buffer.UpdateDepth();

                await PurgeIfDueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: what is still buffered goes out once more.
                Take(beacons, observations);
                try
                {
                    if (_ready.Task.IsCompleted && (beacons.Count > 0 || observations.Count > 0))
                    {
                        await FlushAsync(beacons, observations, CancellationToken.None).ConfigureAwait(false);
                    }
                }
                catch (Exception e)
                {
                    Log.FlushFailed(logger, beacons.Count, observations.Count, e);
                }

                return;
            }
            catch (Exception e)
            {
                Log.FlushFailed(logger, beacons.Count, observations.Count, e);
                AnalyticsBuffer.Dropped.WithLabels("store-error").Inc(beacons.Count + observations.Count);
            }
            finally
            {
                beacons.Clear();
                observations.Clear();
            }
        }
    }

    /// <summary>
    /// Polls every <see cref="AnalyticsOptions.FlushInterval"/>, or goes on at once while a full batch waits. (Waiting on two
    /// channels' WaitToReadAsync at once would leave a waiter behind on the idle one every round.)
    /// </summary>
    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        if (buffer.Beacons.Count + buffer.Observations.Count < _options.BatchSize)
        {
            await Task.Delay(_options.FlushInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Take(List<BeaconBatch> beacons, List<DeliveryObservation> observations)
    {
        var rows = 0;
        while (rows < _options.BatchSize && buffer.Beacons.TryRead(out var b))
        {
            beacons.Add(b);
            rows += b.Events.Length;
        }

        while (rows < _options.BatchSize && buffer.Observations.TryRead(out var o))
        {
            observations.Add(o);
            rows++;
        }
    }

    private async Task FlushAsync(List<BeaconBatch> beacons, List<DeliveryObservation> observations, CancellationToken cancellationToken)
    {
        var events = new List<BeaconRow>();
        var views = new List<ViewRow>();
        if (beacons.Count > 0)
        {
            var (durations, premium) = await LookUpAsync(beacons, cancellationToken).ConfigureAwait(false);
            foreach (var b in beacons)
            {
                if (!durations.TryGetValue(b.VideoId, out var duration))
                {
                    AnalyticsBuffer.Filtered.WithLabels("unknown-video").Inc(b.Events.Length);
                    continue;
                }

                var viewer = b.AccountId is null ? keys.Session(b.Session) : await keys.AccountAsync(b.AccountId, cancellationToken).ConfigureAwait(false);
                if (!_counter.Admit(viewer, b.VideoId, b.AddressKey, b.At))
                {
                    AnalyticsBuffer.Filtered.WithLabels("flood").Inc(b.Events.Length);
                    continue;
                }

                Rows(b, viewer, duration, b.AccountId is not null && premium.Contains(b.AccountId), events, views);
            }
        }

        await store.WriteAsync(events, views, observations, cancellationToken).ConfigureAwait(false);
        AnalyticsBuffer.Flushed.WithLabels("beacon_events").Inc(events.Count);
        AnalyticsBuffer.Flushed.WithLabels("views").Inc(views.Count);
        AnalyticsBuffer.Flushed.WithLabels("deliveries").Inc(observations.Count);
        if (views.Count > 0)
        {
            await CountViewsAsync(views, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Rows(BeaconBatch b, string viewer, double? duration, bool premium, List<BeaconRow> events, List<ViewRow> views)
    {
        var session = keys.Session(b.Session);
        var p = premium ? 1L : 0L;
        foreach (var e in b.Events)
        {
            if (e.Kind == BeaconKinds.Heartbeat && e.Ranges.Length > 0)
            {
                foreach (var (from, to) in e.Ranges)
                {
                    // A range past the end of a video of known length is cut there: played time cannot exceed the media.
                    var end = duration is { } d ? Math.Min(to, d + 1) : to;
                    var start = Math.Min(from, end);
                    events.Add(new BeaconRow(b.At, b.VideoId, viewer, session, BeaconKinds.Watch, start, end, e.Value, -1, -1, "", b.Source,
                        b.Agent.Device, b.Agent.Browser, b.Agent.Os, p));
                    if (_counter.Played(viewer, b.VideoId, end - start, duration))
                    {
                        views.Add(new ViewRow(b.At, b.VideoId, viewer, b.Source, b.Agent.Device, b.Agent.Browser, b.Agent.Os));
                    }
                }

                continue;
            }

            var code = e.Kind == BeaconKinds.Error ? (e.Code.Length > 0 ? e.Code : "unknown") : "";
            events.Add(new BeaconRow(b.At, b.VideoId, viewer, session, e.Kind, Math.Max(e.From, -1), Math.Max(e.To, -1), e.Value, e.Width, e.Height, code,
                b.Source, b.Agent.Device, b.Agent.Browser, b.Agent.Os, p));
        }
    }

    /// <summary>The batch's videos that exist (with their duration, when known) and its signed-in viewers that are premium.</summary>
    private async Task<(Dictionary<string, double?> Durations, HashSet<string> Premium)> LookUpAsync(List<BeaconBatch> beacons, CancellationToken cancellationToken)
    {
        var videoIds = beacons.Select(b => b.VideoId).Distinct(StringComparer.Ordinal).ToList();
        var accountIds = beacons.Select(b => b.AccountId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var durations = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var (id, duration) in await db.QueryAsync(
                     $"SELECT id, duration_seconds FROM videos WHERE id {db.Dialect.InList("ids")}", [("ids", db.Dialect.ListValue(videoIds))],
                     static (r, _) => (r.GetString(0), r.IsDBNull(1) ? (double?)null : r.GetDouble(1)), cancellationToken).ConfigureAwait(false))
        {
            durations[id] = duration;
        }

        var premium = accountIds.Count == 0
            ? []
            : (await db.QueryAsync($"SELECT id FROM users WHERE premium AND id {db.Dialect.InList("ids")}", [("ids", db.Dialect.ListValue(accountIds))],
                static (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        return (durations, premium);
    }

    /// <summary>Feeds <c>videos.view_count</c> (ix_videos_views) with the batch's counted views, one statement per video in one transaction.</summary>
    private async Task CountViewsAsync(List<ViewRow> views, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        foreach (var group in views.GroupBy(v => v.VideoId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            await db.ExecAsync("UPDATE videos SET view_count = view_count + @n WHERE id = @id", [("n", (long)group.Count()), ("id", group.Key)],
                cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task PurgeIfDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - _lastPurge < 3_600_000)
        {
            return;
        }

        _lastPurge = now;
        var cutoff = now - (_options.RetentionDays * 86_400_000L);
        foreach (var sql in AnalyticsQueries.Purge(store.Dialect, cutoff))
        {
            await store.ExecAsync(sql, cancellationToken).ConfigureAwait(false);
        }

        Log.Purged(logger, _options.RetentionDays);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6600, Level = LogLevel.Warning, Message = "Analytics store unavailable; retrying in 5 s")]
        public static partial void StoreUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 6601, Level = LogLevel.Error, Message = "Analytics flush failed: {Beacons} beacons and {Observations} observations dropped")]
        public static partial void FlushFailed(ILogger logger, int beacons, int observations, Exception exception);

        [LoggerMessage(EventId = 6602, Level = LogLevel.Information, Message = "Analytics rows older than {Days} days purged")]
        public static partial void Purged(ILogger logger, int days);
    }
}
