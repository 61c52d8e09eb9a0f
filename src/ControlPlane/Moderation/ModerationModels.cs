using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>What a report is about, stored as this text. A new kind (<c>chat-message</c>) is a constant here and a
/// case in <see cref="ReportStore"/>'s object lookup: the column is text, so no migration.</summary>
internal static class ObjectKind
{
    public const string Video = "video";
    public const string Comment = "comment";
    public const string Channel = "channel";
    public const string Account = "account";
    public const string ChatMessage = "chat-message";

    public static readonly string[] All = [Video, Comment, Channel, Account, ChatMessage];

    public static bool IsValid(string? k) => k is Video or Comment or Channel or Account or ChatMessage;
}

/// <summary>Why something is reported (PeerTube's abuse predefined reasons, folded to these), stored as this text.</summary>
internal static class ReportReason
{
    public static readonly string[] All = ["violent", "hateful", "spam", "privacy", "rights", "sexual", "child-safety", "other"];

    public static bool IsValid(string? r) => r is not null && Array.IndexOf(All, r) >= 0;
}

/// <summary>A case's state, stored as this text. One open case per object (a partial unique index): reports of an
/// object while its case is open join it; a report after it closed opens a new one.</summary>
internal static class CaseState
{
    public const string Open = "open";

    /// <summary>Closed with an action (removed, struck, ...): the outcome says which.</summary>
    public const string Actioned = "actioned";

    /// <summary>Closed with nothing wrong found.</summary>
    public const string Dismissed = "dismissed";

    public static bool IsValid(string? s) => s is Open or Actioned or Dismissed;
}

/// <summary>What a moderator can do on a case, stored as this text in <c>moderation_actions</c> and the audit log.</summary>
internal static class ModerationAction
{
    public const string Dismiss = "dismiss";

    /// <summary>Hide the video or comment while the case stays open (a later dismiss shows it again).</summary>
    public const string Hide = "hide";

    public const string Remove = "remove";
    public const string AgeRestrict = "age-restrict";
    public const string Strike = "strike";
    public const string Suspend = "suspend";
    public const string Ban = "ban";

    /// <summary>Limit the account: its new comments are held for review, seen only by itself and the video's managers, and it is
    /// not told (a shadow limit). An appeal granted lifts it.</summary>
    public const string Limit = "limit";

    /// <summary>Audit-only actions (not choosable on a case).</summary>
    public const string Claim = "claim";
    public const string AppealGranted = "appeal-granted";
    public const string AppealDenied = "appeal-denied";

    public static bool IsValid(string? a) => a is Dismiss or Hide or Remove or AgeRestrict or Strike or Suspend or Ban or Limit;

    /// <summary>The actions an appeal can reverse.</summary>
    public static bool IsAppealable(string a) => a is Remove or Strike or Limit;
}

internal static class AppealState
{
    public const string Pending = "pending";
    public const string Granted = "granted";
    public const string Denied = "denied";

    public static bool IsValid(string? s) => s is Pending or Granted or Denied;
}

/// <summary>Sort orders of the queue; each has its own cursors.</summary>
internal static class CaseSort
{
    public const string Oldest = "oldest";
    public const string MostReported = "most-reported";

    public static bool IsValid(string? s) => s is Oldest or MostReported;
}

/// <summary><c>POST /api/v1/reports</c>.</summary>
/// <param name="Kind">video, comment, channel, account or chat-message.</param>
/// <param name="ObjectId">The id of what is reported (the account's id for an account).</param>
/// <param name="Reason">violent, hateful, spam, privacy, rights, sexual, child-safety or other.</param>
/// <param name="Text">What the reporter says: 0-2000 characters.</param>
internal sealed record CreateReportRequest(string? Kind, string? ObjectId, string? Reason, string? Text);

internal sealed record CreateReport(string Kind, string ObjectId, string Reason, string Text);

/// <summary>A report as its reporter sees it, with the outcome of its case.</summary>
/// <param name="CaseState">open, actioned or dismissed.</param>
/// <param name="Outcome">The action that closed the case (remove, strike, ...); null while open or when dismissed.</param>
internal sealed record ReportResponse(string Id, string CaseId, string Kind, string ObjectId, string Reason, string Text, DateTimeOffset CreatedAt,
    string CaseState, string? Outcome, DateTimeOffset? DecidedAt);

/// <summary>A case in the moderators' queue.</summary>
/// <param name="OwnerId">The account responsible for the object (a video's or channel's owner, a comment's author, the account itself); null if gone.</param>
/// <param name="Reason">The first report's reason (each report keeps its own).</param>
/// <param name="ReportCount">Distinct reporters.</param>
/// <param name="ClaimedBy">The moderator holding the claim, while it is unexpired.</param>
internal sealed record CaseResponse(string Id, string Kind, string ObjectId, string? OwnerId, string Reason, string State, int ReportCount,
    DateTimeOffset FirstReportedAt, DateTimeOffset LastReportedAt, string? ClaimedBy, DateTimeOffset? ClaimExpiresAt, string? Outcome,
    string? DecidedBy, DateTimeOffset? DecidedAt);

