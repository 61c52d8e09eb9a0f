using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>What a report or claim found: done, or why not.</summary>
internal enum ReportOutcome
{
    Done,
    NotFound,
    AlreadyReported,
    RateLimited,
    ClaimedByAnother,
    Closed,
}

internal sealed record CaseRow(string Id, string Kind, string ObjectId, string? OwnerId, string Reason, string State, int ReportCount,
    DateTimeOffset FirstReportedAt, DateTimeOffset LastReportedAt, string? ClaimedBy, DateTimeOffset? ClaimExpiresAt, string? Outcome,
    string? DecidedBy, DateTimeOffset? DecidedAt)
{
    public const string Columns =
        """
        c.id, c.object_kind, c.object_id, c.owner_id, c.reason, c.state, c.report_count, c.first_reported_at, c.last_reported_at,
        c.claimed_by, c.claim_expires_at, c.outcome, c.decided_by, c.decided_at
        """;

    public static CaseRow Read(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5),
        Convert.ToInt32(r.GetValue(6), CultureInfo.InvariantCulture), d.ReadTimestamp(r, 7), d.ReadTimestamp(r, 8), r.IsDBNull(9) ? null : r.GetString(9),
        d.ReadNullableTimestamp(r, 10), r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : r.GetString(12), d.ReadNullableTimestamp(r, 13));

    /// <summary>Claimed by someone other than <paramref name="moderatorId"/>, and the claim has not expired.</summary>
    public bool HeldByAnother(string moderatorId, DateTimeOffset now) =>
        ClaimedBy is not null && ClaimedBy != moderatorId && ClaimExpiresAt > now;

    /// <summary>An expired claim is shown as none.</summary>
    public CaseResponse ToResponse(DateTimeOffset now)
    {
        var held = ClaimedBy is not null && ClaimExpiresAt > now;
        return new(Id, Kind, ObjectId, OwnerId, Reason, State, ReportCount, FirstReportedAt, LastReportedAt, held ? ClaimedBy : null,
            held ? ClaimExpiresAt : null, Outcome, DecidedBy, DecidedAt);
    }
}

/// <summary>
/// Reports, the cases they merge into, the reporter &lt;-&gt; moderator messages and the claims. Invariants:
/// <list type="bullet">
/// <item>At most one open case per object: a partial unique index (<c>ux_moderation_cases_open</c>) decides, and a
/// report joins the open case through <c>INSERT ... ON CONFLICT DO NOTHING</c> then a read, so racing first reports
/// of one object make one case on both engines.</item>
/// <item><c>report_count</c> is the number of the case's reports: one per reporter (a unique key), and the count moves
/// by one only when that insert changed a row, in its transaction.</item>
/// <item>An account's reports per hour are capped (<see cref="ModerationOptions.ReportsPerHour"/>): the count and the
/// insert run serialised per reporter (<see cref="DbSession.SerialiseAsync"/>), so a burst cannot slip past the cap.</item>
/// <item>A claim is a conditional update: it succeeds only when the case is open and unclaimed, claimed by the same
/// moderator, or its claim expired.</item>
/// </list>
/// </summary>
internal sealed partial class ReportStore(Database database, IOptions<ModerationOptions> options, TimeProvider time, ILogger<ReportStore> logger)
{
    private const string ReportColumns =
        "r.id, r.case_id, c.object_kind, c.object_id, r.reason, r.text, r.created_at, c.state, c.outcome, c.decided_at";

