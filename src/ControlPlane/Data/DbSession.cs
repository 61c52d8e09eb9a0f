using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace StreamVerse.ControlPlane.Data;

/// <summary>
/// One open connection and its current transaction. Commands get the transaction attached (SQLite insists);
/// parameters are <c>(name, value)</c> pairs, null binds as SQL NULL and instants go through the dialect.
/// </summary>
internal sealed class DbSession(DbConnection connection, Dialect dialect) : IAsyncDisposable
{
    private DbTransaction? _transaction;
    private List<Action>? _afterCommit;

    public Dialect Dialect { get; } = dialect;

    /// <summary>Inside <see cref="BeginAsync"/> and not yet committed: what a write that must share the caller's
    /// transaction (the outbox) checks.</summary>
    public bool InTransaction => _transaction is not null;

    /// <summary>
    /// Runs <paramref name="action"/> once this transaction has committed (for example waking a worker for a row it
    /// wrote); never when it rolls back or the session is disposed first. Throws outside a transaction.
    /// </summary>
    public void AfterCommit(Action action)
    {
        if (_transaction is null)
        {
            throw new InvalidOperationException("AfterCommit needs a transaction (call BeginAsync first)");
        }

        (_afterCommit ??= []).Add(action);
    }

    public DbConnection Connection { get; } = connection;

    /// <summary>
    /// Starts a transaction. SQLite: <c>BEGIN IMMEDIATE</c>, so the write lock is taken up front and two writers
    /// queue on the busy timeout instead of failing with SQLITE_BUSY at their first write.
    /// </summary>
    public async Task BeginAsync(CancellationToken cancellationToken)
    {
        _transaction = Connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: false)
            : await Connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serialises the rest of this transaction with every other transaction that names <paramref name="key"/>, for a
    /// rule that spans rows (for example "at least one admin remains"): a conditional statement alone cannot keep it
    /// under PostgreSQL's READ COMMITTED, where two transactions each see the other's row unchanged. PostgreSQL: a
    /// transaction-scoped advisory lock. SQLite: nothing more to take, <c>BEGIN IMMEDIATE</c> already holds the
    /// database's one write lock. Call it right after <see cref="BeginAsync"/>, before reading what the rule checks.
    /// </summary>
    public Task SerialiseAsync(long key, CancellationToken cancellationToken) =>
        Connection is SqliteConnection ? Task.CompletedTask : ExecAsync("SELECT pg_advisory_xact_lock(@k)", [("k", key)], cancellationToken);

    /// <summary>A stable 64-bit <see cref="SerialiseAsync"/> key for a name, such as one row's rule (FNV-1a of its UTF-16 units).</summary>
    public static long LockKey(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_transaction is not null)
        {
            await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            await _transaction.DisposeAsync().ConfigureAwait(false);
            _transaction = null;
            var after = _afterCommit;
            _afterCommit = null;
            foreach (var action in after ?? [])
            {
                action();
            }
        }
    }

    public async Task<int> ExecAsync(string sql, (string Name, object? Value)[] args, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, args);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<T?> ScalarAsync<T>(string sql, (string Name, object? Value)[] args, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, args);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<T>> QueryAsync<T>(string sql, (string Name, object? Value)[] args, Func<DbDataReader, Dialect, T> map, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(map(reader, Dialect));
        }

        return list;
    }

    public async Task<T?> SingleAsync<T>(string sql, (string Name, object? Value)[] args, Func<DbDataReader, Dialect, T> map, CancellationToken cancellationToken)
        where T : class
    {
        await using var command = Command(sql, args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? map(reader, Dialect) : null;
    }

    private DbCommand Command(string sql, (string Name, object? Value)[] args)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        foreach (var (name, value) in args)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value switch
            {
                null => DBNull.Value,
                DateTimeOffset d => Dialect.ToDb(d),
                _ => value,
            };
            command.Parameters.Add(p);
        }

        return command;
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync().ConfigureAwait(false);
        }

        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}
