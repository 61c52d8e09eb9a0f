using System.Globalization;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// The query set, one text for both stores: plain SQL that DuckDB and ClickHouse 18.16 both accept (count(DISTINCT),
/// CASE, floor, IN (subquery), GROUP BY/ORDER BY aliases), with the quantile function and literal quoting from
/// <see cref="AnalyticsDialect"/>. Every filter is a literal the code made: ids checked by the caller, numbers, and the
/// fixed column names below. Times are unix ms, ranges half-open [from, to).
/// </summary>
internal static class AnalyticsQueries
{
    private static readonly string[] Tables = ["beacon_events", "views", "deliveries"];

    public static IEnumerable<string> Purge(AnalyticsDialect d, long before) =>
        Tables.Select(t => Delete(d, t, $"ts < {AnalyticsDialect.Number(before)}"));

    /// <summary>Every row of one viewer key (account deletion).</summary>
    public static IEnumerable<string> ForgetViewer(AnalyticsDialect d, string viewer) =>
        new[] { "beacon_events", "views" }.Select(t => Delete(d, t, $"viewer = {d.Quote(viewer)}"));

    private static string Delete(AnalyticsDialect d, string table, string where) =>
        d == AnalyticsDialect.ClickHouse ? $"ALTER TABLE {table} DELETE WHERE {where}" : $"DELETE FROM {table} WHERE {where}";

    public static async Task<VideoAnalyticsResponse> VideoAsync(IAnalyticsStore store, string videoId, double? duration, DateTimeOffset from, DateTimeOffset to,
        string granularity, CancellationToken ct)
    {
        var d = store.Dialect;
        var scope = $"video_id = {d.Quote(videoId)} AND ts >= {Ms(from)} AND ts < {Ms(to)}";
        var views = await store.QueryAsync($"SELECT count(*), count(DISTINCT viewer) FROM views WHERE {scope}", ct).ConfigureAwait(false);
        var watch = await store.QueryAsync(
            $"""
            SELECT count(DISTINCT viewer), count(DISTINCT session), sum(pos_end - pos_start),
                   sum(CASE WHEN value > 0 THEN (pos_end - pos_start) * value ELSE 0 END), sum(CASE WHEN value > 0 THEN pos_end - pos_start ELSE 0 END)
            FROM beacon_events WHERE {scope} AND kind = 'watch'
            """, ct).ConfigureAwait(false);
        var watchSeconds = Cell.Num(watch[0][2]);
        var sessions = Cell.Num(watch[0][1]);
        var weighted = Cell.Num(watch[0][4]);
        var qoe = await QoeAsync(store, scope, videoId, watchSeconds, weighted > 0 ? Cell.Num(watch[0][3]) / weighted : null, ct).ConfigureAwait(false);
        return new VideoAnalyticsResponse(videoId, from, to, granularity, Cell.Long(views[0][0]), Cell.Long(watch[0][0]), watchSeconds,
            sessions > 0 ? watchSeconds / sessions : 0, await RetentionAsync(store, scope, duration, ct).ConfigureAwait(false),
            await CountsAsync(store, "views", "source", scope, ct).ConfigureAwait(false), await CountsAsync(store, "views", "device", scope, ct).ConfigureAwait(false),
            await CountsAsync(store, "views", "browser", scope, ct).ConfigureAwait(false), await CountsAsync(store, "views", "os", scope, ct).ConfigureAwait(false),
            qoe, await LiveAsync(store, scope, ct).ConfigureAwait(false), await EgressAsync(store, scope, ct).ConfigureAwait(false),
            await SeriesAsync(store, scope, from, to, granularity, ct).ConfigureAwait(false));
    }

