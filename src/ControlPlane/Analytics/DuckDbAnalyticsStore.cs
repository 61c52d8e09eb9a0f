using DuckDB.NET.Data;

namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// The embedded default: one DuckDB file under <c>--data</c>. One connection, used under a lock: the writer's appends
/// (DuckDB's appender, one per table and batch) and the dashboards' reads are short, and DuckDB allows one writing process
/// per file anyway.
/// </summary>
internal sealed class DuckDbAnalyticsStore(string path) : IAnalyticsStore
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private DuckDBConnection? _connection;

    public AnalyticsDialect Dialect => AnalyticsDialect.DuckDb;

    private static readonly string[] Ddl =
    [
        """
        CREATE TABLE IF NOT EXISTS beacon_events (
            ts BIGINT NOT NULL, video_id VARCHAR NOT NULL, viewer VARCHAR NOT NULL, session VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            pos_start DOUBLE NOT NULL, pos_end DOUBLE NOT NULL, value BIGINT NOT NULL, width BIGINT NOT NULL, height BIGINT NOT NULL,
            code VARCHAR NOT NULL, source VARCHAR NOT NULL, device VARCHAR NOT NULL, browser VARCHAR NOT NULL, os VARCHAR NOT NULL,
            premium BIGINT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS views (
            ts BIGINT NOT NULL, video_id VARCHAR NOT NULL, viewer VARCHAR NOT NULL, source VARCHAR NOT NULL, device VARCHAR NOT NULL,
            browser VARCHAR NOT NULL, os VARCHAR NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS deliveries (
            ts BIGINT NOT NULL, video_id VARCHAR NOT NULL, live BIGINT NOT NULL, object BIGINT NOT NULL, bytes BIGINT NOT NULL,
            viewer VARCHAR NOT NULL, from_cmcd BIGINT NOT NULL, buffer_ms BIGINT NOT NULL, starvation BIGINT NOT NULL,
            throughput_kbps BIGINT NOT NULL, bitrate_kbps BIGINT NOT NULL, top_bitrate_kbps BIGINT NOT NULL, startup BIGINT NOT NULL,
            tier VARCHAR NOT NULL)
        """,
    ];

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new DuckDBConnection("Data Source=" + path);
        await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sql in Ddl)
        {
            await ExecAsync(sql, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task WriteAsync(IReadOnlyList<BeaconRow> events, IReadOnlyList<ViewRow> views, IReadOnlyList<DeliveryObservation> deliveries,
        CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = _connection ?? throw new InvalidOperationException("analytics store not initialised");
            if (events.Count > 0)
            {
                using var appender = connection.CreateAppender("beacon_events");
                foreach (var e in events)
                {
                    appender.CreateRow().AppendValue(e.At).AppendValue(e.VideoId).AppendValue(e.Viewer).AppendValue(e.Session).AppendValue(e.Kind)
                        .AppendValue(e.PosStart).AppendValue(e.PosEnd).AppendValue(e.Value).AppendValue(e.Width).AppendValue(e.Height)
                        .AppendValue(e.Code).AppendValue(e.Source).AppendValue(e.Device).AppendValue(e.Browser).AppendValue(e.Os)
                        .AppendValue(e.Premium).EndRow();
                }
            }

            if (views.Count > 0)
            {
                using var appender = connection.CreateAppender("views");
                foreach (var v in views)
                {
                    appender.CreateRow().AppendValue(v.At).AppendValue(v.VideoId).AppendValue(v.Viewer).AppendValue(v.Source).AppendValue(v.Device)
                        .AppendValue(v.Browser).AppendValue(v.Os).EndRow();
                }
            }

            if (deliveries.Count > 0)
            {
                using var appender = connection.CreateAppender("deliveries");
                foreach (var d in deliveries)
                {
                    appender.CreateRow().AppendValue(d.AtUnixMs).AppendValue(d.VideoId).AppendValue(d.Live ? 1L : 0L).AppendValue((long)d.Object)
                        .AppendValue(d.BytesSent).AppendValue(ViewerKeys.Hex(d.Viewer)).AppendValue(d.FromCmcd ? 1L : 0L).AppendValue((long)d.BufferLengthMs)
                        .AppendValue(d.BufferStarvation ? 1L : 0L).AppendValue((long)d.MeasuredThroughputKbps).AppendValue((long)d.EncodedBitrateKbps)
                        .AppendValue((long)d.TopBitrateKbps).AppendValue(d.Startup ? 1L : 0L).AppendValue(d.Tier).EndRow();
                }
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<List<object?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection!.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<object?[]>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            return rows;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task ExecAsync(string sql, CancellationToken cancellationToken)
    {
        var locked = _connection is not null && await _lock.WaitAsync(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection!.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (locked)
            {
                _lock.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _lock.Dispose();
    }
}
