using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Blocks;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>
/// Trust and safety over HTTP. Anyone signed in reports (<c>/reports</c>), talks with moderators on their report, reads
/// their own reports' outcomes and the actions against them, appeals a removal or strike, attests being an adult, and
/// blocks or mutes other accounts (<c>/me/...</c>). Moderators (and admins) work the queue (<c>/moderation/cases</c>),
/// claim, act and decide appeals; admins read and export the audit log.
/// </summary>
internal static class ModerationEndpoints
{
    public static IEndpointRouteBuilder MapModeration(this IEndpointRouteBuilder api)
    {
        var reports = api.MapGroup("/reports").WithTags("Moderation").WithBodyLimit(BodyLimit.Account);
        reports.MapPost("", ReportAsync).RequireAuthorization(Policies.User)
            .Produces<ReportResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests);
        reports.MapGet("/{id}/messages", MessagesAsync).RequireAuthorization(Policies.User)
            .Produces<Page<MessageResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        reports.MapPost("/{id}/messages", PostMessageAsync).RequireAuthorization(Policies.User)
            .Produces<MessageResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        var me = api.MapGroup("/me").WithTags("Moderation").WithBodyLimit(BodyLimit.Account);
        me.MapGet("/reports", MyReportsAsync).RequireAuthorization(Policies.User).Produces<Page<ReportResponse>>().ProducesValidationProblem();
        me.MapGet("/moderation-actions", MyActionsAsync).RequireAuthorization(Policies.User).Produces<Page<ActionResponse>>().ProducesValidationProblem();
        me.MapPut("/age-attestation", AttestAsync).RequireAuthorization(Policies.User).Produces<AgeAttestationResponse>().ProducesValidationProblem();
        me.MapGet("/blocks", BlocksAsync).RequireAuthorization(Policies.User).Produces<Page<BlockResponse>>().ProducesValidationProblem();
        me.MapPut("/blocks/{userId}", BlockAsync).RequireAuthorization(Policies.User)
            .Produces<BlockResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        me.MapDelete("/blocks/{userId}", UnblockAsync).RequireAuthorization(Policies.User).Produces(StatusCodes.Status204NoContent);

