namespace StreamVerse.ControlPlane.Analytics;

/// <summary>A family or category and how many (views, or bytes for egress).</summary>
internal sealed record NamedCount(string Name, long Count);

/// <summary>One bucket (an hour or a day, UTC) of a series: the views counted and the seconds played in it.</summary>
internal sealed record SeriesPoint(DateTimeOffset At, long Views, double WatchTimeSeconds);

/// <summary>Sessions of one browser family and how many of them reported an error.</summary>
internal sealed record BrowserErrorRate(string Browser, long Sessions, long SessionsWithErrors, double Rate);

/// <summary>
/// Quality of experience from the players' beacons. <paramref name="StartupP50Ms"/>/<paramref name="StartupP95Ms"/>: time to
/// first frame (null without starts); <paramref name="ExitsBeforeStart"/>: sessions that asked to play (<c>load</c>) and never
/// started; <paramref name="RebufferRatio"/>: stalled / (played + stalled) time; <paramref name="TimeWeightedBitrateKbps"/>:
/// the bitrate each played range was at, weighted by its length; <paramref name="RenditionSwitches"/>: rendition changes
/// after each session's first.
/// </summary>
internal sealed record QoeMetrics(double? StartupP50Ms, double? StartupP95Ms, long Starts, long ExitsBeforeStart, double RebufferRatio, long RebufferCount,
    double? TimeWeightedBitrateKbps, long RenditionSwitches, List<BrowserErrorRate> ErrorRateByBrowser);

/// <summary>A minute and the distinct viewers in it.</summary>
internal sealed record ConcurrencyPoint(DateTimeOffset At, long Viewers);

/// <summary>
/// Live audience: distinct viewers per minute, from the origin's delivery observations (CMCD session or address hash) and
/// from the players' heartbeats, whichever saw more in that minute; peak and average over the minutes anyone watched.
/// </summary>
internal sealed record LiveMetrics(long PeakConcurrentViewers, double AverageConcurrentViewers, List<ConcurrencyPoint> Concurrency);

/// <summary>
/// One video's analytics over [<paramref name="From"/>, <paramref name="To"/>). <paramref name="UniqueViewers"/>: viewers who
/// played any of it; <paramref name="AverageViewDurationSeconds"/>: watch time per playing session; <paramref name="Retention"/>:
/// 100 values, the share of those viewers whose played ranges cover each percent of the duration (empty while the duration
/// is unknown).
/// </summary>
internal sealed record VideoAnalyticsResponse(string VideoId, DateTimeOffset From, DateTimeOffset To, string Granularity, long Views, long UniqueViewers,
    double WatchTimeSeconds, double AverageViewDurationSeconds, double[] Retention, List<NamedCount> TrafficSources, List<NamedCount> Devices,
    List<NamedCount> Browsers, List<NamedCount> OperatingSystems, QoeMetrics Qoe, LiveMetrics Live, List<NamedCount> EgressBytesByTier,
    List<SeriesPoint> Series);

/// <summary>One of a channel's videos in a dashboard's range.</summary>
internal sealed record ChannelVideoRow(string VideoId, string Title, long Views, long UniqueViewers, double WatchTimeSeconds);

/// <summary>A channel's dashboard: totals over its videos and streams, its top videos by views (at most 50), and the series.</summary>
internal sealed record ChannelAnalyticsResponse(string ChannelId, DateTimeOffset From, DateTimeOffset To, string Granularity, long Views, long UniqueViewers,
    double WatchTimeSeconds, List<ChannelVideoRow> TopVideos, List<SeriesPoint> Series);

/// <summary>Seconds played of a video on a day (UTC, yyyy-MM-dd) by premium or free viewers (anonymous viewers are free): the revenue split's input.</summary>
internal sealed record PlanWatchTime(string VideoId, string Day, string Plan, double WatchTimeSeconds);

/// <summary>
/// The platform dashboard (admins). Active viewers: distinct viewer keys with a beacon in the day, 7 and 30 days before
/// <paramref name="To"/> (anonymous keys rotate daily, so WAU/MAU count an anonymous viewer once per day they came);
/// <paramref name="Signups"/> and <paramref name="Uploads"/>: accounts and videos created in the range.
/// </summary>
internal sealed record PlatformAnalyticsResponse(DateTimeOffset From, DateTimeOffset To, string Granularity, long DailyActiveViewers, long WeeklyActiveViewers,
    long MonthlyActiveViewers, long Signups, long Uploads, long Views, double WatchTimeSeconds, List<NamedCount> EgressBytesByTier, List<SeriesPoint> Series,
    List<PlanWatchTime> WatchTimeByPlan);
