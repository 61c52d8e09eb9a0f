using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// <c>POST /api/v1/beacons</c> (anyone: players) and the metrics: a video's (<c>/videos/{id}/analytics</c>) and a channel's
/// (<c>/channels/{id}/analytics</c>) for their owner or an admin (moderators no: 404 as for anything private), the platform's
/// (<c>/analytics/platform</c>) for admins, and the caller's own rows (<c>/me/analytics</c>, the account's data export).
/// The beacon handler validates, queues and answers 204: it never waits on the store.
/// </summary>
internal static class AnalyticsEndpoints
{
    private static readonly string[] Granularities = ["hour", "day"];

    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder api)
    {
        var options = api.ServiceProvider.GetRequiredService<IOptions<AnalyticsOptions>>().Value;
        api.MapPost("/beacons", PostBeaconAsync).WithTags("Analytics").AllowAnonymous().WithBodyLimit(options.MaxBeaconBytes)
            .Accepts<JsonElement>("application/json", "text/plain")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/videos/{id}/analytics", VideoAsync).WithTags("Analytics").RequireAuthorization(Policies.User)
            .Produces<VideoAnalyticsResponse>().Produces<string>(StatusCodes.Status200OK, "text/csv").ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/channels/{id}/analytics", ChannelAsync).WithTags("Analytics").RequireAuthorization(Policies.User)
            .Produces<ChannelAnalyticsResponse>().Produces<string>(StatusCodes.Status200OK, "text/csv").ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/analytics/platform", PlatformAsync).WithTags("Analytics").RequireAuthorization(Policies.Admin)
            .Produces<PlatformAnalyticsResponse>().Produces<string>(StatusCodes.Status200OK, "text/csv").ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/me/analytics", MineAsync).WithTags("Analytics").RequireAuthorization(Policies.User)
            .Produces<List<MyVideoAnalytics>>().ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }

    /// <summary>
    /// Takes a batch of player events (JSON, sent as application/json or as text/plain by <c>navigator.sendBeacon</c>) and
    /// answers 204 once it is queued. A known bot's beacon is answered the same and dropped (counted).
    /// </summary>
    private static async Task<IResult> PostBeaconAsync(HttpContext context, AnalyticsBuffer buffer, ViewerKeys keys, IOptions<AnalyticsOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var type = context.Request.ContentType;
        var mediaType = type is null ? "" : type.Split(';')[0].Trim();
        if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) && !mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Content-Type must be application/json or text/plain (navigator.sendBeacon) carrying JSON");
        }

        var body = await ReadAsync(context.Request.Body, options.Value.MaxBeaconBytes, cancellationToken).ConfigureAwait(false);
        var v = new Validation();
        if (BeaconParser.Parse(body.Span, options.Value.MaxEventsPerBeacon, v) is not { } beacon)
        {
            return v.Result();
        }

        var userAgent = context.Request.Headers.UserAgent.ToString();
        var agent = UserAgents.Parse(userAgent);
        if (agent.Bot)
        {
            AnalyticsBuffer.Filtered.WithLabels("bot").Inc(beacon.Events.Length);
            return TypedResults.NoContent();
        }

        var address = context.Connection.RemoteIpAddress?.ToString() ?? "";
        buffer.Add(new BeaconBatch(time.GetUtcNow().ToUnixTimeMilliseconds(), beacon.VideoId, beacon.Session, Caller.From(context.User)?.Id,
            keys.Address(address, userAgent), beacon.Source, agent, beacon.Events));
        return TypedResults.NoContent();
    }

    /// <summary>The body, whole (Kestrel has already refused one over the endpoint's limit with 413).</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            copy.Write(chunk, 0, read);
            if (copy.Length > limit)
            {
                throw new BadHttpRequestException("beacon body too large", StatusCodes.Status413PayloadTooLarge);
            }
        }

        return copy.ToArray();
    }

    /// <summary>
    /// One video's analytics (owner or admin). <c>format=csv</c> exports one table: <c>table</c> = series (default), sources,
    /// devices, browsers, os, egress or retention.
    /// </summary>
    private static async Task<IResult> VideoAsync(string id, string? from, string? to, string? granularity, string? format, string? table,
        HttpContext context, Database database, IAnalyticsStore store, AnalyticsWriter writer, TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var range = Range(v, from, to, granularity, time);
        var csv = Csv(v, format, table, ["series", "sources", "devices", "browsers", "os", "egress", "retention"]);
        if (!v.IsValid)
        {
            return v.Result();
        }

        double? duration;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var (_, problem) = await VideoAccess.LoadAsync(db, id, Caller.Require(context.User), VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            duration = await db.ScalarAsync<double?>("SELECT duration_seconds FROM videos WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        }

        if (await NotReadyAsync(writer, cancellationToken).ConfigureAwait(false) is { } unavailable)
        {
            return unavailable;
        }

        var r = await AnalyticsQueries.VideoAsync(store, id, duration, range.From, range.To, range.Granularity, cancellationToken).ConfigureAwait(false);
        return csv switch
        {
            null => TypedResults.Ok(r),
            "sources" => CsvResult("name,views", r.TrafficSources.Select(c => Row(c.Name, c.Count))),
            "devices" => CsvResult("name,views", r.Devices.Select(c => Row(c.Name, c.Count))),
            "browsers" => CsvResult("name,views", r.Browsers.Select(c => Row(c.Name, c.Count))),
            "os" => CsvResult("name,views", r.OperatingSystems.Select(c => Row(c.Name, c.Count))),
            "egress" => CsvResult("tier,bytes", r.EgressBytesByTier.Select(c => Row(c.Name, c.Count))),
            "retention" => CsvResult("percent,share", r.Retention.Select((s, i) => Row(i, s))),
            _ => SeriesCsv(r.Series),
        };
    }

    /// <summary>A channel's dashboard (owner or admin); <c>format=csv</c>: <c>table</c> = videos (default, the top videos) or series.</summary>
    private static async Task<IResult> ChannelAsync(string id, string? from, string? to, string? granularity, string? format, string? table,
        HttpContext context, Database database, IAnalyticsStore store, AnalyticsWriter writer, TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var range = Range(v, from, to, granularity, time);
        var csv = Csv(v, format, table, ["videos", "series"]);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        List<(string Id, string Title)> videos;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var owner = await db.ScalarAsync<string>("SELECT owner_id FROM channels WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
            if (owner is null || !caller.OwnsOrAdmin(owner))
            {
                return Problems.NotFound("channel");
            }

            videos = await db.QueryAsync("SELECT id, title FROM videos WHERE channel_id = @id", [("id", id)],
                static (r, _) => (r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        }

        if (await NotReadyAsync(writer, cancellationToken).ConfigureAwait(false) is { } unavailable)
        {
            return unavailable;
        }

        var r = await AnalyticsQueries.ChannelAsync(store, id, videos, range.From, range.To, range.Granularity, cancellationToken).ConfigureAwait(false);
        return csv switch
        {
            null => TypedResults.Ok(r),
            "series" => SeriesCsv(r.Series),
            _ => CsvResult("video_id,title,views,unique_viewers,watch_time_seconds",
                r.TopVideos.Select(t => Row(t.VideoId, t.Title, t.Views, t.UniqueViewers, t.WatchTimeSeconds))),
        };
    }

    /// <summary>The platform dashboard (admins); <c>format=csv</c>: <c>table</c> = series (default), egress or watch-time (by viewer plan).</summary>
    private static async Task<IResult> PlatformAsync(string? from, string? to, string? granularity, string? format, string? table, Database database,
        IAnalyticsStore store, AnalyticsWriter writer, TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var range = Range(v, from, to, granularity, time);
        var csv = Csv(v, format, table, ["series", "egress", "watch-time"]);
        if (!v.IsValid)
        {
            return v.Result();
        }

        long signups, uploads;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            (string, object?)[] args = [("f", range.From), ("t", range.To)];
            signups = await db.ScalarAsync<long>("SELECT count(*) FROM users WHERE created_at >= @f AND created_at < @t", args, cancellationToken).ConfigureAwait(false);
            uploads = await db.ScalarAsync<long>("SELECT count(*) FROM videos WHERE created_at >= @f AND created_at < @t", args, cancellationToken).ConfigureAwait(false);
        }

        if (await NotReadyAsync(writer, cancellationToken).ConfigureAwait(false) is { } unavailable)
        {
            return unavailable;
        }

        var r = await AnalyticsQueries.PlatformAsync(store, range.From, range.To, range.Granularity, signups, uploads, cancellationToken).ConfigureAwait(false);
        return csv switch
        {
            null => TypedResults.Ok(r),
            "egress" => CsvResult("tier,bytes", r.EgressBytesByTier.Select(c => Row(c.Name, c.Count))),
            "watch-time" => CsvResult("video_id,day,plan,watch_time_seconds", r.WatchTimeByPlan.Select(w => Row(w.VideoId, w.Day, w.Plan, w.WatchTimeSeconds))),
            _ => SeriesCsv(r.Series),
        };
    }

    /// <summary>What analytics holds about the caller as a signed-in viewer: views and watch time per video (their data export).</summary>
    private static async Task<IResult> MineAsync(HttpContext context, IAnalyticsStore store, AnalyticsWriter writer, ViewerKeys keys, CancellationToken cancellationToken)
    {
        if (await NotReadyAsync(writer, cancellationToken).ConfigureAwait(false) is { } unavailable)
        {
            return unavailable;
        }

        var viewer = await keys.AccountAsync(Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false);
        var rows = await AnalyticsQueries.ViewerAsync(store, viewer, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(rows.ConvertAll(r => new MyVideoAnalytics(r.VideoId, r.Views, r.WatchTimeSeconds)));
    }

    private static async Task<IResult?> NotReadyAsync(AnalyticsWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await writer.Ready.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (TimeoutException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Analytics store unavailable",
                detail: "The analytics store is not reachable yet; try again later.");
        }
    }

    private readonly record struct TimeRange(DateTimeOffset From, DateTimeOffset To, string Granularity);

    /// <summary><c>from</c>/<c>to</c> (ISO 8601; default the last 28 days up to now), <c>granularity</c> hour or day (default day).</summary>
    private static TimeRange Range(Validation v, string? from, string? to, string? granularity, TimeProvider time)
    {
        granularity ??= "day";
        if (!Granularities.Contains(granularity, StringComparer.Ordinal))
        {
            v.Add("granularity", "must be hour or day");
        }

        var end = time.GetUtcNow();
        if (to is not null && !DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out end))
        {
            v.Add("to", "must be an ISO 8601 date-time");
        }

        var start = end - TimeSpan.FromDays(28);
        if (from is not null && !DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out start))
        {
            v.Add("from", "must be an ISO 8601 date-time");
        }

        if (v.IsValid && start >= end)
        {
            v.Add("from", "must be before to");
        }
        else if (v.IsValid && end - start > TimeSpan.FromDays(granularity == "hour" ? 31 : 400))
        {
            v.Add("from", granularity == "hour" ? "must be at most 31 days before to by the hour" : "must be at most 400 days before to");
        }

        return new TimeRange(start.ToUniversalTime(), end.ToUniversalTime(), granularity);
    }

    /// <summary>Null for JSON; the table to export for <c>format=csv</c>.</summary>
    private static string? Csv(Validation v, string? format, string? table, string[] tables)
    {
        if (format is not (null or "json" or "csv"))
        {
            v.Add("format", "must be json or csv");
        }

        if (table is not null && (format != "csv" || !tables.Contains(table, StringComparer.Ordinal)))
        {
            v.Add("table", format != "csv" ? "is only for format=csv" : "must be one of " + string.Join(", ", tables));
        }

        return format == "csv" ? table ?? tables[0] : null;
    }

    private static IResult SeriesCsv(List<SeriesPoint> series) =>
        CsvResult("at,views,watch_time_seconds", series.Select(p => Row(p.At.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), p.Views, p.WatchTimeSeconds)));

    private static IResult CsvResult(string header, IEnumerable<string> rows)
    {
        var sb = new StringBuilder(header).Append("\r\n");
        foreach (var row in rows)
        {
            sb.Append(row).Append("\r\n");
        }

        return TypedResults.Text(sb.ToString(), "text/csv; charset=utf-8");
    }

    /// <summary>RFC 4180 fields; text that a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote.</summary>
    private static string Row(params object[] fields) => string.Join(',', fields.Select(f => f switch
    {
        string s => Field(s),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => Field(f.ToString() ?? ""),
    }));

    private static string Field(string s) => CsvField.Text(s);
}

/// <summary>One video in the caller's own analytics: the views they were counted for and the seconds they played.</summary>
internal sealed record MyVideoAnalytics(string VideoId, long Views, double WatchTimeSeconds);
