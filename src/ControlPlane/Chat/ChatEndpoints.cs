using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Realtime;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>
/// Chat over HTTP: the replay of a video's chat by media time and deleting a message (<c>/api/v1/videos/{id}/chat</c>), and a
/// channel's chat moderation (<c>/api/v1/channels/{id}/chat</c>): settings, moderators (the owner's to appoint), bans and
/// time-outs. Writing and live delivery are the socket's (<see cref="RealtimeHub"/>). Under a video, whoever may not watch it
/// gets 404 (<see cref="VideoAccess"/>); under a channel, moderation is its owner's, an admin's, or (all but appointing
/// moderators) one of its chat moderators', and 403 for anyone else.
/// </summary>
internal static class ChatEndpoints
{
    private const long SettingsBodyLimit = 128 * 1024;

    public static IEndpointRouteBuilder MapChat(this IEndpointRouteBuilder api)
    {
        var video = api.MapGroup("/videos/{id}/chat").WithTags("Chat");
        video.MapGet("/messages", ReplayAsync).AllowAnonymous()
            .Produces<Page<ChatMessageResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        video.MapDelete("/messages/{messageId}", DeleteAsync).RequireAuthorization(Policies.User)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);

        var channel = api.MapGroup("/channels/{id}/chat").WithTags("Chat").RequireAuthorization(Policies.User);
        channel.MapGet("/settings", GetSettingsAsync)
            .Produces<ChatSettingsResponse>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapPut("/settings", PutSettingsAsync).WithBodyLimit(SettingsBodyLimit)
            .Produces<ChatSettingsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapGet("/moderators", ModeratorsAsync)
            .Produces<Page<ChatModeratorResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapPut("/moderators/{userId}", AddModeratorAsync)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapDelete("/moderators/{userId}", RemoveModeratorAsync)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapGet("/restrictions", RestrictionsAsync)
            .Produces<Page<ChatRestrictionResponse>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        channel.MapPut("/restrictions/{userId}", RestrictAsync).WithBodyLimit(BodyLimit.Account)
            .Produces<ChatRestrictionResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        channel.MapDelete("/restrictions/{userId}", LiftAsync)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>The replay: messages whose media time (seconds) is in [<c>from</c>, <c>to</c>), in media-time order, keyset paged.</summary>
    private static async Task<IResult> ReplayAsync(string id, double? from, double? to, string? cursor, int? limit, HttpContext context, Database database,
        ChatStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var fromMs = Millis("from", from ?? 0, v);
        var toMs = Millis("to", to ?? (long.MaxValue / 1000), v);
        if (v.IsValid && toMs <= fromMs)
        {
            v.Add("to", "must be greater than from");
        }

        var take = Paging.Limit(limit, v);
        var after = Paging.After(cursor, ChatStore.ReplaySort, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var (_, problem) = await VideoAccess.LoadAsync(db, id, Caller.From(context.User), VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }
        }

        return TypedResults.Ok(await store.ReplayAsync(id, fromMs, toMs, after, take, cancellationToken).ConfigureAwait(false));

        static long Millis(string field, double seconds, Validation v)
        {
            if (double.IsNaN(seconds) || seconds < 0 || seconds > long.MaxValue / 1000)
            {
                v.Add(field, "must be a number of seconds, 0 or more");
                return 0;
            }

            return (long)Math.Round(seconds * 1000);
        }
    }

    /// <summary>The author, the video's owner, an admin or one of the channel's chat moderators; every socket in the chat is told.</summary>
    private static async Task<IResult> DeleteAsync(string id, string messageId, HttpContext context, Database database, ChatStore store, IRealtimePush push,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        VideoAccess? access;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            (access, var problem) = await VideoAccess.LoadAsync(db, id, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }
        }

        var author = await store.AuthorOfAsync(id, messageId, cancellationToken).ConfigureAwait(false);
        if (author is null)
        {
            return TypedResults.NoContent(); // idempotent: already deleted, or never was
        }

        var allowed = access!.Manages || string.Equals(author, caller.Id, StringComparison.Ordinal);
        if (!allowed)
        {
            var context2 = await store.ContextAsync(id, caller.Id, cancellationToken).ConfigureAwait(false);
            allowed = context2?.IsModerator == true;
        }

        if (!allowed)
        {
            return Problems.Forbidden("Only the author, the channel's owner or its chat moderators may delete a message.");
        }

        if (await store.DeleteAsync(id, messageId, caller.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            await push.ToGroupAsync(RealtimeGroups.Chat(id), ChatEvents.Deleted, new ChatMessageDeleted(id, messageId)).ConfigureAwait(false);
        }

        return TypedResults.NoContent();
    }

