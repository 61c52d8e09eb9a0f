using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Comments;

/// <summary>
/// <c>/api/v1/videos/{id}/comments</c>: threads and replies, edit, soft delete, upvotes, the owner's pin and heart, approval of
/// held comments; <c>/videos/{id}/comment-policy</c> and the channel default <c>/channels/{id}/comment-policy</c>. Every
/// handler first loads the video for its caller through <see cref="VideoAccess.LoadAsync"/>: whoever may not watch the video
/// gets 404 on every one of these routes; then the video's comment policy; then the permission on the comment.
/// </summary>
internal static class CommentEndpoints
{
    public static IEndpointRouteBuilder MapComments(this IEndpointRouteBuilder api)
    {
        var bodyLimit = api.ServiceProvider.GetRequiredService<IOptions<CommentOptions>>().Value.BodyLimit;
        var group = api.MapGroup("/videos/{id}").WithTags("Comments");
        group.MapGet("/comments", ListAsync).AllowAnonymous()
            .Produces<Page<CommentResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/comments", CreateAsync).RequireAuthorization(Policies.User).WithBodyLimit(bodyLimit)
            .Produces<CommentResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/comments/{commentId}", GetAsync).AllowAnonymous()
            .Produces<CommentResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/comments/{commentId}", EditAsync).RequireAuthorization(Policies.User).WithBodyLimit(bodyLimit)
            .Produces<CommentResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/comments/{commentId}", DeleteAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/comments/{commentId}/replies", RepliesAsync).AllowAnonymous()
            .Produces<Page<CommentResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/comments/{commentId}/vote", (string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken) =>
                VoteAsync(id, commentId, true, context, database, store, cancellationToken)).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/comments/{commentId}/vote", (string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken) =>
                VoteAsync(id, commentId, false, context, database, store, cancellationToken)).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/comments/{commentId}/heart", (string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken) =>
                HeartAsync(id, commentId, true, context, database, store, cancellationToken)).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/comments/{commentId}/heart", (string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken) =>
                HeartAsync(id, commentId, false, context, database, store, cancellationToken)).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/comments/{commentId}/pin", PinAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/comments/{commentId}/pin", UnpinAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/comments/{commentId}/approve", ApproveAsync).RequireAuthorization(Policies.User)
            .Produces<CommentResponse>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/comments/{commentId}/reject", RejectAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/comment-policy", SetVideoPolicyAsync).RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account)
            .Produces<CommentPolicyResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/channels/{id}/comment-policy", SetChannelPolicyAsync).WithTags("Comments").RequireAuthorization(Policies.Creator).WithBodyLimit(BodyLimit.Account)
            .Produces<CommentPolicyResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>The video's threads (top-level comments), pinned first, then by <c>sort</c>: top (default) or newest.</summary>
    private static async Task<IResult> ListAsync(string id, string? sort, string? cursor, int? limit, HttpContext context, Database database, CommentStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        sort ??= CommentSort.Top;
        if (!CommentSort.IsValid(sort))
        {
            v.Add("sort", "must be top or newest");
        }

        var take = Paging.Limit(limit, v);
        var after = CommentSort.IsValid(sort) ? After(cursor, sort, v) : default;
        if (!v.IsValid)
        {
            return v.Result();
        }

        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(await store.ThreadsAsync(access!, sort, after, take, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A thread's replies, oldest first.</summary>
    private static async Task<IResult> RepliesAsync(string id, string commentId, string? cursor, int? limit, HttpContext context, Database database, CommentStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = After(cursor, CommentSort.Replies, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var page = await store.RepliesAsync(access!, commentId, after, take, cancellationToken).ConfigureAwait(false);
        return page is null ? Problems.NotFound("comment") : TypedResults.Ok(page);
    }

    private static async Task<IResult> GetAsync(string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var row = await store.FindAsync(access!, commentId, cancellationToken).ConfigureAwait(false);
        if (row is null || (access!.CommentPolicy == CommentPolicy.Disabled && !access.Manages))
        {
            return Problems.NotFound("comment");
        }

        return TypedResults.Ok(await store.ResponseAsync(access, row, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> CreateAsync(string id, CreateCommentRequest request, HttpContext context, Database database, CommentStore store,
        IOptions<CommentOptions> options, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var command = CommentRules.Validate(request, v, options.Value.MaxLength);
        if (command is null)
        {
            return v.Result();
        }

        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (access!.CommentPolicy == CommentPolicy.Disabled)
        {
            return Disabled();
        }

        var (outcome, row) = await store.CreateAsync(access, command, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done
            ? TypedResults.Created($"/api/v1/videos/{id}/comments/{row!.Id}", await store.ResponseAsync(access, row, cancellationToken).ConfigureAwait(false))
            : Refused(outcome, "Only a published comment can be replied to.");
    }

    /// <summary>The author's own text only (not the owner's, not an admin's: they may delete, not rewrite).</summary>
    private static async Task<IResult> EditAsync(string id, string commentId, UpdateCommentRequest request, HttpContext context, Database database, CommentStore store,
        IOptions<CommentOptions> options, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var command = CommentRules.Validate(new CreateCommentRequest(request.Text, null), v, options.Value.MaxLength);
        if (command is null)
        {
            return v.Result();
        }

        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (access!.CommentPolicy == CommentPolicy.Disabled)
        {
            return Disabled();
        }

        var (outcome, row) = await store.EditAsync(access, commentId, command, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done
            ? TypedResults.Ok(await store.ResponseAsync(access, row!, cancellationToken).ConfigureAwait(false))
            : Refused(outcome, forbidden: "Only the comment's author may edit it.");
    }

    /// <summary>Soft delete by the author, the video's owner or an admin; idempotent (204 for a comment already deleted).</summary>
    private static async Task<IResult> DeleteAsync(string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await store.DeleteAsync(access!, commentId, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done
            ? TypedResults.NoContent()
            : Refused(outcome, forbidden: "Only the comment's author, the video's owner or an admin may delete it.");
    }

    /// <summary>One upvote per account: PUT sets it, DELETE clears it, both idempotent (204).</summary>
    private static async Task<IResult> VoteAsync(string id, string commentId, bool on, HttpContext context, Database database, CommentStore store,
        CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (access!.CommentPolicy == CommentPolicy.Disabled && on)
        {
            return Disabled();
        }

        var outcome = await store.VoteAsync(access, commentId, on, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done ? TypedResults.NoContent() : Refused(outcome, "Only a published comment can be voted on.");
    }

    /// <summary>The creator's heart: the video's owner only (an admin moderates, but a heart says the creator liked it).</summary>
    private static async Task<IResult> HeartAsync(string id, string commentId, bool on, HttpContext context, Database database, CommentStore store,
        CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (!access!.IsOwner)
        {
            return Problems.Forbidden("Only the video's owner may give a comment a heart.");
        }

        var outcome = await store.HeartAsync(access, commentId, on, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done ? TypedResults.NoContent() : Refused(outcome, "Only a published comment can get a heart.");
    }

    /// <summary>Pins a top-level comment: the video's one pin (pinning another unpins this one).</summary>
    private static async Task<IResult> PinAsync(string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await store.PinAsync(access!, commentId, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done ? TypedResults.NoContent() : Refused(outcome, "Only a published comment can be pinned.");
    }

    /// <summary>Idempotent: 204 whether the comment was the pinned one or not.</summary>
    private static async Task<IResult> UnpinAsync(string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.UnpinAsync(access!, commentId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>Publishes a held comment (the video's owner or an admin).</summary>
    private static async Task<IResult> ApproveAsync(string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (outcome, row) = await store.ApproveAsync(access!, commentId, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done && row is not null
            ? TypedResults.Ok(await store.ResponseAsync(access!, row, cancellationToken).ConfigureAwait(false))
            : Refused(outcome == CommentOutcome.Done ? CommentOutcome.NotFound : outcome);
    }

    /// <summary>Rejects a held comment: nobody sees it any more (the video's owner or an admin).</summary>
    private static async Task<IResult> RejectAsync(string id, string commentId, HttpContext context, Database database, CommentStore store, CancellationToken cancellationToken)
    {
        var (access, problem) = await AccessAsync(database, id, context, VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await store.RejectAsync(access!, commentId, cancellationToken).ConfigureAwait(false);
        return outcome == CommentOutcome.Done ? TypedResults.NoContent() : Refused(outcome);
    }

    private static async Task<IResult> SetVideoPolicyAsync(string id, CommentPolicyRequest request, HttpContext context, Database database, CommentStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var policy = CommentRules.Policy(v, request.Policy);
        if (policy is null)
        {
            return v.Result();
        }

        var (_, problem) = await AccessAsync(database, id, context, VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.SetVideoPolicyAsync(id, policy, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CommentPolicyResponse(policy));
    }

    /// <summary>The policy the channel's new videos start with (existing videos keep theirs).</summary>
    private static async Task<IResult> SetChannelPolicyAsync(string id, CommentPolicyRequest request, HttpContext context, Database database, CommentStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var policy = CommentRules.Policy(v, request.Policy);
        if (policy is null)
        {
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var channel = await ChannelEndpoints.FindAsync(db, id, cancellationToken).ConfigureAwait(false);
            if (channel is null)
            {
                return Problems.NotFound("channel");
            }

            if (!caller.OwnsOrAdmin(channel.OwnerId))
            {
                return Problems.Forbidden("Only the channel's owner or an admin may set its comment policy.");
            }
        }

        await store.SetChannelPolicyAsync(id, policy, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CommentPolicyResponse(policy));
    }

    private static async Task<(VideoAccess? Access, IResult? Problem)> AccessAsync(Database database, string id, HttpContext context, VideoNeed need,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await VideoAccess.LoadAsync(db, id, Caller.From(context.User), need, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The cursor for <paramref name="sort"/>, with its key checked (a cursor of another listing or a forged key names the field).</summary>
    private static (string? Key, string? Id) After(string? cursor, string sort, Validation v)
    {
        var after = Paging.After(cursor, sort, v);
        if (after.Key is not null && !CommentStore.TryParseKey(sort, after.Key, out _, out _, out _))
        {
            v.Add("cursor", "is not a cursor of this listing");
            return (null, null);
        }

        return after;
    }

    private static IResult Disabled() => Problems.Conflict("Comments are disabled on this video.");

    private static IResult Refused(CommentOutcome outcome, string notPublished = "The comment is held for approval.", string forbidden = "You may not do this.") => outcome switch
    {
        CommentOutcome.NotFound => Problems.NotFound("comment"),
        CommentOutcome.Forbidden => Problems.Forbidden(forbidden),
        CommentOutcome.Deleted => Problems.Conflict("The comment is deleted."),
        CommentOutcome.NotPublished => Problems.Conflict(notPublished),
        CommentOutcome.NotTopLevel => Problems.Conflict("Only a top-level comment can be pinned."),
        CommentOutcome.AlreadyPublished => Problems.Conflict("The comment is published: delete it instead."),
        CommentOutcome.Rejected => Problems.Conflict("The comment was rejected."),
        CommentOutcome.Blocked => Problems.Forbidden("You cannot comment here: the video's owner or the comment's author blocked you."),
        CommentOutcome.Suspended => Problems.Forbidden("This account is suspended: it cannot comment or write in chat until the suspension ends."),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };
}
