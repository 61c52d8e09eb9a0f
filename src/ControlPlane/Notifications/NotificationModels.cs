using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// The kinds of notification (the stored text, the settings' keys and the kinds of the mails' unsubscribe links).
/// Never rename one that shipped: accounts' settings and old mails' links name it.
/// </summary>
internal static class NotificationKind
{
    /// <summary>A channel the account subscribes to (bell <c>all</c> or <c>highlights</c>) published a video.</summary>
    public const string NewVideo = "new-video";

    /// <summary>A channel the account subscribes to (bell <c>all</c> or <c>highlights</c>) went live.</summary>
    public const string ChannelLive = "channel-live";

    /// <summary>Someone replied to the account's comment.</summary>
    public const string CommentReply = "comment-reply";

    /// <summary>Someone mentioned the account (<c>@handle</c>) in a comment.</summary>
    public const string Mention = "mention";

    /// <summary>Someone commented on a video of the account's (e-mailed as a digest).</summary>
    public const string VideoComment = "video-comment";

    /// <summary>Someone subscribed to a channel of the account's (e-mailed as a digest).</summary>
    public const string NewSubscriber = "new-subscriber";

    /// <summary>The account's upload finished processing and is watchable on its full ladder.</summary>
    public const string UploadFinished = "upload-finished";

    /// <summary>The account's upload failed to process.</summary>
    public const string UploadFailed = "upload-failed";

    /// <summary>Every kind with its default delivery (PeerTube's spirit: in-app for all; Web Push, which needs a device
    /// the account registered, for what is worth an interruption; e-mail only for a failed upload).</summary>
    public static readonly IReadOnlyList<(string Kind, NotificationChannels Default)> All =
    [
        (NewVideo, NotificationChannels.InApp | NotificationChannels.Push),
        (ChannelLive, NotificationChannels.InApp | NotificationChannels.Push),
        (CommentReply, NotificationChannels.InApp | NotificationChannels.Push),
        (Mention, NotificationChannels.InApp | NotificationChannels.Push),
        (VideoComment, NotificationChannels.InApp),
        (NewSubscriber, NotificationChannels.InApp),
        (UploadFinished, NotificationChannels.InApp | NotificationChannels.Push),
        (UploadFailed, NotificationChannels.InApp | NotificationChannels.Push | NotificationChannels.Email),
    ];

    public static bool IsKnown(string? kind) => All.Any(k => k.Kind == kind);

    public static NotificationChannels Default(string kind) => All.First(k => k.Kind == kind).Default;

    /// <summary>High-volume kinds: their e-mails are collected into one digest per account and kind per
    /// <see cref="NotificationOptions.DigestPeriod"/>.</summary>
    public static bool IsDigested(string kind) => kind is VideoComment or NewSubscriber;
}

/// <summary>Where a notification is delivered (bit flags, stored as an integer in <c>notification_settings.channels</c>
/// and, as chosen when it was created, in <c>notifications.channels</c>).</summary>
[Flags]
internal enum NotificationChannels
{
    None = 0,
    InApp = 1,
    Email = 2,
    Push = 4,
}

/// <summary>The stored states of a notification's e-mail (<c>notifications.mail_state</c>; null: no e-mail).</summary>
internal static class MailState
{
    /// <summary>To be queued as a mail of its own.</summary>
    public const string Due = "due";

    /// <summary>Waiting for its account's digest of that kind.</summary>
    public const string Digest = "digest";

    /// <summary>Queued (or skipped: the account unsubscribed from the kind, or has no address).</summary>
    public const string Done = "done";
}

/// <summary>One notification of the caller's.</summary>
/// <param name="Id">Its id (decimal text).</param>
/// <param name="Kind">One of <c>new-video</c>, <c>channel-live</c>, <c>comment-reply</c>, <c>mention</c>, <c>video-comment</c>,
/// <c>new-subscriber</c>, <c>upload-finished</c>, <c>upload-failed</c>.</param>
/// <param name="ActorId">Who caused it (the commenter, the new subscriber); null for a channel's news and an upload's outcome.</param>
/// <param name="Title">What it is about as it was then: the video's title (for <c>upload-failed</c>, the reason follows after " — ").</param>
/// <param name="ReadAt">When the account marked it read; null while unread.</param>
internal sealed record NotificationResponse(
    string Id, string Kind, string? ActorId, string? ActorHandle, string? ChannelId, string? VideoId, string? CommentId, string Title,
    DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>How many of the caller's in-app notifications are unread.</summary>
internal sealed record UnreadCount(long Unread);

/// <summary>The answer to "mark all read".</summary>
/// <param name="Marked">How many were unread and are read now.</param>
internal sealed record MarkedRead(long Marked);

/// <summary>One kind's delivery settings.</summary>
/// <param name="Kind">The notification kind.</param>
/// <param name="InApp">Listed under <c>GET /api/v1/me/notifications</c> (and counted as unread).</param>
/// <param name="Push">Sent by Web Push to every device the account registered.</param>
/// <param name="Email">Mailed (digested for <c>video-comment</c> and <c>new-subscriber</c>); false also after the account
/// followed the kind's unsubscribe link.</param>
internal sealed record NotificationSetting(string Kind, bool InApp, bool Push, bool Email);

/// <summary>Every kind's settings.</summary>
internal sealed record NotificationSettingsResponse(List<NotificationSetting> Settings);

/// <summary>A change to one kind's settings: a flag left out keeps its current value.</summary>
internal sealed record NotificationSettingChange(string? Kind, bool? InApp, bool? Push, bool? Email);

/// <summary><c>PUT /api/v1/me/notification-settings</c>: the kinds to change; kinds left out keep their settings.</summary>
internal sealed record UpdateNotificationSettingsRequest(List<NotificationSettingChange>? Settings)
{
    /// <summary>The validated changes, each kind once; null (with errors on <paramref name="v"/>) otherwise.</summary>
    public List<NotificationSettingChange>? Validate(Validation v)
    {
        if (Settings is null)
        {
            v.Add("settings", "is required (a list of {kind, inApp, push, email})");
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Settings.Count; i++)
        {
            var kind = Settings[i]?.Kind;
            if (!NotificationKind.IsKnown(kind))
            {
                v.Add($"settings[{i}].kind", "must be one of " + string.Join(", ", NotificationKind.All.Select(k => k.Kind)));
            }
            else if (!seen.Add(kind!))
            {
                v.Add($"settings[{i}].kind", "is listed twice");
            }
        }

        return v.IsValid ? Settings : null;
    }
}