    private static ReportResponse ReadReport(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), d.ReadTimestamp(r, 6), r.GetString(7),
        r.IsDBNull(8) ? null : r.GetString(8), d.ReadNullableTimestamp(r, 9));

    private const string QueueOldest =
        $"""
        SELECT {CaseRow.Columns} FROM moderation_cases c
        WHERE (@state = '' OR c.state = @state) AND (@reason = '' OR c.reason = @reason) AND (@kind = '' OR c.object_kind = @kind)
          AND (c.first_reported_at > @kt OR (c.first_reported_at = @kt AND c.id > @ki))
        ORDER BY c.first_reported_at, c.id
        LIMIT @take
        """;

    private const string QueueMost =
        $"""
        SELECT {CaseRow.Columns} FROM moderation_cases c
        WHERE (@state = '' OR c.state = @state) AND (@reason = '' OR c.reason = @reason) AND (@kind = '' OR c.object_kind = @kind)
          AND (c.report_count < @kc OR (c.report_count = @kc AND (c.first_reported_at > @kt OR (c.first_reported_at = @kt AND c.id > @ki))))
        ORDER BY c.report_count DESC, c.first_reported_at, c.id
        LIMIT @take
        """;

    /// <summary>
    /// Files a report: the object must exist and be visible to the reporter (a private video is "not found" to others);
    /// the report joins the object's open case or opens one.
    /// </summary>
    public async Task<(ReportOutcome Outcome, ReportResponse? Report, TimeSpan RetryAfter)> CreateAsync(Caller caller, CreateReport r, CancellationToken cancellationToken)
    {
        var limit = options.Value.ReportsPerHour;
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        await db.SerialiseAsync(DbSession.LockKey("reports:" + caller.Id), cancellationToken).ConfigureAwait(false);
        var recent = await db.QueryAsync(
            "SELECT created_at FROM moderation_reports WHERE reporter_id = @me AND created_at > @since ORDER BY created_at",
            [("me", caller.Id), ("since", now - TimeSpan.FromHours(1))], (x, d) => d.ReadTimestamp(x, 0), cancellationToken).ConfigureAwait(false);
        if (recent.Count >= limit)
        {
            // The oldest report in the window leaves it first.
            var retry = recent.Count == 0 ? TimeSpan.FromHours(1) : recent[recent.Count - limit] + TimeSpan.FromHours(1) - now;
            return (ReportOutcome.RateLimited, null, retry < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retry);
        }

        var owner = await OwnerOfAsync(db, r.Kind, r.ObjectId, caller, cancellationToken).ConfigureAwait(false);
        if (owner is null)
        {
            return (ReportOutcome.NotFound, null, default);
        }

        await db.ExecAsync(
            """
            INSERT INTO moderation_cases (id, object_kind, object_id, owner_id, reason, state, report_count, first_reported_at, last_reported_at)
            VALUES (@id, @k, @o, @owner, @reason, 'open', 0, @now, @now)
            ON CONFLICT (object_kind, object_id) WHERE state = 'open' DO NOTHING
            """,
            [("id", Ids.New()), ("k", r.Kind), ("o", r.ObjectId), ("owner", owner.Value.OwnerId), ("reason", r.Reason), ("now", now)], cancellationToken).ConfigureAwait(false);
        var caseId = await db.ScalarAsync<string>("SELECT id FROM moderation_cases WHERE object_kind = @k AND object_id = @o AND state = 'open'",
            [("k", r.Kind), ("o", r.ObjectId)], cancellationToken).ConfigureAwait(false);
        var reportId = Ids.New();
        var inserted = await db.ExecAsync(
            """
            INSERT INTO moderation_reports (id, case_id, reporter_id, reason, text, created_at) VALUES (@id, @c, @me, @reason, @text, @now)
            ON CONFLICT (case_id, reporter_id) DO NOTHING
            """,
            [("id", reportId), ("c", caseId), ("me", caller.Id), ("reason", r.Reason), ("text", r.Text), ("now", now)], cancellationToken).ConfigureAwait(false);
        if (inserted == 0)
        {
            return (ReportOutcome.AlreadyReported, null, default);
        }

        await db.ExecAsync("UPDATE moderation_cases SET report_count = report_count + 1, last_reported_at = @now WHERE id = @c",
            [("c", caseId), ("now", now)], cancellationToken).ConfigureAwait(false);
        var report = await OneReportInAsync(db, reportId, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        Log.Reported(logger, reportId, caseId!, r.Kind, r.ObjectId);
        return (ReportOutcome.Done, report, default);
    }

    private static Task<ReportResponse?> OneReportInAsync(DbSession db, string reportId, CancellationToken cancellationToken) =>
        db.SingleAsync($"SELECT {ReportColumns} FROM moderation_reports r JOIN moderation_cases c ON c.id = r.case_id WHERE r.id = @id",
            [("id", reportId)], ReadReport, cancellationToken);

    /// <summary>
    /// The account responsible for an object the caller may see ("" when it has none), or null when there is no such
    /// object for the caller. The one place that knows every <see cref="ObjectKind"/>.
    /// </summary>
    internal static async Task<(string OwnerId, string? VideoId)?> OwnerOfAsync(DbSession db, string kind, string objectId, Caller? caller,
        CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case ObjectKind.Video:
            {
                var (access, _) = await VideoAccess.LoadAsync(db, objectId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
                return access is null ? null : (access.OwnerId, objectId);
            }

            case ObjectKind.Comment:
            {
                var row = await db.SingleAsync("SELECT author_id, video_id FROM comments WHERE id = @id AND deleted_at IS NULL AND status IN ('published', 'hidden')",
                    [("id", objectId)], (r, _) => new { Author = r.GetString(0), Video = r.GetString(1) }, cancellationToken).ConfigureAwait(false);
                if (row is null)
                {
                    return null;
                }

                var (access, _) = await VideoAccess.LoadAsync(db, row.Video, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
                return access is null ? null : (row.Author, row.Video);
            }

            case ObjectKind.ChatMessage:
            {
                var row = await db.SingleAsync("SELECT author_id, video_id FROM chat_messages WHERE id = @id AND deleted_at IS NULL",
                    [("id", objectId)], (r, _) => new { Author = r.GetString(0), Video = r.GetString(1) }, cancellationToken).ConfigureAwait(false);
                if (row is null)
                {
                    return null;
                }

                var (access, _) = await VideoAccess.LoadAsync(db, row.Video, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
                return access is null ? null : (row.Author, row.Video);
            }

            case ObjectKind.Channel:
            {
                var owner = await db.ScalarAsync<string>("SELECT owner_id FROM channels WHERE id = @id", [("id", objectId)], cancellationToken).ConfigureAwait(false);
                return owner is null ? null : (owner, null);
            }

            case ObjectKind.Account:
            {
                var id = await db.ScalarAsync<string>("SELECT id FROM users WHERE id = @id AND deleted_at IS NULL", [("id", objectId)], cancellationToken).ConfigureAwait(false);
                return id is null ? null : (id, null);
            }

            default:
                return null;
        }
    }

    /// <summary>The caller's own reports, newest first, each with its case's outcome.</summary>
    public async Task<Page<ReportResponse>> MineAsync(string userId, (DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(
            $"""
            SELECT {ReportColumns} FROM moderation_reports r JOIN moderation_cases c ON c.id = r.case_id
            WHERE r.reporter_id = @me AND (r.created_at < @kt OR (r.created_at = @kt AND r.id < @ki))
            ORDER BY r.created_at DESC, r.id DESC
            LIMIT @take
            """,
            [("me", userId), ("kt", after.At), ("ki", after.Id), ("take", take + 1)], ReadReport, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "my-reports", r => (Paging.Key(r.CreatedAt), r.Id), r => r);
    }

    /// <summary>The moderators' queue.</summary>
    public async Task<Page<CaseResponse>> QueueAsync(string sort, string state, string reason, string kind, string? key, string? afterId, int take,
        CancellationToken cancellationToken)
    {
        var (count, at) = ParseKey(sort, key) ?? (int.MaxValue, DateTimeOffset.UnixEpoch);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        (string, object?)[] args =
        [
            ("state", state), ("reason", reason), ("kind", kind), ("kt", at), ("ki", afterId ?? ""), ("take", take + 1),
        ];
        var rows = sort == CaseSort.Oldest
            ? await db.QueryAsync(QueueOldest, args, CaseRow.Read, cancellationToken).ConfigureAwait(false)
            : await db.QueryAsync(QueueMost, [.. args, ("kc", count)], CaseRow.Read, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return Paging.Cut(rows, take, sort, r => (sort == CaseSort.Oldest
            ? r.FirstReportedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)
            : r.ReportCount.ToString(CultureInfo.InvariantCulture) + ":" + r.FirstReportedAt.UtcTicks.ToString(CultureInfo.InvariantCulture), r.Id), r => r.ToResponse(now));
    }

    /// <summary>A cursor key of <paramref name="sort"/>: "ticks" for oldest, "count:ticks" for most-reported; null if it is not one.</summary>
    public static (int Count, DateTimeOffset At)? ParseKey(string sort, string? key)
    {
        if (key is null)
        {
            return null;
        }

        var parts = key.Split(':');
        var expected = sort == CaseSort.Oldest ? 1 : 2;
        var count = int.MaxValue;
        if (parts.Length != expected
            || !long.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks
            || (expected == 2 && !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out count)))
        {
            return null;
        }

        return (count, new DateTimeOffset(ticks, TimeSpan.Zero));
    }

    public static Task<CaseRow?> FindInAsync(DbSession db, string caseId, CancellationToken cancellationToken) =>
        db.SingleAsync($"SELECT {CaseRow.Columns} FROM moderation_cases c WHERE c.id = @id", [("id", caseId)], CaseRow.Read, cancellationToken);

    /// <summary>A case with its reports (oldest first; at most the first 1000 reporters are listed, the count is exact).</summary>
    public async Task<CaseDetail?> DetailAsync(string caseId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await FindInAsync(db, caseId, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var reports = await db.QueryAsync(
            """
            SELECT r.id, r.reporter_id, COALESCE(u.handle, ''), r.reason, r.text, r.created_at
            FROM moderation_reports r LEFT JOIN users u ON u.id = r.reporter_id
            WHERE r.case_id = @c ORDER BY r.created_at, r.id LIMIT 1000
            """,
            [("c", caseId)], (r, d) => new CaseReport(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), d.ReadTimestamp(r, 5)),
            cancellationToken).ConfigureAwait(false);
        return new CaseDetail(row.ToResponse(time.GetUtcNow()), reports);
    }

    /// <summary>Claims an open case for <see cref="ModerationOptions.ClaimDuration"/> (renews one's own claim).</summary>
    public async Task<(ReportOutcome Outcome, CaseResponse? Case)> ClaimAsync(string caseId, string moderatorId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await db.ExecAsync(
            """
            UPDATE moderation_cases SET claimed_by = @me, claim_expires_at = @until
            WHERE id = @id AND state = 'open' AND (claimed_by IS NULL OR claimed_by = @me OR claim_expires_at <= @now)
            """,
            [("me", moderatorId), ("until", now + options.Value.ClaimDuration), ("id", caseId), ("now", now)], cancellationToken).ConfigureAwait(false);
        var row = await FindInAsync(db, caseId, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return (ReportOutcome.NotFound, null);
        }

        return changed == 1 ? (ReportOutcome.Done, row.ToResponse(now))
            : row.State != CaseState.Open ? (ReportOutcome.Closed, null)
            : (ReportOutcome.ClaimedByAnother, row.ToResponse(now));
    }

    /// <summary>Releases one's own claim (idempotent; an admin may release anyone's).</summary>
    public async Task<bool> ReleaseAsync(string caseId, Caller caller, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE moderation_cases SET claimed_by = NULL, claim_expires_at = NULL WHERE id = @id AND (claimed_by = @me OR @admin = 1)",
            [("id", caseId), ("me", caller.Id), ("admin", caller.IsAdmin ? 1 : 0)], cancellationToken).ConfigureAwait(false);
        return await FindInAsync(db, caseId, cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Whether the caller may read and write a report's messages: its reporter, or a moderator.</summary>
    private static async Task<bool> MayUseThreadAsync(DbSession db, string reportId, Caller caller, CancellationToken cancellationToken) =>
        await db.ScalarAsync<string>("SELECT reporter_id FROM moderation_reports WHERE id = @id", [("id", reportId)], cancellationToken).ConfigureAwait(false) is { } reporter
        && (reporter == caller.Id || caller.IsModerator);

    /// <summary>The report's messages, oldest first; null when the caller may not see the report.</summary>
    public async Task<Page<MessageResponse>?> MessagesAsync(string reportId, Caller caller, (DateTimeOffset At, string Id)? after, int take,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!await MayUseThreadAsync(db, reportId, caller, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var (at, id) = after ?? (DateTimeOffset.UnixEpoch, "");
        var rows = await db.QueryAsync(
            """
            SELECT id, report_id, author_id, from_moderator, body, created_at FROM moderation_messages
            WHERE report_id = @r AND (created_at > @kt OR (created_at = @kt AND id > @ki))
            ORDER BY created_at, id LIMIT @take
            """,
            [("r", reportId), ("kt", at), ("ki", id), ("take", take + 1)], ReadMessage, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "messages", m => (Paging.Key(m.CreatedAt), m.Id), m => m);
    }

    public async Task<MessageResponse?> PostMessageAsync(string reportId, Caller caller, string body, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!await MayUseThreadAsync(db, reportId, caller, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var id = Ids.New();
        var reporter = await db.ScalarAsync<string>("SELECT reporter_id FROM moderation_reports WHERE id = @id", [("id", reportId)], cancellationToken).ConfigureAwait(false);
        var fromModerator = reporter != caller.Id;
        await db.ExecAsync("INSERT INTO moderation_messages (id, report_id, author_id, from_moderator, body, created_at) VALUES (@id, @r, @me, @m, @b, @now)",
            [("id", id), ("r", reportId), ("me", caller.Id), ("m", fromModerator), ("b", body), ("now", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync("SELECT id, report_id, author_id, from_moderator, body, created_at FROM moderation_messages WHERE id = @id", [("id", id)],
            ReadMessage, cancellationToken).ConfigureAwait(false);
    }

    private static MessageResponse ReadMessage(DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetString(4), d.ReadTimestamp(r, 5));

    private static partial class Log
    {
        [LoggerMessage(EventId = 6300, Level = LogLevel.Information, Message = "Report {ReportId} filed on {Kind} {ObjectId} (case {CaseId})")]
        public static partial void Reported(ILogger logger, string reportId, string caseId, string kind, string objectId);
    }
}
