using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Realtime;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>
/// What the socket's chat methods do. Joining: whoever may watch the video (<see cref="VideoAccess"/>: a private video's chat
/// does not exist for others) gets the rules and the last messages, live or replay. Sending, in this order: the text; a
/// signed-in caller; the rate limits (per address, per account); the video (may watch, is live); the channel's rules (ban or
/// time-out, subscribers-only, blocked words (the channel's list and the instance's, <see cref="Moderation.WordList"/>), slow mode;
/// the owner, admins and the channel's moderators are held only to the text and rate limits); a suspended or banned account
/// writes nothing. The message is stored with the broadcast's media time, then pushed to the chat's group on every daemon.
/// A refusal is a <see cref="HubException"/> whose message is <c>code: detail</c> (<see cref="ChatRefusal"/>).
/// </summary>
internal sealed partial class ChatService(Database database, ChatStore store, ChatRateLimits limits, ILiveMediaClock clock, IRealtimePush push,
    IOptions<ChatOptions> options, TimeProvider time, ILogger<ChatService> logger)
{
    public async Task<ChatJoined> JoinAsync(ClaimsPrincipal user, string videoId, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        await EnsureWatchableAsync(videoId, caller, cancellationToken).ConfigureAwait(false);
        var context = await store.ContextAsync(videoId, caller?.Id ?? "", cancellationToken).ConfigureAwait(false)
            ?? throw Refuse(ChatRefusal.NotFound, "video not found");
        var messages = await store.RecentAsync(videoId, options.Value.HistorySize, cancellationToken).ConfigureAwait(false);
        return new ChatJoined(videoId, context.IsOpen(time.GetUtcNow()), context.Rules, messages);
    }

    public async Task<ChatMessageResponse> SendAsync(ClaimsPrincipal user, IPAddress? address, string videoId, string text, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (ChatValidation.TextProblem(text, o.MaxLength) is { } problem)
        {
            throw Refuse(ChatRefusal.InvalidText, problem);
        }

        var caller = Caller.From(user) ?? throw Refuse(ChatRefusal.SignInRequired, "sign in to write in chat");
        if (!limits.TryTake(caller.Id, address, out var retryAfter))
        {
            Log.RateLimited(logger, caller.Id, videoId);
            throw Refuse(ChatRefusal.RateLimited, string.Create(CultureInfo.InvariantCulture, $"too many messages; retry after {retryAfter} s"));
        }

        var manages = await EnsureWatchableAsync(videoId, caller, cancellationToken).ConfigureAwait(false);
        var context = await store.ContextAsync(videoId, caller.Id, cancellationToken).ConfigureAwait(false);
        if (context is null || context.Handle is null)
        {
            throw Refuse(ChatRefusal.NotFound, "video not found");
        }

        var now = time.GetUtcNow();
        if (!context.IsOpen(now))
        {
            throw Refuse(ChatRefusal.NotLive, "the chat is open while the broadcast is live; a recording's chat is replay only");
        }

        var exempt = manages || context.IsModerator;
        string[] instanceWords;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await Moderation.AccountStanding.MayInteractAsync(db, caller.Id, now, cancellationToken).ConfigureAwait(false))
            {
                throw Refuse(ChatRefusal.Suspended, "this account is suspended: it cannot write in chat until the suspension ends");
            }

            instanceWords = exempt ? [] : await Moderation.WordList.ReadInAsync(db, cancellationToken).ConfigureAwait(false);
        }

        if (!exempt)
        {
            if (context.Restricted && context.RestrictedUntil is null)
            {
                throw Refuse(ChatRefusal.Banned, "you are banned from this channel's chat");
            }

            if (context.Restricted && context.RestrictedUntil > now)
            {
                throw Refuse(ChatRefusal.TimedOut, "you are timed out of this channel's chat until " + context.RestrictedUntil.Value.ToString("O", CultureInfo.InvariantCulture));
            }

            if (context.SubscribersOnly && !context.Subscribed)
            {
                throw Refuse(ChatRefusal.SubscribersOnly, "only the channel's subscribers may write in this chat");
            }

            if (BlockedWords.FirstMatch(text, context.BlockedWords) is not null || BlockedWords.FirstMatch(text, instanceWords) is not null)
            {
                // The list is the channel's moderation: which entry matched is not told (it would teach how to evade it).
                throw Refuse(ChatRefusal.BlockedWord, "the message contains a word this channel does not allow");
            }
        }

        var mediaTime = clock.CurrentMediaTime(videoId) ?? (now - context.ClockStart);
        var row = new ChatMessageRow(Ids.New(), videoId, caller.Id, context.Handle, context.DisplayName!, text,
            Math.Max(0, (long)mediaTime.TotalMilliseconds), now);
        var since = exempt || context.SlowModeSeconds == 0 ? now : now.AddSeconds(-context.SlowModeSeconds);
        if (!await store.InsertAsync(row, since, cancellationToken).ConfigureAwait(false))
        {
            throw Refuse(ChatRefusal.SlowMode, string.Create(CultureInfo.InvariantCulture, $"slow mode: one message per {context.SlowModeSeconds} s"));
        }

        var message = row.ToResponse();
        await push.ToGroupAsync(RealtimeGroups.Chat(videoId), ChatEvents.Message, message).ConfigureAwait(false);
        return message;
    }

    /// <summary>Throws not-found unless the caller may watch the video; whether they manage it (owner or admin).</summary>
    private async Task<bool> EnsureWatchableAsync(string? videoId, Caller? caller, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(videoId) || videoId.Length > 64)
        {
            throw Refuse(ChatRefusal.NotFound, "video not found");
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var (access, _) = await VideoAccess.LoadAsync(db, videoId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
        if (access is not null)
        {
            return access.Manages;
        }

        // A scheduled premiere's chat is open to everyone before the video is (its page counts down beside it).
        return await db.ScalarAsync<string>(ChatStore.ScheduledPremiereSql, [("id", videoId)], cancellationToken).ConfigureAwait(false) is null
            ? throw Refuse(ChatRefusal.NotFound, "video not found")
            : false;
    }

    private static HubException Refuse(string code, string detail) => new(code + ": " + detail);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6220, Level = LogLevel.Information, Message = "Chat message of account {AccountId} in {VideoId} refused by the rate limit")]
        public static partial void RateLimited(ILogger logger, string accountId, string videoId);
    }
}

/// <summary>The client methods (events) chat pushes; their payloads are in ChatModels.cs.</summary>
internal static class ChatEvents
{
    public const string Message = "chat.message";
    public const string Deleted = "chat.deleted";
    public const string Settings = "chat.settings";
}
