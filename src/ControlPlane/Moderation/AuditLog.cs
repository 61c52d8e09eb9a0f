using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>
/// The moderation audit log: one row per action (who, what, when, why, the object's state before as JSON), appended
/// in the transaction of the action, so an action exists if and only if its row does. Append-only is the database's
/// rule, not this class's: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of
/// <c>moderation_audit</c> (<see cref="ModerationSchema"/>). <c>seq</c> is the order of appends.
/// </summary>
internal sealed class AuditLog(Database database)
{
    private const string Columns = "seq, at, moderator_id, action, object_kind, object_id, case_id, reason, before_state";

    private const string PageSql = $"SELECT {Columns} FROM moderation_audit WHERE seq < @after ORDER BY seq DESC LIMIT @take";

    public static Task AppendInAsync(DbSession db, DateTimeOffset at, string moderatorId, string action, string kind, string objectId, string? caseId,
        string reason, string beforeState, CancellationToken cancellationToken)
    {
        if (!db.InTransaction)
        {
            throw new InvalidOperationException("the audit row must commit with its action (call BeginAsync first)");
        }

        return db.ExecAsync(
            """
            INSERT INTO moderation_audit (at, moderator_id, action, object_kind, object_id, case_id, reason, before_state)
            VALUES (@at, @m, @a, @k, @o, @c, @r, @b)
            """,
            [("at", at), ("m", moderatorId), ("a", action), ("k", kind), ("o", objectId), ("c", caseId), ("r", reason), ("b", beforeState)], cancellationToken);
    }

    private static AuditEntry Read(System.Data.Common.DbDataReader r, Dialect d) => new(
        Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture), d.ReadTimestamp(r, 1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.GetString(8));

    /// <summary>Newest first; the cursor's key is the last seq seen.</summary>
    public async Task<Page<AuditEntry>> PageAsync(long? after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(PageSql, [("after", after ?? long.MaxValue), ("take", take + 1)], Read, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "audit", r => (r.Seq.ToString(CultureInfo.InvariantCulture), r.Seq.ToString(CultureInfo.InvariantCulture)), r => r);
    }

    /// <summary>The whole log as RFC 4180 CSV in append order, written in batches (never the whole log in memory).</summary>
    public async Task WriteCsvAsync(Stream output, CancellationToken cancellationToken)
    {
        var writer = new StreamWriter(output, new UTF8Encoding(false), 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteLineAsync("seq,at,moderator_id,action,object_kind,object_id,case_id,reason,before_state".AsMemory(), cancellationToken).ConfigureAwait(false);
            long last = 0;
            while (true)
            {
                List<AuditEntry> rows;
                await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows = await db.QueryAsync($"SELECT {Columns} FROM moderation_audit WHERE seq > @after ORDER BY seq LIMIT 500", [("after", last)], Read,
                        cancellationToken).ConfigureAwait(false);
                }

                foreach (var e in rows)
                {
                    var line = string.Join(',', e.Seq.ToString(CultureInfo.InvariantCulture), Cell(e.At.ToString("O", CultureInfo.InvariantCulture)),
                        Cell(e.ModeratorId), Cell(e.Action), Cell(e.Kind), Cell(e.ObjectId), Cell(e.CaseId ?? ""), Cell(e.Reason), Cell(e.BeforeState));
                    await writer.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
                    last = e.Seq;
                }

                if (rows.Count < 500)
                {
                    break;
                }
            }

            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One CSV field, always quoted (<see cref="Api.CsvField"/>): reasons are moderators' free text.</summary>
    internal static string Cell(string value) => Api.CsvField.Text(value, alwaysQuote: true);

    /// <summary>A flat JSON object of an object's state (strings, booleans, instants, nulls).</summary>
    public static string State(params (string Name, object? Value)[] fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                switch (value)
                {
                    case null:
                        json.WriteNull(name);
                        break;
                    case bool b:
                        json.WriteBoolean(name, b);
                        break;
                    case long l:
                        json.WriteNumber(name, l);
                        break;
                    case int i:
                        json.WriteNumber(name, i);
                        break;
                    case string[] items:
                        json.WriteStartArray(name);
                        foreach (var item in items)
                        {
                            json.WriteStringValue(item);
                        }

                        json.WriteEndArray();
                        break;
                    case DateTimeOffset t:
                        json.WriteString(name, t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                        break;
                    default:
                        json.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
                        break;
                }
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
