namespace StreamVerse.ControlPlane.Data;

internal enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Config section <c>StreamVerse:ControlPlane:Database</c>. <c>Provider</c> = <c>sqlite</c> (default: a file under
/// <c>StreamVerse:Data</c>, no server needed) or <c>postgres</c> (needs <c>ConnectionString</c>).
/// </summary>
internal sealed class DatabaseOptions
{
    public const string Section = "StreamVerse:ControlPlane:Database";

    /// <summary><c>sqlite</c> or <c>postgres</c> (case-insensitive).</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Npgsql or Microsoft.Data.Sqlite connection string; for SQLite the default is <c>DATA/controlplane.db</c>.</summary>
    public string? ConnectionString { get; set; }

    internal DatabaseProvider Kind => string.Equals(Provider, "postgres", StringComparison.OrdinalIgnoreCase) ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite;

    internal bool IsKnownProvider => Provider.ToLowerInvariant() is "sqlite" or "postgres";
}
