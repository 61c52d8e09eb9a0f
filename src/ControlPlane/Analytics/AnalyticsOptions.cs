using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>Config section <c>StreamVerse:Analytics</c>: where beacons and delivery observations go and the counting rules.</summary>
internal sealed class AnalyticsOptions
{
    public const string Section = "StreamVerse:Analytics";

    /// <summary><c>duckdb</c> (default: an embedded file, <c>analytics.duckdb</c> under <c>--data</c>) or <c>clickhouse</c> (its HTTP interface).</summary>
    public string Store { get; set; } = "duckdb";

    /// <summary>The DuckDB file; empty means <c>analytics.duckdb</c> under <c>--data</c>.</summary>
    public string DuckDbPath { get; set; } = "";

    /// <summary>ClickHouse: the HTTP interface's base URL and database (created when missing) and the user.</summary>
    public ClickHouseOptions ClickHouse { get; set; } = new();

    /// <summary>Events the in-process buffer holds before it drops (and counts) new ones. 1000-10000000.</summary>
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>The writer's longest wait before it flushes what it holds (a batch also goes out when <see cref="BatchSize"/> is reached).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most rows one flush writes. 1-1000000.</summary>
    public int BatchSize { get; set; } = 10_000;

    /// <summary>Days analytics rows are kept; older ones are purged hourly. 1-3650.</summary>
    public int RetentionDays { get; set; } = 400;

    /// <summary>Seconds watched after which a view counts (half of a video shorter than twice this counts too).</summary>
    public int ViewSeconds { get; set; } = 10;

    /// <summary>View starts per address per minute above which further starts are ignored (a forged flood from one address). 1-100000.</summary>
    public int MaxStartsPerMinute { get; set; } = 30;

    /// <summary>Largest beacon request body in bytes. 1024-1048576.</summary>
    public int MaxBeaconBytes { get; set; } = 64 * 1024;

    /// <summary>Most events in one beacon request. 1-1000.</summary>
    public int MaxEventsPerBeacon { get; set; } = 100;

    public bool IsClickHouse => string.Equals(Store, "clickhouse", StringComparison.OrdinalIgnoreCase);
}

internal sealed class ClickHouseOptions
{
    public string Url { get; set; } = "http://127.0.0.1:8123/";

    public string Database { get; set; } = "streamverse";

    public string User { get; set; } = "default";

    /// <summary>The user's password; never logged.</summary>
    public string Password { get; set; } = "";
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class AnalyticsOptionsValidator : IValidateOptions<AnalyticsOptions>
{
    public ValidateOptionsResult Validate(string? name, AnalyticsOptions o)
    {
        var errors = new List<string>();
        if (!string.Equals(o.Store, "duckdb", StringComparison.OrdinalIgnoreCase) && !o.IsClickHouse)
        {
            errors.Add(AnalyticsOptions.Section + ":Store must be duckdb or clickhouse");
        }

        if (!Uri.TryCreate(o.ClickHouse.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            errors.Add(AnalyticsOptions.Section + ":ClickHouse:Url must be an absolute http(s) URL");
        }

        if (!IsIdentifier(o.ClickHouse.Database))
        {
            errors.Add(AnalyticsOptions.Section + ":ClickHouse:Database must be 1-64 letters, digits or underscores");
        }

        if (o.BufferCapacity is < 1000 or > 10_000_000)
        {
            errors.Add(AnalyticsOptions.Section + ":BufferCapacity must be between 1000 and 10000000");
        }

        if (o.FlushInterval < TimeSpan.FromMilliseconds(10) || o.FlushInterval > TimeSpan.FromMinutes(5))
        {
            errors.Add(AnalyticsOptions.Section + ":FlushInterval must be between 00:00:00.01 and 00:05:00");
        }

        if (o.BatchSize is < 1 or > 1_000_000)
        {
            errors.Add(AnalyticsOptions.Section + ":BatchSize must be between 1 and 1000000");
        }

        if (o.RetentionDays is < 1 or > 3650)
        {
            errors.Add(AnalyticsOptions.Section + ":RetentionDays must be between 1 and 3650");
        }

        if (o.ViewSeconds is < 1 or > 3600)
        {
            errors.Add(AnalyticsOptions.Section + ":ViewSeconds must be between 1 and 3600");
        }

        if (o.MaxStartsPerMinute is < 1 or > 100_000)
        {
            errors.Add(AnalyticsOptions.Section + ":MaxStartsPerMinute must be between 1 and 100000");
        }

        if (o.MaxBeaconBytes is < 1024 or > 1_048_576)
        {
            errors.Add(AnalyticsOptions.Section + ":MaxBeaconBytes must be between 1024 and 1048576");
        }

        if (o.MaxEventsPerBeacon is < 1 or > 1000)
        {
            errors.Add(AnalyticsOptions.Section + ":MaxEventsPerBeacon must be between 1 and 1000");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsIdentifier(string s) =>
        s.Length is >= 1 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