    private static async Task<QoeMetrics> QoeAsync(IAnalyticsStore store, string scope, string videoId, double watchSeconds, double? bitrate, CancellationToken ct)
    {
        var d = store.Dialect;
        var startup = await store.QueryAsync(
            $"SELECT {d.Quantile("value", 0.5)}, {d.Quantile("value", 0.95)}, count(*) FROM beacon_events WHERE {scope} AND kind = 'start' AND value >= 0",
            ct).ConfigureAwait(false);
        var exits = await store.QueryAsync(
            $"""
            SELECT count(DISTINCT session) FROM beacon_events WHERE {scope} AND kind = 'load'
                AND session NOT IN (SELECT session FROM beacon_events WHERE video_id = {d.Quote(videoId)} AND kind = 'start')
            """, ct).ConfigureAwait(false);
        var stalls = await store.QueryAsync(
            $"SELECT count(*), sum(CASE WHEN value > 0 THEN value ELSE 0 END) FROM beacon_events WHERE {scope} AND kind = 'stall-end'", ct).ConfigureAwait(false);
        var switches = await store.QueryAsync(
            $"SELECT count(*), count(DISTINCT session) FROM beacon_events WHERE {scope} AND kind = 'rendition'", ct).ConfigureAwait(false);
        var sessions = await store.QueryAsync(
            $"SELECT browser AS k, count(DISTINCT session) AS n FROM beacon_events WHERE {scope} GROUP BY browser ORDER BY k", ct).ConfigureAwait(false);
        var errors = (await store.QueryAsync(
                $"SELECT browser AS k, count(DISTINCT session) AS n FROM beacon_events WHERE {scope} AND kind = 'error' GROUP BY browser ORDER BY k", ct)
            .ConfigureAwait(false)).ToDictionary(r => Cell.Str(r[0]), r => Cell.Long(r[1]), StringComparer.Ordinal);
        var stalledSeconds = Cell.Num(stalls[0][1]) / 1000;
        return new QoeMetrics(Cell.NullableNum(startup[0][0]), Cell.NullableNum(startup[0][1]), Cell.Long(startup[0][2]), Cell.Long(exits[0][0]),
            watchSeconds + stalledSeconds > 0 ? stalledSeconds / (watchSeconds + stalledSeconds) : 0, Cell.Long(stalls[0][0]), bitrate,
            Math.Max(0, Cell.Long(switches[0][0]) - Cell.Long(switches[0][1])),
            sessions.ConvertAll(r =>
            {
                var n = Cell.Long(r[1]);
                var e = errors.GetValueOrDefault(Cell.Str(r[0]));
                return new BrowserErrorRate(Cell.Str(r[0]), n, e, n > 0 ? (double)e / n : 0);
            }));
    }

    /// <summary>
    /// PeerTube's retention: 100 points, each the share of viewers with a played range covering it (the middle of each percent).
    /// The ranges come back merged per viewer and rounded to the percent, so the rows are bounded by viewers x 100.
    /// </summary>
    private static async Task<double[]> RetentionAsync(IAnalyticsStore store, string scope, double? duration, CancellationToken ct)
    {
        if (duration is not { } dur || dur <= 0)
        {
            return [];
        }

        var per = dur / 100;
        var perText = per.ToString("R", CultureInfo.InvariantCulture);
        var rows = await store.QueryAsync(
            $"""
            SELECT viewer, floor(pos_start / {perText} + 0.5) AS a, floor(pos_end / {perText} + 0.5) AS b FROM beacon_events
            WHERE {scope} AND kind = 'watch' AND pos_end > pos_start GROUP BY viewer, a, b
            """, ct).ConfigureAwait(false);
        var covered = new Dictionary<string, bool[]>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            var viewer = Cell.Str(r[0]);
            if (!covered.TryGetValue(viewer, out var points))
            {
                covered[viewer] = points = new bool[100];
            }

            // Point k (the middle of percent k) is covered when a <= k + 0.5 < b, in percent units rounded as above.
            for (var k = Math.Max(0, (int)Cell.Num(r[1])); k < Math.Min(100, (int)Cell.Num(r[2])); k++)
            {
                points[k] = true;
            }
        }

        var retention = new double[100];
        if (covered.Count == 0)
        {
            return retention;
        }

        for (var k = 0; k < 100; k++)
        {
            retention[k] = Math.Round((double)covered.Values.Count(p => p[k]) / covered.Count, 4);
        }