    private static async Task<IResult> GetSettingsAsync(string id, HttpContext context, ChatStore store, CancellationToken cancellationToken)
    {
        var problem = await AuthorizeAsync(store, id, context, ownerOnly: false, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(await store.SettingsAsync(id, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> PutSettingsAsync(string id, ChatSettingsRequest request, HttpContext context, ChatStore store, IRealtimePush push,
        IOptions<ChatOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var settings = ChatValidation.Validate(request, v, options.Value.MaxBlockedWords);
        if (settings is null)
        {
            return v.Result();
        }

        var problem = await AuthorizeAsync(store, id, context, ownerOnly: false, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var live = await store.UpdateSettingsAsync(id, settings, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var rules = new ChatRules(id, settings.SlowModeSeconds, settings.SubscribersOnly);
        foreach (var videoId in live)
        {
            await push.ToGroupAsync(RealtimeGroups.Chat(videoId), ChatEvents.Settings, rules).ConfigureAwait(false);
        }

        return TypedResults.Ok(new ChatSettingsResponse(id, settings.SlowModeSeconds, settings.SubscribersOnly, settings.BlockedWords));
    }

    private static async Task<IResult> ModeratorsAsync(string id, string? cursor, int? limit, HttpContext context, ChatStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.After(cursor, ChatStore.UserSort, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var problem = await AuthorizeAsync(store, id, context, ownerOnly: true, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(await store.ModeratorsAsync(id, after.Id, take, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> AddModeratorAsync(string id, string userId, HttpContext context, ChatStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var problem = await AuthorizeAsync(store, id, context, ownerOnly: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        return await store.AddModeratorAsync(id, userId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : Problems.NotFound("user");
    }

    private static async Task<IResult> RemoveModeratorAsync(string id, string userId, HttpContext context, ChatStore store, CancellationToken cancellationToken)
    {
        var problem = await AuthorizeAsync(store, id, context, ownerOnly: true, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.RemoveModeratorAsync(id, userId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> RestrictionsAsync(string id, string? cursor, int? limit, HttpContext context, ChatStore store, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.After(cursor, ChatStore.UserSort, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var problem = await AuthorizeAsync(store, id, context, ownerOnly: false, cancellationToken).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(await store.RestrictionsAsync(id, after.Id, take, time.GetUtcNow(), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A ban (no <c>durationSeconds</c>) or a time-out; replaces the account's previous one in this channel.</summary>
    private static async Task<IResult> RestrictAsync(string id, string userId, ChatRestrictionRequest? request, HttpContext context, ChatStore store,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var seconds = request?.DurationSeconds;
        if (seconds is < 1 or > ChatValidation.MaxTimeoutSeconds)
        {
            v.Add("durationSeconds", string.Create(CultureInfo.InvariantCulture, $"must be between 1 and {ChatValidation.MaxTimeoutSeconds}, or absent for a ban"));
            return v.Result();
        }

        var caller = Caller.Require(context.User);
        var role = await store.ChannelRoleAsync(id, caller.Id, cancellationToken).ConfigureAwait(false);
        if (role is null)
        {
            return Problems.NotFound("channel");
        }

        if (!caller.OwnsOrAdmin(role.OwnerId) && !role.IsModerator)
        {
            return Problems.Forbidden("Only the channel's owner or its chat moderators may do this.");
        }

        if (string.Equals(userId, role.OwnerId, StringComparison.Ordinal))
        {
            return Problems.Conflict("The channel's owner cannot be kept out of its chat.");
        }

        var now = time.GetUtcNow();
        var restriction = await store.RestrictAsync(id, userId, seconds is { } s ? now.AddSeconds(s) : null, caller.Id, now, cancellationToken).ConfigureAwait(false);
        return restriction is null ? Problems.NotFound("user") : TypedResults.Ok(restriction);
    }

    private static async Task<IResult> LiftAsync(string id, string userId, HttpContext context, ChatStore store, CancellationToken cancellationToken)
    {
        var problem = await AuthorizeAsync(store, id, context, ownerOnly: false, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await store.LiftAsync(id, userId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>404 for no such channel; 403 unless the caller owns it, is an admin, or (when not <paramref name="ownerOnly"/>) moderates its chat.</summary>
    private static async Task<IResult?> AuthorizeAsync(ChatStore store, string channelId, HttpContext context, bool ownerOnly, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(context.User);
        var role = await store.ChannelRoleAsync(channelId, caller.Id, cancellationToken).ConfigureAwait(false);
        if (role is null)
        {
            return Problems.NotFound("channel");
        }

        if (caller.OwnsOrAdmin(role.OwnerId) || (!ownerOnly && role.IsModerator))
        {
            return null;
        }

        return Problems.Forbidden(ownerOnly
            ? "Only the channel's owner or an admin may do this."
            : "Only the channel's owner or its chat moderators may do this.");
    }
}
