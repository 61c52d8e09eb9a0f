using System.Data.Common;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Comments;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.StreamKeys;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>Why an action or appeal was refused (the endpoint maps it to 404/403/409).</summary>
internal enum ActionOutcome
{
    Done,
    NotFound,
    ClaimedByAnother,
    Closed,
    NotApplicable,
    Protected,
    WindowPassed,
    AlreadyAppealed,
    SameModerator,
}

/// <summary>
/// Moderators' actions on cases and the appeals against them. Every action runs in one transaction with its
/// <c>moderation_actions</c> row and its audit row (<see cref="AuditLog"/>, with the object's state before), so each is
/// recorded if and only if it happened. Enforcement reaches the media path after the commit: playback of a hidden or
/// removed video is refused by the origin at once in this process (<see cref="ProtectedVideos"/>) and within
/// <see cref="ControlPlaneOptions.CacheRefreshInterval"/> in others; edges drop what they hold of it
/// (<see cref="EdgeInvalidations"/>); running publishes of a suspended or banned account, of an account that reached
/// three strikes, or of a removed live video are ended through <see cref="ILivePublishers"/> (when the host has one),
/// and new ones are refused by <see cref="LiveIngest"/> (<see cref="AccountStanding.MayPublishSql"/>). A ban also ends
/// the account's sessions and playback tokens in the same transaction.
/// </summary>
internal sealed partial class ActionStore(Database database, Sessions sessions, PlaybackRevocations playbackRevocations, EdgeInvalidations edges,
    ProtectedVideos protectedVideos, IServiceProvider services, IOptions<ModerationOptions> options, TimeProvider time, ILogger<ActionStore> logger)
{
    private const string ActionColumns = "id, case_id, action, object_kind, object_id, target_user_id, reason, created_at, reversed_at";

    private const string AppealColumns = "id, action_id, appellant_id, text, state, created_at, decided_by, decided_at, decision_reason";

    private static ActionResponse ReadAction(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
        r.GetString(6), d.ReadTimestamp(r, 7), d.ReadNullableTimestamp(r, 8));

    private static AppealResponse ReadAppeal(DbDataReader r, Dialect d) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), d.ReadTimestamp(r, 5), r.IsDBNull(6) ? null : r.GetString(6),
        d.ReadNullableTimestamp(r, 7), r.IsDBNull(8) ? null : r.GetString(8));

    /// <summary>What to do once the transaction committed (in-memory gates, disconnects).</summary>
    private sealed class After
    {
        public List<string> Blocked { get; } = [];
        public List<(string Id, string Visibility)> Unblocked { get; } = [];
        public List<string> AgeRestricted { get; } = [];
        public List<string> StreamKeys { get; } = [];
        public List<(string VideoId, string MessageId)> ChatDeleted { get; } = [];
    }

    /// <summary>Takes <paramref name="a"/> on the case's object. The case must not be claimed by another moderator.</summary>
    public async Task<(ActionOutcome Outcome, ActionResponse? Action, string? Detail)> TakeAsync(string caseId, Caller moderator, TakeAction a,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var after = new After();
        ActionResponse? taken;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            await EdgeInvalidations.LockWritersInAsync(db, cancellationToken).ConfigureAwait(false);
            var c = await ReportStore.FindInAsync(db, caseId, cancellationToken).ConfigureAwait(false);
            if (c is null)
            {
                return (ActionOutcome.NotFound, null, null);
            }

            if (c.HeldByAnother(moderator.Id, now))
            {
                return (ActionOutcome.ClaimedByAnother, null, null);
            }

            if (c.State == CaseState.Dismissed || (c.State != CaseState.Open && a.Action is ModerationAction.Dismiss or ModerationAction.Hide))
            {
                return (ActionOutcome.Closed, null, null);
            }

            var refused = await ApplyInAsync(db, c, moderator, a, now, after, cancellationToken).ConfigureAwait(false);
            if (refused is not null)
            {
                return (refused.Value.Outcome, null, refused.Value.Detail);
            }

            var actionId = Ids.New();
            var target = a.Action is ModerationAction.Dismiss ? null : c.OwnerId;
            await db.ExecAsync(
                $"""
                INSERT INTO moderation_actions ({ActionColumns}, moderator_id)
                VALUES (@id, @case, @a, @k, @o, @t, @r, @now, NULL, @m)
                """,
                [("id", actionId), ("case", c.Id), ("a", a.Action), ("k", c.Kind), ("o", c.ObjectId), ("t", target), ("r", a.Reason), ("now", now), ("m", moderator.Id)],
                cancellationToken).ConfigureAwait(false);

            // Hide keeps the case open (and claimed) for the decision; every other action closes it and frees the claim.
            if (a.Action != ModerationAction.Hide)
            {
                await db.ExecAsync(
                    """
                    UPDATE moderation_cases SET state = @s, outcome = @o, decided_by = @m, decided_at = @now, claimed_by = NULL, claim_expires_at = NULL
                    WHERE id = @id
                    """,
                    [("s", a.Action == ModerationAction.Dismiss ? CaseState.Dismissed : CaseState.Actioned), ("o", a.Action == ModerationAction.Dismiss ? null : a.Action),
                     ("m", moderator.Id), ("now", now), ("id", c.Id)], cancellationToken).ConfigureAwait(false);
            }

            taken = await db.SingleAsync($"SELECT {ActionColumns} FROM moderation_actions WHERE id = @id", [("id", actionId)], ReadAction, cancellationToken)
                .ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await EnforceAsync(after).ConfigureAwait(false);
        Log.ActionTaken(logger, a.Action, caseId, moderator.Id);
        return (ActionOutcome.Done, taken, null);
    }

    /// <summary>The action's writes and its audit row; a refusal instead when it does not apply.</summary>
    private async Task<(ActionOutcome Outcome, string Detail)?> ApplyInAsync(DbSession db, CaseRow c, Caller moderator, TakeAction a, DateTimeOffset now,
        After after, CancellationToken cancellationToken)
    {
        string before;
        switch (a.Action)
        {
            case ModerationAction.Dismiss:
                before = await StateOfAsync(db, c.Kind, c.ObjectId, now, cancellationToken).ConfigureAwait(false);
                await RestoreHiddenInAsync(db, c, after, cancellationToken).ConfigureAwait(false);
                break;

            case ModerationAction.Hide or ModerationAction.Remove:
                before = await StateOfAsync(db, c.Kind, c.ObjectId, now, cancellationToken).ConfigureAwait(false);
                var to = a.Action == ModerationAction.Hide ? "hidden" : "removed";
                if (c.Kind == ObjectKind.Video)
                {
                    var changed = await db.ExecAsync(
                        "UPDATE videos SET moderation = @m, moderated_at = @now WHERE id = @id AND (moderation IS NULL OR moderation = 'hidden')",
                        [("m", to), ("now", now), ("id", c.ObjectId)], cancellationToken).ConfigureAwait(false);
                    if (changed == 0)
                    {
                        return (ActionOutcome.NotApplicable, "The video is gone or already removed.");
                    }

                    await edges.RecordInAsync(db, c.ObjectId, cancellationToken).ConfigureAwait(false);
                    after.Blocked.Add(c.ObjectId);
                    after.StreamKeys.AddRange(await db.QueryAsync(
                        "SELECT k.id FROM stream_keys k JOIN videos v ON v.id = k.live_video_id WHERE v.id = @v AND v.status = 'live'",
                        [("v", c.ObjectId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false));
                }
                else if (c.Kind == ObjectKind.Comment)
                {
                    var done = await CommentStore.ModerateInAsync(db, c.ObjectId, CommentStatus.Published, to, cancellationToken).ConfigureAwait(false)
                        || (to == CommentStatus.Removed && await CommentStore.ModerateInAsync(db, c.ObjectId, CommentStatus.Hidden, to, cancellationToken).ConfigureAwait(false));
                    if (!done)
                    {
                        return (ActionOutcome.NotApplicable, "The comment is gone or already hidden or removed.");
                    }
                }
                else if (c.Kind == ObjectKind.ChatMessage && a.Action == ModerationAction.Remove)
                {
                    var videoId = await db.QueryAsync(
                        "UPDATE chat_messages SET deleted_at = @now, deleted_by = @m WHERE id = @id AND deleted_at IS NULL RETURNING video_id",
                        [("now", now), ("m", moderator.Id), ("id", c.ObjectId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
                    if (videoId.Count == 0)
                    {
                        return (ActionOutcome.NotApplicable, "The chat message is gone or already removed.");
                    }

                    after.ChatDeleted.Add((videoId[0], c.ObjectId));
                }
                else if (c.Kind == ObjectKind.ChatMessage)
                {
                    return (ActionOutcome.NotApplicable, "A chat message is removed, not hidden: chat is real time.");
                }
                else
                {
                    return (ActionOutcome.NotApplicable, "Only a video, a comment or a chat message can be hidden or removed: act on the account instead.");
                }

                break;

            case ModerationAction.AgeRestrict:
                if (c.Kind != ObjectKind.Video)
                {
                    return (ActionOutcome.NotApplicable, "Only a video can be age-restricted.");
                }

                before = await StateOfAsync(db, c.Kind, c.ObjectId, now, cancellationToken).ConfigureAwait(false);
                if (await db.ExecAsync("UPDATE videos SET age_restricted = TRUE WHERE id = @id AND NOT age_restricted", [("id", c.ObjectId)], cancellationToken)
                        .ConfigureAwait(false) == 0)
                {
                    return (ActionOutcome.NotApplicable, "The video is gone or already age-restricted.");
                }

                // Tokens issued before now were issued without the adult check; untokenised answers edges hold are wrong now.
                await playbackRevocations.VoidVideoInAsync(db, c.ObjectId, cancellationToken).ConfigureAwait(false);
                await edges.RecordInAsync(db, c.ObjectId, cancellationToken).ConfigureAwait(false);
                after.AgeRestricted.Add(c.ObjectId);
                break;

            case ModerationAction.Strike or ModerationAction.Suspend or ModerationAction.Ban:
                var target = await TargetAsync(db, c, moderator, now, cancellationToken).ConfigureAwait(false);
                if (target.Refusal is not null)
                {
                    return target.Refusal;
                }

                before = target.State!;
                if (a.Action == ModerationAction.Suspend)
                {
                    await db.ExecAsync("UPDATE users SET account_state = 'suspended', suspended_until = @until WHERE id = @id AND account_state <> 'banned'",
                        [("until", now + TimeSpan.FromDays(a.Days!.Value)), ("id", c.OwnerId)], cancellationToken).ConfigureAwait(false);
                }
                else if (a.Action == ModerationAction.Ban)
                {
                    await db.ExecAsync("UPDATE users SET account_state = 'banned', suspended_until = NULL WHERE id = @id", [("id", c.OwnerId)], cancellationToken)
                        .ConfigureAwait(false);

                    // At once: its access tokens die in this process now (and in others within the cache refresh), its
                    // refresh tokens everywhere with this commit, its playback tokens likewise.
                    await sessions.RevokeAllInAsync(db, c.OwnerId!, cancellationToken).ConfigureAwait(false);
                    await playbackRevocations.VoidViewerInAsync(db, c.OwnerId!, cancellationToken).ConfigureAwait(false);
                }

                // A strike ends running publishes only when it is the one that suspends (the new row is not written yet: >= 2 before it).
                var endsPublishing = a.Action != ModerationAction.Strike
                    || await db.ScalarAsync<long>(
                        "SELECT COUNT(*) FROM moderation_actions WHERE target_user_id = @u AND action = 'strike' AND reversed_at IS NULL AND created_at > @since",
                        [("u", c.OwnerId), ("since", now - AccountStanding.StrikeWindow)], cancellationToken).ConfigureAwait(false) >= AccountStanding.StrikesToSuspend - 1;
                if (endsPublishing)
                {
                    after.StreamKeys.AddRange(await db.QueryAsync(
                        "SELECT k.id FROM stream_keys k JOIN channels ch ON ch.id = k.channel_id WHERE ch.owner_id = @u AND k.revoked_at IS NULL",
                        [("u", c.OwnerId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false));
                }

                break;

            case ModerationAction.Limit:
                var limited = await TargetAsync(db, c, moderator, now, cancellationToken).ConfigureAwait(false);
                if (limited.Refusal is not null)
                {
                    return limited.Refusal;
                }

                before = limited.State!;
                if (await db.ExecAsync("UPDATE users SET limited_at = @now WHERE id = @id AND limited_at IS NULL", [("now", now), ("id", c.OwnerId)], cancellationToken)
                        .ConfigureAwait(false) == 0)
                {
                    return (ActionOutcome.NotApplicable, "The account is already limited.");
                }

                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(a), a.Action, null);
        }

        await AuditLog.AppendInAsync(db, now, moderator.Id, a.Action, c.Kind, c.ObjectId, c.Id,
            a.Days is { } days ? $"{a.Reason} ({days.ToString(System.Globalization.CultureInfo.InvariantCulture)} days)" : a.Reason, before, cancellationToken)
            .ConfigureAwait(false);
        return null;
    }

    /// <summary>The case's responsible account for an account action, with its state before; refused for an admin (and, unless the caller is an admin, a moderator).</summary>
    private static async Task<(string? State, (ActionOutcome, string)? Refusal)> TargetAsync(DbSession db, CaseRow c, Caller moderator, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (c.OwnerId is null)
        {
            return (null, (ActionOutcome.NotApplicable, "The object has no account to act on."));
        }

        var role = await db.ScalarAsync<string>("SELECT role FROM users WHERE id = @id AND deleted_at IS NULL", [("id", c.OwnerId)], cancellationToken).ConfigureAwait(false);
        if (role is null)
        {
            return (null, (ActionOutcome.NotApplicable, "The account is gone."));
        }

        if (role == Roles.Admin || (role == Roles.Moderator && !moderator.IsAdmin))
        {
            return (null, (ActionOutcome.Protected, "An admin's account (or, for a moderator, another moderator's) cannot be acted on this way."));
        }

        return (await StateOfAsync(db, ObjectKind.Account, c.OwnerId, now, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>A dismissal shows again what a hide hid.</summary>
    private static async Task RestoreHiddenInAsync(DbSession db, CaseRow c, After after, CancellationToken cancellationToken)
    {
        if (c.Kind == ObjectKind.Video)
        {
            var visibility = await db.QueryAsync("UPDATE videos SET moderation = NULL, moderated_at = NULL WHERE id = @id AND moderation = 'hidden' RETURNING visibility",
                [("id", c.ObjectId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
            if (visibility.Count == 1)
            {
                after.Unblocked.Add((c.ObjectId, visibility[0]));
            }
        }
        else if (c.Kind == ObjectKind.Comment)
        {
            await CommentStore.ModerateInAsync(db, c.ObjectId, CommentStatus.Hidden, CommentStatus.Published, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The object's state as the audit log keeps it (before the action).</summary>
    internal static async Task<string> StateOfAsync(DbSession db, string kind, string objectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = kind switch
        {
            ObjectKind.Video => await db.SingleAsync(
                "SELECT visibility, status, moderation, age_restricted, title, channel_id FROM videos WHERE id = @id", [("id", objectId)],
                (r, _) => AuditLog.State(("visibility", r.GetString(0)), ("status", r.GetString(1)), ("moderation", r.IsDBNull(2) ? null : r.GetString(2)),
                    ("ageRestricted", r.GetBoolean(3)), ("title", r.GetString(4)), ("channelId", r.GetString(5))), cancellationToken).ConfigureAwait(false),
            ObjectKind.Comment => await db.SingleAsync(
                "SELECT status, video_id, author_id, text, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM comments WHERE id = @id", [("id", objectId)],
                (r, _) => AuditLog.State(("status", r.GetString(0)), ("videoId", r.GetString(1)), ("authorId", r.GetString(2)), ("text", r.GetString(3)),
                    ("deleted", Convert.ToInt64(r.GetValue(4), System.Globalization.CultureInfo.InvariantCulture) == 1)), cancellationToken).ConfigureAwait(false),
            ObjectKind.ChatMessage => await db.SingleAsync(
                "SELECT video_id, author_id, text, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM chat_messages WHERE id = @id", [("id", objectId)],
                (r, _) => AuditLog.State(("videoId", r.GetString(0)), ("authorId", r.GetString(1)), ("text", r.GetString(2)),
                    ("deleted", Convert.ToInt64(r.GetValue(3), System.Globalization.CultureInfo.InvariantCulture) == 1)), cancellationToken).ConfigureAwait(false),
            ObjectKind.Channel => await db.SingleAsync("SELECT name, owner_id FROM channels WHERE id = @id", [("id", objectId)],
                (r, _) => AuditLog.State(("name", r.GetString(0)), ("ownerId", r.GetString(1))), cancellationToken).ConfigureAwait(false),
            _ => await db.SingleAsync(
                $"""
                SELECT u.role, u.account_state, u.suspended_until,
                       (SELECT COUNT(*) FROM moderation_actions s WHERE s.target_user_id = u.id AND s.action = 'strike' AND s.reversed_at IS NULL AND s.created_at > @since),
                       u.limited_at
                FROM users u WHERE u.id = @id
                """, [("id", objectId), ("since", now - AccountStanding.StrikeWindow)],
                (r, d) => AuditLog.State(("role", r.GetString(0)), ("accountState", r.GetString(1)), ("suspendedUntil", d.ReadNullableTimestamp(r, 2)),
                    ("activeStrikes", Convert.ToInt64(r.GetValue(3), System.Globalization.CultureInfo.InvariantCulture)), ("limitedAt", d.ReadNullableTimestamp(r, 4))),
                cancellationToken).ConfigureAwait(false),
        };
        return state ?? AuditLog.State(("exists", false));
    }

    /// <summary>Actions that affect the account (its strikes, its removed videos and comments), newest first: what it may appeal.</summary>
    public async Task<Page<ActionResponse>> AgainstAsync(string userId, (DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(
            $"""
            SELECT {ActionColumns} FROM moderation_actions
            WHERE target_user_id = @u AND (created_at < @kt OR (created_at = @kt AND id < @ki))
            ORDER BY created_at DESC, id DESC LIMIT @take
            """,
            [("u", userId), ("kt", after.At), ("ki", after.Id), ("take", take + 1)], ReadAction, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "my-actions", r => (Paging.Key(r.CreatedAt), r.Id), r => r);
    }

    /// <summary>The affected account appeals a removal or a strike, once, within <see cref="ModerationOptions.AppealWindow"/>.</summary>
    public async Task<(ActionOutcome Outcome, AppealResponse? Appeal)> AppealAsync(string actionId, Caller caller, string text, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var action = await db.SingleAsync($"SELECT {ActionColumns} FROM moderation_actions WHERE id = @id", [("id", actionId)], ReadAction, cancellationToken).ConfigureAwait(false);
        if (action is null || action.TargetUserId != caller.Id)
        {
            return (ActionOutcome.NotFound, null);
        }

        if (!ModerationAction.IsAppealable(action.Action))
        {
            return (ActionOutcome.NotApplicable, null);
        }

        if (action.ReversedAt is not null)
        {
            return (ActionOutcome.Closed, null);
        }

        if (action.CreatedAt + options.Value.AppealWindow < now)
        {
            return (ActionOutcome.WindowPassed, null);
        }

        var id = Ids.New();
        var inserted = await db.ExecAsync(
            """
            INSERT INTO moderation_appeals (id, action_id, appellant_id, text, state, created_at) VALUES (@id, @a, @me, @t, 'pending', @now)
            ON CONFLICT (action_id) DO NOTHING
            """,
            [("id", id), ("a", actionId), ("me", caller.Id), ("t", text), ("now", now)], cancellationToken).ConfigureAwait(false);
        if (inserted == 0)
        {
            return (ActionOutcome.AlreadyAppealed, null);
        }

        return (ActionOutcome.Done, await db.SingleAsync($"SELECT {AppealColumns} FROM moderation_appeals WHERE id = @id", [("id", id)], ReadAppeal, cancellationToken)
            .ConfigureAwait(false));
    }

    /// <summary>Appeals in a state, oldest first.</summary>
    public async Task<Page<AppealResponse>> AppealsAsync(string state, (DateTimeOffset At, string Id)? after, int take, CancellationToken cancellationToken)
    {
        var (at, id) = after ?? (DateTimeOffset.UnixEpoch, "");
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(
            $"""
            SELECT {AppealColumns} FROM moderation_appeals
            WHERE state = @s AND (created_at > @kt OR (created_at = @kt AND id > @ki))
            ORDER BY created_at, id LIMIT @take
            """,
            [("s", state), ("kt", at), ("ki", id), ("take", take + 1)], ReadAppeal, cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "appeals-" + state, r => (Paging.Key(r.CreatedAt), r.Id), r => r);
    }

    /// <summary>
    /// Decides a pending appeal; the moderator who took the action may not. A granted appeal reverses the action in the
    /// same transaction: a removed video or comment is shown again, a strike stops counting.
    /// </summary>
    public async Task<(ActionOutcome Outcome, AppealResponse? Appeal)> DecideAsync(string appealId, Caller moderator, bool granted, string reason,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var after = new After();
        AppealResponse? decided;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            await EdgeInvalidations.LockWritersInAsync(db, cancellationToken).ConfigureAwait(false);
            var row = await db.SingleAsync(
                "SELECT a.action_id, x.moderator_id, x.action, x.object_kind, x.object_id, x.case_id FROM moderation_appeals a JOIN moderation_actions x ON x.id = a.action_id WHERE a.id = @id",
                [("id", appealId)], (r, _) => new
                {
                    ActionId = r.GetString(0), By = r.GetString(1), Action = r.GetString(2), Kind = r.GetString(3), ObjectId = r.GetString(4),
                    CaseId = r.IsDBNull(5) ? null : r.GetString(5),
                }, cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                return (ActionOutcome.NotFound, null);
            }

            if (row.By == moderator.Id)
            {
                return (ActionOutcome.SameModerator, null);
            }

            var changed = await db.ExecAsync(
                "UPDATE moderation_appeals SET state = @s, decided_by = @m, decided_at = @now, decision_reason = @r WHERE id = @id AND state = 'pending'",
                [("s", granted ? AppealState.Granted : AppealState.Denied), ("m", moderator.Id), ("now", now), ("r", reason), ("id", appealId)], cancellationToken)
                .ConfigureAwait(false);
            if (changed == 0)
            {
                return (ActionOutcome.Closed, null);
            }

            var before = row.Action is ModerationAction.Strike or ModerationAction.Limit
                ? await StateOfAsync(db, ObjectKind.Account, await db.ScalarAsync<string>("SELECT target_user_id FROM moderation_actions WHERE id = @id", [("id", row.ActionId)], cancellationToken).ConfigureAwait(false) ?? "", now, cancellationToken).ConfigureAwait(false)
                : await StateOfAsync(db, row.Kind, row.ObjectId, now, cancellationToken).ConfigureAwait(false);
            if (granted)
            {
                await db.ExecAsync("UPDATE moderation_actions SET reversed_at = @now WHERE id = @id", [("now", now), ("id", row.ActionId)], cancellationToken).ConfigureAwait(false);
                if (row.Action == ModerationAction.Remove && row.Kind == ObjectKind.Video)
                {
                    var visibility = await db.QueryAsync(
                        "UPDATE videos SET moderation = NULL, moderated_at = NULL WHERE id = @id AND moderation = 'removed' AND presentation_purged_at IS NULL RETURNING visibility",
                        [("id", row.ObjectId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
                    if (visibility.Count == 1)
                    {
                        await edges.RecordInAsync(db, row.ObjectId, cancellationToken).ConfigureAwait(false);
                        after.Unblocked.Add((row.ObjectId, visibility[0]));
                    }
                }
                else if (row.Action == ModerationAction.Limit)
                {
                    await db.ExecAsync("UPDATE users SET limited_at = NULL WHERE id = (SELECT target_user_id FROM moderation_actions WHERE id = @id)",
                        [("id", row.ActionId)], cancellationToken).ConfigureAwait(false);
                }
                else if (row.Action == ModerationAction.Remove && row.Kind == ObjectKind.ChatMessage)
                {
                    // Back in the replay (the live audience saw it go; it does not come back into their chat).
                    await db.ExecAsync("UPDATE chat_messages SET deleted_at = NULL, deleted_by = NULL WHERE id = @id", [("id", row.ObjectId)], cancellationToken)
                        .ConfigureAwait(false);
                }
                else if (row.Action == ModerationAction.Remove && row.Kind == ObjectKind.Comment)
                {
                    await CommentStore.ModerateInAsync(db, row.ObjectId, CommentStatus.Removed, CommentStatus.Published, cancellationToken).ConfigureAwait(false);
                }
            }

            await AuditLog.AppendInAsync(db, now, moderator.Id, granted ? ModerationAction.AppealGranted : ModerationAction.AppealDenied, row.Kind, row.ObjectId,
                row.CaseId, reason, before, cancellationToken).ConfigureAwait(false);
            decided = await db.SingleAsync($"SELECT {AppealColumns} FROM moderation_appeals WHERE id = @id", [("id", appealId)], ReadAppeal, cancellationToken)
                .ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await EnforceAsync(after).ConfigureAwait(false);
        return (ActionOutcome.Done, decided);
    }

    private async Task EnforceAsync(After after)
    {
        foreach (var (videoId, messageId) in after.ChatDeleted)
        {
            await services.GetRequiredService<Realtime.IRealtimePush>().ToGroupAsync(Realtime.RealtimeGroups.Chat(videoId), Chat.ChatEvents.Deleted,
                new Chat.ChatMessageDeleted(videoId, messageId)).ConfigureAwait(false);
        }

        foreach (var id in after.Blocked)
        {
            protectedVideos.Moderated(id);
        }

        foreach (var (id, visibility) in after.Unblocked)
        {
            protectedVideos.Unmoderated(id, visibility);
        }

        foreach (var id in after.AgeRestricted)
        {
            protectedVideos.AgeRestricted(id);
        }

        if (after.StreamKeys.Count > 0)
        {
            // Optional: the host's ingest implements it (the Origin); a control plane without one has nothing running to end.
            var ended = 0;
            foreach (var publishers in services.GetServices<ILivePublishers>())
            {
                ended += publishers.Disconnect(after.StreamKeys, "The broadcast was ended by moderation (the account or the video may not be live).");
            }

            Log.PublishesEnded(logger, ended, after.StreamKeys.Count);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6310, Level = LogLevel.Information, Message = "Moderation action {Action} on case {CaseId} by {ModeratorId}")]
        public static partial void ActionTaken(ILogger logger, string action, string caseId, string moderatorId);

        [LoggerMessage(EventId = 6311, Level = LogLevel.Information, Message = "Moderation ended {Ended} running publishes ({Keys} stream keys of the affected account or video)")]
        public static partial void PublishesEnded(ILogger logger, int ended, int keys);
    }
}