        return retention;
    }

    /// <summary>Counts by one of the fixed family columns, largest first.</summary>
    private static async Task<List<NamedCount>> CountsAsync(IAnalyticsStore store, string table, string column, string scope, CancellationToken ct) =>
        (await store.QueryAsync($"SELECT {column} AS k, count(*) AS n FROM {table} WHERE {scope} GROUP BY {column} ORDER BY n DESC, k", ct).ConfigureAwait(false))
        .ConvertAll(r => new NamedCount(Cell.Str(r[0]), Cell.Long(r[1])));

    private static async Task<List<NamedCount>> EgressAsync(IAnalyticsStore store, string scope, CancellationToken ct) =>
        (await store.QueryAsync($"SELECT tier AS k, sum(bytes) AS n FROM deliveries WHERE {scope} GROUP BY tier ORDER BY k", ct).ConfigureAwait(false))
        .ConvertAll(r => new NamedCount(Cell.Str(r[0]), Cell.Long(r[1])));

    private static async Task<LiveMetrics> LiveAsync(IAnalyticsStore store, string scope, CancellationToken ct)
    {
        var perMinute = new SortedDictionary<long, long>();
        foreach (var sql in new[]
                 {
                     $"SELECT floor(ts / 60000) AS m, count(DISTINCT viewer) AS n FROM deliveries WHERE {scope} AND live = 1 GROUP BY m",
                     $"SELECT floor(ts / 60000) AS m, count(DISTINCT viewer) AS n FROM beacon_events WHERE {scope} AND kind IN ('watch', 'heartbeat') GROUP BY m",
                 })
        {
            foreach (var r in await store.QueryAsync(sql, ct).ConfigureAwait(false))
            {
                var m = Cell.Long(r[0]);
                perMinute[m] = Math.Max(perMinute.GetValueOrDefault(m), Cell.Long(r[1]));
            }
        }

        return perMinute.Count == 0
            ? new LiveMetrics(0, 0, [])
            : new LiveMetrics(perMinute.Values.Max(), Math.Round(perMinute.Values.Average(), 3),
                perMinute.Select(p => new ConcurrencyPoint(DateTimeOffset.FromUnixTimeMilliseconds(p.Key * 60_000), p.Value)).ToList());
    }

    /// <summary>Views and watch time per hour or day, every bucket of the range present (zeros where nothing happened).</summary>
    public static async Task<List<SeriesPoint>> SeriesAsync(IAnalyticsStore store, string scope, DateTimeOffset from, DateTimeOffset to, string granularity,
        CancellationToken ct)
    {
        var size = granularity == "hour" ? 3_600_000L : 86_400_000L;
        var b = AnalyticsDialect.Number(size);
        var views = (await store.QueryAsync($"SELECT floor(ts / {b}) AS k, count(*) AS n FROM views WHERE {scope} GROUP BY k", ct).ConfigureAwait(false))
            .ToDictionary(r => Cell.Long(r[0]), r => Cell.Long(r[1]));
        var watch = (await store.QueryAsync(
                $"SELECT floor(ts / {b}) AS k, sum(pos_end - pos_start) AS n FROM beacon_events WHERE {scope} AND kind = 'watch' GROUP BY k", ct)
            .ConfigureAwait(false)).ToDictionary(r => Cell.Long(r[0]), r => Cell.Num(r[1]));
        var series = new List<SeriesPoint>();
        for (var k = from.ToUnixTimeMilliseconds() / size; k * size < to.ToUnixTimeMilliseconds(); k++)
        {
            series.Add(new SeriesPoint(DateTimeOffset.FromUnixTimeMilliseconds(k * size), views.GetValueOrDefault(k), Math.Round(watch.GetValueOrDefault(k), 3)));
        }

        return series;
    }

    public static async Task<ChannelAnalyticsResponse> ChannelAsync(IAnalyticsStore store, string channelId, IReadOnlyList<(string Id, string Title)> videos,
        DateTimeOffset from, DateTimeOffset to, string granularity, CancellationToken ct)
    {
        var d = store.Dialect;
        var scope = $"video_id IN ({d.List(videos.Select(v => v.Id))}) AND ts >= {Ms(from)} AND ts < {Ms(to)}";
        var views = (await store.QueryAsync($"SELECT video_id, count(*), count(DISTINCT viewer) FROM views WHERE {scope} GROUP BY video_id", ct)
            .ConfigureAwait(false)).ToDictionary(r => Cell.Str(r[0]), r => (Views: Cell.Long(r[1]), Unique: Cell.Long(r[2])), StringComparer.Ordinal);
        var watch = (await store.QueryAsync($"SELECT video_id, sum(pos_end - pos_start) FROM beacon_events WHERE {scope} AND kind = 'watch' GROUP BY video_id", ct)
            .ConfigureAwait(false)).ToDictionary(r => Cell.Str(r[0]), r => Cell.Num(r[1]), StringComparer.Ordinal);
        var totals = await store.QueryAsync($"SELECT count(*), count(DISTINCT viewer) FROM views WHERE {scope}", ct).ConfigureAwait(false);
        var top = videos
            .Select(v => new ChannelVideoRow(v.Id, v.Title, views.GetValueOrDefault(v.Id).Views, views.GetValueOrDefault(v.Id).Unique,
                Math.Round(watch.GetValueOrDefault(v.Id), 3)))
            .Where(r => r.Views > 0 || r.WatchTimeSeconds > 0)
            .OrderByDescending(r => r.Views).ThenByDescending(r => r.WatchTimeSeconds).ThenBy(r => r.VideoId, StringComparer.Ordinal)
            .Take(50).ToList();
        return new ChannelAnalyticsResponse(channelId, from, to, granularity, Cell.Long(totals[0][0]), Cell.Long(totals[0][1]),
            Math.Round(watch.Values.Sum(), 3), top, await SeriesAsync(store, scope, from, to, granularity, ct).ConfigureAwait(false));
    }

    public static async Task<PlatformAnalyticsResponse> PlatformAsync(IAnalyticsStore store, DateTimeOffset from, DateTimeOffset to, string granularity,
        long signups, long uploads, CancellationToken ct)
    {
        var end = to.ToUnixTimeMilliseconds();
        var day = AnalyticsDialect.Number(end - 86_400_000L);
        var week = AnalyticsDialect.Number(end - (7 * 86_400_000L));
        var month = AnalyticsDialect.Number(end - (30 * 86_400_000L));
        var active = await store.QueryAsync(
            $"""
            SELECT count(DISTINCT CASE WHEN ts >= {day} THEN viewer ELSE NULL END),
                   count(DISTINCT CASE WHEN ts >= {week} THEN viewer ELSE NULL END),
                   count(DISTINCT viewer)
            FROM beacon_events WHERE ts >= {month} AND ts < {Ms(to)}
            """, ct).ConfigureAwait(false);
        var scope = $"ts >= {Ms(from)} AND ts < {Ms(to)}";
        var views = await store.QueryAsync($"SELECT count(*) FROM views WHERE {scope}", ct).ConfigureAwait(false);
        var watch = await store.QueryAsync($"SELECT sum(pos_end - pos_start) FROM beacon_events WHERE {scope} AND kind = 'watch'", ct).ConfigureAwait(false);
        var plans = (await store.QueryAsync(
                $"""
                SELECT video_id, floor(ts / 86400000) AS k, premium, sum(pos_end - pos_start) AS n FROM beacon_events
                WHERE {scope} AND kind = 'watch' GROUP BY video_id, k, premium ORDER BY k, video_id, premium LIMIT 10000
                """, ct).ConfigureAwait(false))
            .ConvertAll(r => new PlanWatchTime(Cell.Str(r[0]),
                DateTimeOffset.FromUnixTimeMilliseconds(Cell.Long(r[1]) * 86_400_000L).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                Cell.Long(r[2]) == 1 ? "premium" : "free", Math.Round(Cell.Num(r[3]), 3)));
        return new PlatformAnalyticsResponse(from, to, granularity, Cell.Long(active[0][0]), Cell.Long(active[0][1]), Cell.Long(active[0][2]), signups, uploads,
            Cell.Long(views[0][0]), Math.Round(Cell.Num(watch[0][0]), 3), await EgressAsync(store, scope, ct).ConfigureAwait(false),
            await SeriesAsync(store, scope, from, to, granularity, ct).ConfigureAwait(false), plans);
    }

    /// <summary>One viewer key's views and watch time per video (a data export of the account's analytics).</summary>
    public static async Task<List<(string VideoId, long Views, double WatchTimeSeconds)>> ViewerAsync(IAnalyticsStore store, string viewer, CancellationToken ct)
    {
        var d = store.Dialect;
        var views = (await store.QueryAsync($"SELECT video_id, count(*) FROM views WHERE viewer = {d.Quote(viewer)} GROUP BY video_id", ct).ConfigureAwait(false))
            .ToDictionary(r => Cell.Str(r[0]), r => Cell.Long(r[1]), StringComparer.Ordinal);
        var watch = (await store.QueryAsync(
                $"SELECT video_id, sum(pos_end - pos_start) FROM beacon_events WHERE viewer = {d.Quote(viewer)} AND kind = 'watch' GROUP BY video_id", ct)
            .ConfigureAwait(false)).ToDictionary(r => Cell.Str(r[0]), r => Cell.Num(r[1]), StringComparer.Ordinal);
        return views.Keys.Union(watch.Keys).Order(StringComparer.Ordinal)
            .Select(v => (v, views.GetValueOrDefault(v), Math.Round(watch.GetValueOrDefault(v), 3))).ToList();
    }

    private static string Ms(DateTimeOffset t) => AnalyticsDialect.Number(t.ToUnixTimeMilliseconds());
}
