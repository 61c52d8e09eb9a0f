using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Migrations on an empty database: applied once, safe to run again and from two processes at once.</summary>
public sealed class MigrationTests
{
    private static Database Open(DatabaseProvider provider, string? connectionString, string dataPath) => new(
        Options.Create(new DatabaseOptions { Provider = provider == DatabaseProvider.Postgres ? "postgres" : "sqlite", ConnectionString = connectionString }),
        Options.Create(new ControlPlaneOptions { DataPath = dataPath }));

    private static async Task AssertMigratedTwiceConcurrently(Func<Database> open)
    {
        await using var a = open();
        await using var b = open();

        // Two "processes" (independent pools) race; each migration must be applied exactly once.
        var counts = await Task.WhenAll(
            Migrations.ApplyAsync(a, NullLogger.Instance, default),
            Migrations.ApplyAsync(b, NullLogger.Instance, default));
        Assert.Equal(Migrations.All.Length, counts.Sum());
        Assert.Equal(0, await Migrations.ApplyAsync(a, NullLogger.Instance, default));

        await using var s = await a.OpenAsync(default);
        Assert.Equal(Migrations.All.Length, await s.ScalarAsync<long>("SELECT COUNT(*) FROM schema_versions", [], default));
        Assert.Equal(0, await s.ScalarAsync<long>("SELECT COUNT(*) FROM users", [], default));
    }

    [Fact]
    public async Task Sqlite()
    {
        var dir = Directory.CreateTempSubdirectory("sv-mig-").FullName;
        try
        {
            await AssertMigratedTwiceConcurrently(() => Open(DatabaseProvider.Sqlite, null, dir));
            Assert.True(File.Exists(Path.Combine(dir, "controlplane.db")));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Postgres()
    {
        var schema = "m_" + Guid.NewGuid().ToString("N")[..16];
        await using (var c = new NpgsqlConnection(TestPostgres.ConnectionString))
        {
            await c.OpenAsync();
            await new NpgsqlCommand($"CREATE SCHEMA {schema}", c).ExecuteNonQueryAsync();
        }

        try
        {
            var cs = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = schema }.ToString();
            await AssertMigratedTwiceConcurrently(() => Open(DatabaseProvider.Postgres, cs, Path.GetTempPath()));
        }
        finally
        {
            await using var c = new NpgsqlConnection(TestPostgres.ConnectionString);
            await c.OpenAsync();
            await new NpgsqlCommand($"DROP SCHEMA {schema} CASCADE", c).ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public void Dialect_differences_are_the_documented_few()
    {
        Assert.Contains("IDENTITY", Dialect.Postgres.IdentityPrimaryKey);
        Assert.Contains("AUTOINCREMENT", Dialect.Sqlite.IdentityPrimaryKey);
        Assert.Equal("ILIKE", Dialect.Postgres.ILike);
        Assert.Equal("TIMESTAMPTZ", Dialect.Postgres.Timestamp);

        // SQLite instants are fixed-width UTC text, so text order is time order.
        var a = (string)Dialect.Sqlite.ToDb(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)));
        var b = (string)Dialect.Sqlite.ToDb(new DateTimeOffset(2026, 1, 2, 3, 4, 5, 100, TimeSpan.Zero));
        Assert.Equal("2026-01-02T01:04:05.0000000Z", a);
        Assert.True(string.CompareOrdinal(a, b) < 0);
    }
}