        var mod = api.MapGroup("/moderation").WithTags("Moderation").WithBodyLimit(BodyLimit.Account);
        mod.MapGet("/cases", QueueAsync).RequireAuthorization(Policies.Moderator).Produces<Page<CaseResponse>>().ProducesValidationProblem();
        mod.MapGet("/cases/{id}", CaseAsync).RequireAuthorization(Policies.Moderator).Produces<CaseDetail>().ProducesProblem(StatusCodes.Status404NotFound);
        mod.MapPost("/cases/{id}/claim", ClaimAsync).RequireAuthorization(Policies.Moderator)
            .Produces<CaseResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        mod.MapDelete("/cases/{id}/claim", ReleaseAsync).RequireAuthorization(Policies.Moderator)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        mod.MapPost("/cases/{id}/actions", ActAsync).RequireAuthorization(Policies.Moderator)
            .Produces<ActionResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        mod.MapGet("/appeals", AppealsAsync).RequireAuthorization(Policies.Moderator).Produces<Page<AppealResponse>>().ProducesValidationProblem();
        mod.MapPost("/appeals/{id}/decision", DecideAsync).RequireAuthorization(Policies.Moderator)
            .Produces<AppealResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        mod.MapPost("/actions/{id}/appeal", AppealAsync).RequireAuthorization(Policies.User)
            .Produces<AppealResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        mod.MapGet("/words", WordsAsync).RequireAuthorization(Policies.Moderator).Produces<WordListResponse>();
        mod.MapPut("/words", ReplaceWordsAsync).RequireAuthorization(Policies.Moderator).Produces<WordListResponse>().ProducesValidationProblem();
        mod.MapGet("/audit", AuditAsync).RequireAuthorization(Policies.Admin).Produces<Page<AuditEntry>>().ProducesValidationProblem();
        mod.MapGet("/audit.csv", AuditCsvAsync).RequireAuthorization(Policies.Admin).Produces(StatusCodes.Status200OK, contentType: "text/csv");
        return api;
    }

    private static async Task<IResult> ReportAsync(CreateReportRequest request, HttpContext context, ReportStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var command = ModerationRules.Validate(request, v);
        if (command is null)
        {
            return v.Result();
        }

        var (outcome, report, retry) = await store.CreateAsync(Caller.Require(context.User), command, cancellationToken).ConfigureAwait(false);
        return outcome switch
        {
            ReportOutcome.Done => TypedResults.Created($"/api/v1/me/reports/{report!.Id}", report),
            ReportOutcome.NotFound => Problems.NotFound(command.Kind),
            ReportOutcome.AlreadyReported => Problems.Conflict("You have already reported this; your report is in its open case."),
            _ => AuthEndpoints.TooMany(context, retry, "Too many reports from this account; try again later."),
        };
    }

    private static async Task<IResult> MessagesAsync(string id, string? cursor, int? limit, HttpContext context, ReportStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = AfterOldest(cursor, "messages", v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var page = await store.MessagesAsync(id, Caller.Require(context.User), after, take, cancellationToken).ConfigureAwait(false);
        return page is null ? Problems.NotFound("report") : TypedResults.Ok(page);
    }

    private static async Task<IResult> PostMessageAsync(string id, MessageRequest request, HttpContext context, ReportStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var body = v.Text("body", request.Body, 1, ModerationRules.MaxText);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var message = await store.PostMessageAsync(id, Caller.Require(context.User), body, cancellationToken).ConfigureAwait(false);
        return message is null ? Problems.NotFound("report") : TypedResults.Created($"/api/v1/reports/{id}/messages", message);
    }

    private static async Task<IResult> MyReportsAsync(string? cursor, int? limit, HttpContext context, ReportStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, "my-reports", v);
        return v.IsValid ? TypedResults.Ok(await store.MineAsync(Caller.Require(context.User).Id, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> MyActionsAsync(string? cursor, int? limit, HttpContext context, ActionStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, "my-actions", v);
        return v.IsValid ? TypedResults.Ok(await store.AgainstAsync(Caller.Require(context.User).Id, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> WordsAsync(WordList words, CancellationToken cancellationToken) =>
        TypedResults.Ok(await words.GetAsync(cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> ReplaceWordsAsync(WordListRequest request, HttpContext context, WordList words, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (request.Words is null)
        {
            v.Add("words", "is required (an empty list clears it)");
        }

        var list = Chat.BlockedWords.Validate(request.Words, "words", words.MaxWords, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var reason = string.Create(CultureInfo.InvariantCulture, $"instance word list replaced: {list.Length} entries");
        return TypedResults.Ok(await words.ReplaceAsync(Caller.Require(context.User), list, reason, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Records (or withdraws, with false) the account's "I am 18 or older": only the instant is kept.</summary>
    private static async Task<IResult> AttestAsync(AgeAttestationRequest request, HttpContext context, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Adult is null)
        {
            return new Validation().Add("adult", "is required (true or false)").Result();
        }

        var caller = Caller.Require(context.User);
        var at = request.Adult.Value ? time.GetUtcNow() : (DateTimeOffset?)null;
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE users SET adult_attested_at = CASE WHEN @a THEN COALESCE(adult_attested_at, @at) END WHERE id = @id",
            [("a", request.Adult.Value), ("at", at ?? DateTimeOffset.UnixEpoch), ("id", caller.Id)], cancellationToken).ConfigureAwait(false);
        var stored = await db.SingleAsync("SELECT adult_attested_at FROM users WHERE id = @id", [("id", caller.Id)], (r, d) => new { At = d.ReadNullableTimestamp(r, 0) },
            cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new AgeAttestationResponse(stored?.At is not null, stored?.At));
    }

    private static async Task<IResult> BlocksAsync(string? cursor, int? limit, HttpContext context, BlockStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, "blocks", v);
        return v.IsValid ? TypedResults.Ok(await store.ListAsync(Caller.Require(context.User).Id, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> BlockAsync(string userId, BlockRequest? request, HttpContext context, BlockStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var kind = request?.Kind ?? BlockKind.Block;
        var v = new Validation();
        if (!BlockKind.IsValid(kind))
        {
            v.Add("kind", "must be block or mute");
        }

        if (userId == caller.Id)
        {
            v.Add("userId", "cannot be your own account");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        var block = await store.SetAsync(caller.Id, userId, kind, cancellationToken).ConfigureAwait(false);
        return block is null ? Problems.NotFound("user") : TypedResults.Ok(block);
    }

    private static async Task<IResult> UnblockAsync(string userId, HttpContext context, BlockStore store, CancellationToken cancellationToken)
    {
        await store.RemoveAsync(Caller.Require(context.User).Id, userId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>The queue: filter by <c>state</c> (default open), <c>reason</c>, <c>kind</c>; <c>sort</c> oldest (default) or most-reported.</summary>
    private static async Task<IResult> QueueAsync(string? state, string? reason, string? kind, string? sort, string? cursor, int? limit, ReportStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        sort ??= CaseSort.Oldest;
        state ??= CaseState.Open;
        if (!CaseSort.IsValid(sort))
        {
            v.Add("sort", "must be oldest or most-reported");
        }

        if (!CaseState.IsValid(state))
        {
            v.Add("state", "must be open, actioned or dismissed");
        }

        if (reason is not null && !ReportReason.IsValid(reason))
        {
            v.Add("reason", "must be one of " + string.Join(", ", ReportReason.All));
        }

        if (kind is not null && !ObjectKind.IsValid(kind))
        {
            v.Add("kind", "must be one of " + string.Join(", ", ObjectKind.All));
        }

        var take = Paging.Limit(limit, v);
        var (key, id) = CaseSort.IsValid(sort) ? Paging.After(cursor, sort, v) : default;
        if (key is not null && ReportStore.ParseKey(sort, key) is null)
        {
            v.Add("cursor", "is not a cursor of this listing");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        return TypedResults.Ok(await store.QueueAsync(sort, state, reason ?? "", kind ?? "", key, id, take, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> CaseAsync(string id, ReportStore store, CancellationToken cancellationToken) =>
        await store.DetailAsync(id, cancellationToken).ConfigureAwait(false) is { } detail ? TypedResults.Ok(detail) : Problems.NotFound("case");

    private static async Task<IResult> ClaimAsync(string id, HttpContext context, ReportStore store, CancellationToken cancellationToken)
    {
        var (outcome, c) = await store.ClaimAsync(id, Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false);
        return outcome switch
        {
            ReportOutcome.Done => TypedResults.Ok(c),
            ReportOutcome.NotFound => Problems.NotFound("case"),
            ReportOutcome.Closed => Problems.Conflict("The case is closed."),
            _ => Problems.Conflict($"Another moderator holds this case until {c!.ClaimExpiresAt?.ToString("O", CultureInfo.InvariantCulture)}."),
        };
    }

    private static async Task<IResult> ReleaseAsync(string id, HttpContext context, ReportStore store, CancellationToken cancellationToken) =>
        await store.ReleaseAsync(id, Caller.Require(context.User), cancellationToken).ConfigureAwait(false) ? TypedResults.NoContent() : Problems.NotFound("case");

    private static async Task<IResult> ActAsync(string id, ActionRequest request, HttpContext context, ActionStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var command = ModerationRules.Validate(request, v);
        if (command is null)
        {
            return v.Result();
        }

        var (outcome, action, detail) = await store.TakeAsync(id, Caller.Require(context.User), command, cancellationToken).ConfigureAwait(false);
        return outcome == ActionOutcome.Done ? TypedResults.Created($"/api/v1/moderation/cases/{id}", action) : Refused(outcome, detail);
    }

    private static async Task<IResult> AppealsAsync(string? state, string? cursor, int? limit, ActionStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        state ??= AppealState.Pending;
        if (!AppealState.IsValid(state))
        {
            v.Add("state", "must be pending, granted or denied");
        }

        var take = Paging.Limit(limit, v);
        var after = AfterOldest(cursor, "appeals-" + state, v);
        return v.IsValid ? TypedResults.Ok(await store.AppealsAsync(state, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> AppealAsync(string id, AppealRequest request, HttpContext context, ActionStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var text = v.Text("text", request.Text, 1, ModerationRules.MaxText);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var (outcome, appeal) = await store.AppealAsync(id, Caller.Require(context.User), text, cancellationToken).ConfigureAwait(false);
        return outcome == ActionOutcome.Done ? TypedResults.Created($"/api/v1/moderation/appeals/{appeal!.Id}", appeal) : Refused(outcome, null);
    }

    private static async Task<IResult> DecideAsync(string id, AppealDecisionRequest request, HttpContext context, ActionStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (request.Granted is null)
        {
            v.Add("granted", "is required (true or false)");
        }

        var reason = v.Text("reason", request.Reason, 1, ModerationRules.MaxText);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var (outcome, appeal) = await store.DecideAsync(id, Caller.Require(context.User), request.Granted!.Value, reason, cancellationToken).ConfigureAwait(false);
        return outcome == ActionOutcome.Done ? TypedResults.Ok(appeal) : Refused(outcome, null, "appeal");
    }

    private static async Task<IResult> AuditAsync(string? cursor, int? limit, AuditLog audit, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var (key, _) = Paging.After(cursor, "audit", v);
        long? after = null;
        if (key is not null)
        {
            if (long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                after = seq;
            }
            else
            {
                v.Add("cursor", "is not a cursor of this listing");
            }
        }

        return v.IsValid ? TypedResults.Ok(await audit.PageAsync(after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task AuditCsvAsync(HttpContext context, AuditLog audit, CancellationToken cancellationToken)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"moderation-audit.csv\"";
        await audit.WriteCsvAsync(context.Response.Body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An oldest-first keyset position (created_at, id) from a cursor; null for the first page.</summary>
    private static (DateTimeOffset At, string Id)? AfterOldest(string? cursor, string sort, Validation v)
    {
        var (key, id) = Paging.After(cursor, sort, v);
        if (key is null || id is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParseExact(key, "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return (at, id);
        }

        v.Add("cursor", "is not a cursor of this listing");
        return null;
    }

    private static IResult Refused(ActionOutcome outcome, string? detail, string what = "case") => outcome switch
    {
        ActionOutcome.NotFound => Problems.NotFound(what == "case" ? "case or action" : what),
        ActionOutcome.ClaimedByAnother => Problems.Conflict("Another moderator holds this case."),
        ActionOutcome.Closed => Problems.Conflict(detail ?? "It is already decided."),
        ActionOutcome.NotApplicable => Problems.Conflict(detail ?? "This cannot be done to this object."),
        ActionOutcome.Protected => Problems.Forbidden(detail ?? "You may not act on this account."),
        ActionOutcome.WindowPassed => Problems.Conflict("The appeal window has passed."),
        ActionOutcome.AlreadyAppealed => Problems.Conflict("This action is already appealed."),
        ActionOutcome.SameModerator => Problems.Forbidden("A different moderator must decide an appeal of your own action."),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };
}
