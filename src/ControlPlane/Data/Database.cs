using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace StreamVerse.ControlPlane.Data;

/// <summary>Opens connections to the configured provider (pooled by the provider itself).</summary>
internal sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;

    public Database(IOptions<DatabaseOptions> options, IOptions<ControlPlaneOptions> controlPlane)
    {
        var o = options.Value;
        Provider = o.Kind;
        if (o.Kind == DatabaseProvider.Postgres)
        {
            _postgres = NpgsqlDataSource.Create(o.ConnectionString!);
            Dialect = Dialect.Postgres;
        }
        else
        {
            var cs = o.ConnectionString;
            if (string.IsNullOrEmpty(cs))
            {
                var dir = Path.GetFullPath(controlPlane.Value.DataPath);
                Directory.CreateDirectory(dir);
                var file = Path.Combine(dir, "controlplane.db");

                // E-mails and password hashes: 0600 before SQLite first opens it. SQLite gives the -wal, -shm and
                // -journal files it creates later the database file's own mode (os_unix.c, findCreateFileMode and
                // unixOpenSharedMemory), so they are 0600 too whatever the umask; ones left by an older version are
                // narrowed here.
                OwnerOnly.File(file);
                foreach (var suffix in (string[])["-wal", "-shm", "-journal"])
                {
                    OwnerOnly.Narrow(file + suffix, OwnerOnly.FileMode);
                }

                cs = new SqliteConnectionStringBuilder
                {
                    DataSource = file,
                    Mode = SqliteOpenMode.ReadWriteCreate,
                    Cache = SqliteCacheMode.Private,
                    Pooling = true,
                    DefaultTimeout = 30,
                }.ToString();
            }

            _sqlite = cs;
            Dialect = Dialect.Sqlite;
        }
    }

    public DatabaseProvider Provider { get; }

    public Dialect Dialect { get; }

    public async Task<DbSession> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection;
        if (_postgres is not null)
        {
            connection = await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            connection = new SqliteConnection(_sqlite);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var pragma = connection.CreateCommand();

            // WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return new DbSession(connection, Dialect);
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
