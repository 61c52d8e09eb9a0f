using System.Net.Http.Headers;
using System.Text;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// ClickHouse through its HTTP interface: Debian's clickhouse-server is 18.16, older than the official ClickHouse.Driver
/// supports, so statements go as the POST body, batches as <c>INSERT ... FORMAT JSONEachRow</c> and results come back as
/// <c>FORMAT TabSeparated</c> (18.16 has no query parameters over HTTP: the shared queries inline literals through
/// <see cref="AnalyticsDialect.Quote"/>). MergeTree tables ordered by (video, time); deletions are 18.16's
/// <c>ALTER TABLE ... DELETE</c> mutations, applied in the background.
/// </summary>
internal sealed class ClickHouseAnalyticsStore(HttpClient http, ClickHouseOptions options) : IAnalyticsStore
{
    public AnalyticsDialect Dialect => AnalyticsDialect.ClickHouse;

    private static readonly string[] Ddl =
    [
        """
        CREATE TABLE IF NOT EXISTS beacon_events (
            ts Int64, video_id String, viewer String, session String, kind String, pos_start Float64, pos_end Float64, value Int64,
            width Int64, height Int64, code String, source String, device String, browser String, os String, premium Int64)
        ENGINE = MergeTree ORDER BY (video_id, ts)
        """,
        """
        CREATE TABLE IF NOT EXISTS views (
            ts Int64, video_id String, viewer String, source String, device String, browser String, os String)
        ENGINE = MergeTree ORDER BY (video_id, ts)
        """,
        """
        CREATE TABLE IF NOT EXISTS deliveries (
            ts Int64, video_id String, live Int64, object Int64, bytes Int64, viewer String, from_cmcd Int64, buffer_ms Int64,
            starvation Int64, throughput_kbps Int64, bitrate_kbps Int64, top_bitrate_kbps Int64, startup Int64, tier String)
        ENGINE = MergeTree ORDER BY (video_id, ts)
        """,
    ];

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await SendAsync("CREATE DATABASE IF NOT EXISTS " + options.Database, null, useDatabase: false, cancellationToken).ConfigureAwait(false);
        foreach (var sql in Ddl)
        {
            await ExecAsync(sql, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Three INSERTs, not one transaction (ClickHouse has none): views first and the events that made them last, so a reader
    /// that sees a flush's watch time also sees its views (the tests wait on watch time).
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<BeaconRow> events, IReadOnlyList<ViewRow> views, IReadOnlyList<DeliveryObservation> deliveries,
        CancellationToken cancellationToken)
    {
        if (views.Count > 0)
        {
            await InsertAsync("views", views, static (w, v) =>
            {
                w.WriteNumber("ts", v.At);
                w.WriteString("video_id", v.VideoId);
                w.WriteString("viewer", v.Viewer);
                w.WriteString("source", v.Source);
                w.WriteString("device", v.Device);
                w.WriteString("browser", v.Browser);
                w.WriteString("os", v.Os);
            }, cancellationToken).ConfigureAwait(false);
        }

        if (deliveries.Count > 0)
        {
            await InsertAsync("deliveries", deliveries, static (w, d) =>
            {
                w.WriteNumber("ts", d.AtUnixMs);
                w.WriteString("video_id", d.VideoId);
                w.WriteNumber("live", d.Live ? 1 : 0);
                w.WriteNumber("object", (int)d.Object);
                w.WriteNumber("bytes", d.BytesSent);
                w.WriteString("viewer", ViewerKeys.Hex(d.Viewer));
                w.WriteNumber("from_cmcd", d.FromCmcd ? 1 : 0);
                w.WriteNumber("buffer_ms", d.BufferLengthMs);
                w.WriteNumber("starvation", d.BufferStarvation ? 1 : 0);
                w.WriteNumber("throughput_kbps", d.MeasuredThroughputKbps);
                w.WriteNumber("bitrate_kbps", d.EncodedBitrateKbps);
                w.WriteNumber("top_bitrate_kbps", d.TopBitrateKbps);
                w.WriteNumber("startup", d.Startup ? 1 : 0);
                w.WriteString("tier", d.Tier);
            }, cancellationToken).ConfigureAwait(false);
        }

        if (events.Count > 0)
        {
            await InsertAsync("beacon_events", events, static (w, e) =>
            {
                w.WriteNumber("ts", e.At);
                w.WriteString("video_id", e.VideoId);
                w.WriteString("viewer", e.Viewer);
                w.WriteString("session", e.Session);
                w.WriteString("kind", e.Kind);
                w.WriteNumber("pos_start", e.PosStart);
                w.WriteNumber("pos_end", e.PosEnd);
                w.WriteNumber("value", e.Value);
                w.WriteNumber("width", e.Width);
                w.WriteNumber("height", e.Height);
                w.WriteString("code", e.Code);
                w.WriteString("source", e.Source);
                w.WriteString("device", e.Device);
                w.WriteString("browser", e.Browser);
                w.WriteString("os", e.Os);
                w.WriteNumber("premium", e.Premium);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task InsertAsync<T>(string table, IReadOnlyList<T> rows, Action<Utf8JsonWriter, T> write, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            foreach (var row in rows)
            {
                writer.WriteStartObject();
                write(writer, row);
                writer.WriteEndObject();
                writer.Flush();
                body.WriteByte((byte)'\n');
                writer.Reset();
            }
        }

        body.Position = 0;
        using var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        await SendAsync("INSERT INTO " + table + " FORMAT JSONEachRow", content, useDatabase: true, cancellationToken).ConfigureAwait(false);
    }

    public async Task<List<object?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        var text = await SendAsync(sql + " FORMAT TabSeparated", null, useDatabase: true, cancellationToken).ConfigureAwait(false);
        var rows = new List<object?[]>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            rows.Add(line.Split('\t').Select(Unescape).ToArray<object?>());
        }

        return rows;
    }

    public async Task ExecAsync(string sql, CancellationToken cancellationToken) =>
        await SendAsync(sql, null, useDatabase: true, cancellationToken).ConfigureAwait(false);

    /// <summary>A statement in the body, or (an INSERT with data) in the <c>query</c> parameter with the rows as the body.</summary>
    private async Task<string> SendAsync(string sql, HttpContent? data, bool useDatabase, CancellationToken cancellationToken)
    {
        var query = new StringBuilder("?");
        if (useDatabase)
        {
            query.Append("database=").Append(Uri.EscapeDataString(options.Database)).Append('&');
        }

        if (data is not null)
        {
            query.Append("query=").Append(Uri.EscapeDataString(sql));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(options.Url), query.ToString()))
        {
            Content = data ?? new StringContent(sql, Encoding.UTF8, "text/plain"),
        };
        request.Headers.Add("X-ClickHouse-User", options.User);
        if (options.Password.Length > 0)
        {
            request.Headers.Add("X-ClickHouse-Key", options.Password);
        }

        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // ClickHouse's message names the statement's problem; it never contains the credentials (sent as headers).
            throw new InvalidOperationException($"ClickHouse answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 500)]}");
        }

        return text;
    }

    /// <summary>TabSeparated escaping: <c>\N</c> is NULL; backslash escapes for tab, newline, backslash and quotes.</summary>
    private static object? Unescape(string field)
    {
        if (field == "\\N")
        {
            return null;
        }

        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            var c = field[i];
            if (c == '\\' && i + 1 < field.Length)
            {
                c = field[++i] switch { 't' => '\t', 'n' => '\n', 'r' => '\r', '0' => '\0', var x => x };
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
