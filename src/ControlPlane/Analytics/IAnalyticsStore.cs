using System.Globalization;
using System.Numerics;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// One player event as stored (<c>beacon_events</c>): no address, no user agent, no account id. <see cref="Viewer"/> is the
/// viewer key (<see cref="ViewerKeys"/>); <see cref="Kind"/> a <see cref="BeaconKinds"/> value; a heartbeat's played ranges
/// are one <c>watch</c> row each (<see cref="PosStart"/>..<see cref="PosEnd"/> seconds of media, <see cref="Value"/> the
/// bitrate then playing). <see cref="Value"/> is otherwise the startup time (start), the bitrate (rendition) or the stall's
/// length (stall-end), in ms or kbit/s; -1 when none.
/// </summary>
internal sealed record BeaconRow(
    long At, string VideoId, string Viewer, string Session, string Kind, double PosStart, double PosEnd, long Value, long Width, long Height,
    string Code, string Source, string Device, string Browser, string Os, long Premium);

/// <summary>A counted view (<c>views</c>): once per viewer, video and hour, after the watch threshold (<see cref="ViewCounter"/>).</summary>
internal sealed record ViewRow(long At, string VideoId, string Viewer, string Source, string Device, string Browser, string Os);

/// <summary>
/// Where analytics rows live: DuckDB embedded or ClickHouse over HTTP. Both take the same statements
/// (<see cref="AnalyticsQueries"/>, with the few dialect differences in <see cref="AnalyticsDialect"/>); only the DDL and
/// the batch insert path differ. All writes come from the one <see cref="AnalyticsWriter"/>.
/// </summary>
internal interface IAnalyticsStore : IAsyncDisposable
{
    AnalyticsDialect Dialect { get; }

    /// <summary>Creates the tables when missing (idempotent).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task WriteAsync(IReadOnlyList<BeaconRow> events, IReadOnlyList<ViewRow> views, IReadOnlyList<DeliveryObservation> deliveries, CancellationToken cancellationToken);

    /// <summary>Runs a SELECT; values are numbers, strings or null (ClickHouse gives all of them as text: read with <see cref="Cell"/>).</summary>
    Task<List<object?[]>> QueryAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Runs a statement that returns nothing (a purge, a deletion).</summary>
    Task ExecAsync(string sql, CancellationToken cancellationToken);
}

/// <summary>The few places DuckDB and ClickHouse 18.16 differ in the shared queries.</summary>
internal abstract class AnalyticsDialect
{
    public static readonly AnalyticsDialect DuckDb = new DuckDbDialect();
    public static readonly AnalyticsDialect ClickHouse = new ClickHouseDialect();

    public abstract string Name { get; }

    /// <summary>The continuous quantile <paramref name="q"/> of <paramref name="expression"/>.</summary>
    public abstract string Quantile(string expression, double q);

    /// <summary>A string literal. The values are ids, hashes and family names the writer produced; quoting is still complete.</summary>
    public abstract string Quote(string value);

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Literal list for <c>IN (...)</c>; never empty (an impossible id stands in).</summary>
    public string List(IEnumerable<string> values)
    {
        var items = values.Select(Quote).ToList();
        return items.Count == 0 ? Quote("\u0001none") : string.Join(", ", items);
    }

    private sealed class DuckDbDialect : AnalyticsDialect
    {
        public override string Name => "duckdb";

        public override string Quantile(string expression, double q) =>
            $"quantile_cont({expression}, {q.ToString(CultureInfo.InvariantCulture)})";

        public override string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private sealed class ClickHouseDialect : AnalyticsDialect
    {
        public override string Name => "clickhouse";

        public override string Quantile(string expression, double q) =>
            $"quantile({q.ToString(CultureInfo.InvariantCulture)})({expression})";

        public override string Quote(string value) =>
            "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
    }
}

/// <summary>Reads a result cell whichever store produced it.</summary>
internal static class Cell
{
    public static double Num(object? value) => value switch
    {
        null or DBNull => 0,
        double d => double.IsFinite(d) ? d : 0,
        float f => float.IsFinite(f) ? f : 0,
        BigInteger b => (double)b,
        string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : 0,
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => 0,
    };

    /// <summary>Null when the store had no value (an empty quantile: NULL in DuckDB, nan in ClickHouse).</summary>
    public static double? NullableNum(object? value) => value switch
    {
        null or DBNull => null,
        double d => double.IsFinite(d) ? d : null,
        string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null,
        _ => Num(value),
    };

    public static long Long(object? value) => (long)Math.Round(Num(value));

    public static string Str(object? value) => value switch
    {
        null or DBNull => "",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