/// <summary>One report of a case, as moderators see it.</summary>
internal sealed record CaseReport(string Id, string ReporterId, string ReporterHandle, string Reason, string Text, DateTimeOffset CreatedAt);

/// <summary>A case with its reports (the reporters listed).</summary>
internal sealed record CaseDetail(CaseResponse Case, List<CaseReport> Reports);

/// <summary><c>POST /api/v1/reports/{id}/messages</c>: the reporter or a moderator writes on the report's thread.</summary>
/// <param name="Body">1-2000 characters.</param>
internal sealed record MessageRequest(string? Body);

internal sealed record MessageResponse(string Id, string ReportId, string AuthorId, bool FromModerator, string Body, DateTimeOffset CreatedAt);

/// <summary><c>POST /api/v1/moderation/cases/{id}/actions</c>.</summary>
/// <param name="Action">dismiss, hide, remove, age-restrict, strike, suspend, ban or limit.</param>
/// <param name="Reason">Why (1-2000 characters): kept in the audit log and shown to the affected account.</param>
/// <param name="Days">For suspend: 1-365.</param>
internal sealed record ActionRequest(string? Action, string? Reason, int? Days);

internal sealed record TakeAction(string Action, string Reason, int? Days);

/// <summary>An action taken, as moderators and the affected account see it.</summary>
/// <param name="TargetUserId">The account it affects (the object's owner).</param>
/// <param name="ReversedAt">Set when a granted appeal reversed it.</param>
internal sealed record ActionResponse(string Id, string? CaseId, string Action, string Kind, string ObjectId, string? TargetUserId, string Reason,
    DateTimeOffset CreatedAt, DateTimeOffset? ReversedAt);

/// <summary><c>POST /api/v1/moderation/actions/{id}/appeal</c>: the affected account appeals a removal or a strike.</summary>
/// <param name="Text">1-2000 characters.</param>
internal sealed record AppealRequest(string? Text);

/// <summary><c>POST /api/v1/moderation/appeals/{id}/decision</c>: decided by a moderator other than the one who acted.</summary>
internal sealed record AppealDecisionRequest(bool? Granted, string? Reason);

internal sealed record AppealResponse(string Id, string ActionId, string AppellantId, string Text, string State, DateTimeOffset CreatedAt,
    string? DecidedBy, DateTimeOffset? DecidedAt, string? DecisionReason);

/// <summary>One row of the append-only audit log.</summary>
/// <param name="BeforeState">The object's state before the action, as JSON.</param>
internal sealed record AuditEntry(long Seq, DateTimeOffset At, string ModeratorId, string Action, string Kind, string ObjectId, string? CaseId,
    string Reason, string BeforeState);

/// <summary><c>PUT /api/v1/me/age-attestation</c>: the account says it is 18 or older (only the instant is kept).</summary>
internal sealed record AgeAttestationRequest(bool? Adult);

internal sealed record AgeAttestationResponse(bool Adult, DateTimeOffset? AttestedAt);

internal static class ModerationRules
{
    public const int MaxText = 2000;

    public static CreateReport? Validate(CreateReportRequest r, Validation v)
    {
        if (!ObjectKind.IsValid(r.Kind))
        {
            v.Add("kind", "must be one of " + string.Join(", ", ObjectKind.All));
        }

        if (r.ObjectId is null || r.ObjectId.Length is 0 or > 32)
        {
            v.Add("objectId", "is required (an id of at most 32 characters)");
        }

        if (!ReportReason.IsValid(r.Reason))
        {
            v.Add("reason", "must be one of " + string.Join(", ", ReportReason.All));
        }

        var text = v.OptionalText("text", r.Text, MaxText) ?? "";
        return v.IsValid ? new CreateReport(r.Kind!, r.ObjectId!, r.Reason!, text) : null;
    }

    public static TakeAction? Validate(ActionRequest r, Validation v)
    {
        if (!ModerationAction.IsValid(r.Action))
        {
            v.Add("action", "must be one of dismiss, hide, remove, age-restrict, strike, suspend, ban, limit");
        }

        var reason = v.Text("reason", r.Reason, 1, MaxText);
        if (r.Action == ModerationAction.Suspend && r.Days is not (>= 1 and <= 365))
        {
            v.Add("days", "is required for suspend: 1 to 365");
        }
        else if (r.Action != ModerationAction.Suspend && r.Days is not null)
        {
            v.Add("days", "is only for suspend");
        }

        return v.IsValid ? new TakeAction(r.Action!, reason, r.Days) : null;
    }
}
