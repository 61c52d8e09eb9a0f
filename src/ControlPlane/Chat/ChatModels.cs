using System.Globalization;
using System.Text;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>Who wrote a chat message.</summary>
internal sealed record ChatAuthor(string Id, string Handle, string DisplayName);

/// <summary>A chat message (client event <c>chat.message</c>, <c>SendChat</c>'s result, the replay list's items).</summary>
/// <param name="MediaTime">Seconds of the broadcast's media when it was sent: where it belongs when the recording replays.</param>
internal sealed record ChatMessageResponse(string Id, string VideoId, ChatAuthor Author, string Text, double MediaTime, DateTimeOffset CreatedAt);

/// <summary>Client event <c>chat.deleted</c>: a moderator (or the author) removed a message; clients drop it from view.</summary>
internal sealed record ChatMessageDeleted(string VideoId, string MessageId);

/// <summary>What a chat's writers are held to (client event <c>chat.settings</c> when a moderator changes them).</summary>
/// <param name="SlowModeSeconds">Seconds an account waits between two messages in one chat; 0 = off. Moderators are exempt.</param>
/// <param name="SubscribersOnly">Only accounts subscribed to the channel (and its moderators) may write.</param>
internal sealed record ChatRules(string ChannelId, int SlowModeSeconds, bool SubscribersOnly);

/// <summary><c>JoinChat</c>'s result.</summary>
/// <param name="Open">Signed-in accounts may write now (the broadcast is live); false for a recording (replay only).</param>
/// <param name="Messages">The newest messages (<c>Chat:HistorySize</c>), oldest first.</param>
internal sealed record ChatJoined(string VideoId, bool Open, ChatRules Rules, List<ChatMessageResponse> Messages);

/// <summary><c>GET/PUT /api/v1/channels/{id}/chat/settings</c>: the rules and the blocked words (these only for moderators).</summary>
/// <param name="BlockedWords">Words refused in messages, compared case-insensitively with each word of a message; <c>*</c> stands for any
/// run of characters and <c>?</c> for one (<c>spam*</c> blocks "spammer").</param>
internal sealed record ChatSettingsResponse(string ChannelId, int SlowModeSeconds, bool SubscribersOnly, string[] BlockedWords);

/// <summary><c>PUT /api/v1/channels/{id}/chat/settings</c>: every field, as the new settings.</summary>
/// <param name="SlowModeSeconds">0 (off) to 3600.</param>
/// <param name="BlockedWords">Up to <c>Chat:MaxBlockedWords</c> entries of 1-50 characters, no white space.</param>
internal sealed record ChatSettingsRequest(int? SlowModeSeconds, bool? SubscribersOnly, string[]? BlockedWords);

/// <summary><c>PUT /api/v1/channels/{id}/chat/restrictions/{userId}</c>.</summary>
/// <param name="DurationSeconds">A time-out of 1 to 1209600 seconds (14 days); null or absent bans until lifted.</param>
internal sealed record ChatRestrictionRequest(int? DurationSeconds);

/// <summary>An account kept out of a channel's chat.</summary>
/// <param name="Until">The end of a time-out; null for a ban.</param>
internal sealed record ChatRestrictionResponse(string ChannelId, string UserId, DateTimeOffset? Until, DateTimeOffset CreatedAt);

/// <summary>A moderator of a channel's chat (appointed by the channel's owner).</summary>
internal sealed record ChatModeratorResponse(string ChannelId, string UserId, string Handle, DateTimeOffset CreatedAt);

/// <summary>What <see cref="ChatStore.UpdateSettingsAsync"/> writes.</summary>
internal sealed record ChatSettings(int SlowModeSeconds, bool SubscribersOnly, string[] BlockedWords);

/// <summary>
/// The codes a refused <c>SendChat</c> or <c>JoinChat</c> carries: the HubException's message is <c>code: detail</c>.
/// </summary>
internal static class ChatRefusal
{
    public const string SignInRequired = "sign-in-required";
    public const string NotFound = "not-found";
    public const string NotLive = "not-live";
    public const string InvalidText = "invalid-text";
    public const string Banned = "banned";
    public const string TimedOut = "timed-out";
    public const string SubscribersOnly = "subscribers-only";
    public const string BlockedWord = "blocked-word";
    public const string SlowMode = "slow-mode";
    public const string RateLimited = "rate-limited";

    /// <summary>The account is suspended or banned (Moderation's account standing).</summary>
    public const string Suspended = "suspended";
}

/// <summary>Validation of what chat clients send.</summary>
internal static class ChatValidation
{
    public const int MaxSlowModeSeconds = 3600;
    public const int MaxTimeoutSeconds = 14 * 24 * 3600;

    /// <summary>The message's problem, or null: 1 to <paramref name="maxLength"/> scalar values, not only white space, no control characters (one line).</summary>
    public static string? TextProblem(string? text, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "a message needs some text";
        }

        var count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsControl(rune))
            {
                return "a message is one line of text without control characters";
            }

            count++;
        }

        if (count > maxLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"a message is at most {maxLength} characters");
        }

        return HasLoneSurrogate(text) ? "the text is not valid Unicode (a lone surrogate)" : null;
    }

    // PostgreSQL cannot store a lone UTF-16 surrogate as text; refuse it on both engines alike.
    private static bool HasLoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Validates a settings request into what the store writes; errors name the field.</summary>
    public static ChatSettings? Validate(ChatSettingsRequest request, Validation v, int maxWords)
    {
        if (request.SlowModeSeconds is null)
        {
            v.Add("slowModeSeconds", "is required (0 turns slow mode off)");
        }
        else if (request.SlowModeSeconds is < 0 or > MaxSlowModeSeconds)
        {
            v.Add("slowModeSeconds", $"must be between 0 and {MaxSlowModeSeconds}");
        }

        if (request.SubscribersOnly is null)
        {
            v.Add("subscribersOnly", "is required");
        }

        var words = BlockedWords.Validate(request.BlockedWords, "blockedWords", maxWords, v);
        return v.IsValid
            ? new ChatSettings(request.SlowModeSeconds!.Value, request.SubscribersOnly!.Value, words)
            : null;
    }
}
