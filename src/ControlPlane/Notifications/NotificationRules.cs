using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Comments;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Subscriptions;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// After a commit that made notifications: wakes this process's Web Push sender and notification mailer, and tells the
/// recipients' open sockets (<see cref="NotificationRealtime"/>).
/// </summary>
internal sealed class NotificationWake(NotificationRealtime realtime)
{
    public WakeSignal Push { get; } = new();

    public WakeSignal Mail { get; } = new();

    /// <summary>The notifications of event <paramref name="source"/> committed (one rule's recipients).</summary>
    public void Made(string source)
    {
        Wake();
        realtime.Announce(source);
    }

    /// <summary>A fan-out batch of event <paramref name="source"/> committed: accounts after <paramref name="afterUser"/> up to <paramref name="uptoUser"/>.</summary>
    public void Made(string source, string afterUser, string uptoUser)
    {
        Wake();
        realtime.Announce(source, afterUser, uptoUser);
    }

    private void Wake()
    {
        Push.Wake();
        Mail.Wake();
    }
}

// One rule per event and audience (building-features.md §3.5). Each runs in the outbox handler's transaction, which
// also records (event id, handler): its rows commit exactly once. Rules with one or a few recipients write their rows
// here; a channel's news to its subscribers only records a fan-out task (FanoutStore) — never work proportional to the
// subscriber count in the handler.

/// <summary>A public video's first publication: a fan-out to the channel's subscribers (bell all or highlights). A
/// broadcast's publication is told as <see cref="ChannelWentLive"/> instead.</summary>
internal sealed class NotifySubscribersOfNewVideo(FanoutSignal signal) : IEventHandler<VideoPublished>
{
    public const string Name = "notifications.notify-subscribers-of-new-video";

    public async Task HandleAsync(DbSession db, VideoPublished e, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        if (e.Kind == "live")
        {
            return;
        }

        await FanoutStore.RecordInAsync(db, new Notice(envelope.EventId, NotificationKind.NewVideo, null, e.ChannelId, e.VideoId, null, e.Title, e.PublishedAt),
            e.PublishedAt, cancellationToken).ConfigureAwait(false);
        db.AfterCommit(signal.Wake);
    }
}

/// <summary>A channel went live (a public broadcast): a fan-out to its subscribers (bell all or highlights).</summary>
internal sealed class NotifySubscribersOfLive(FanoutSignal signal) : IEventHandler<ChannelWentLive>
{
    public const string Name = "notifications.notify-subscribers-of-live";

    public async Task HandleAsync(DbSession db, ChannelWentLive e, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        await FanoutStore.RecordInAsync(db, new Notice(envelope.EventId, NotificationKind.ChannelLive, null, e.ChannelId, e.VideoId, null, e.Title, e.StartedAt),
            e.StartedAt, cancellationToken).ConfigureAwait(false);
        db.AfterCommit(signal.Wake);
    }
}

/// <summary>
/// A comment: its parent's author hears of the reply, the mentioned accounts of the mention, the video's owner of the
/// comment (also of a held one: it waits for their approval). One notification per account (the first reason wins:
/// reply, mention, comment on my video). Only a published comment tells anyone but the owner, and only on a video that
/// is not private (an account that may not watch it learns nothing of it).
/// </summary>
internal sealed class NotifyOfComment(NotificationWake wake) : IEventHandler<CommentPosted>
{
    public const string Name = "notifications.notify-of-comment";

    private const string About =
        """
        SELECT v.title, v.visibility, v.channel_id, c.owner_id FROM videos v JOIN channels c ON c.id = v.channel_id WHERE v.id = @v
        """;

    public async Task HandleAsync(DbSession db, CommentPosted e, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var video = await db.SingleAsync(About, [("v", e.VideoId)], (r, _) => new VideoAbout(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)),
            cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return; // deleted since
        }

        Notice For(string kind) => new(envelope.EventId, kind, e.AuthorId, video.ChannelId, e.VideoId, e.CommentId, video.Title, e.PostedAt);
        if (e.Status == CommentStatus.Published && video.Visibility != "private")
        {
            if (e.ParentId is not null
                && await db.ScalarAsync<string>("SELECT author_id FROM comments WHERE id = @p", [("p", e.ParentId)], cancellationToken).ConfigureAwait(false) is { } parentAuthor)
            {
                await NotificationStore.NotifyInAsync(db, parentAuthor, For(NotificationKind.CommentReply), cancellationToken).ConfigureAwait(false);
            }

            foreach (var mentioned in e.MentionedUserIds)
            {
                await NotificationStore.NotifyInAsync(db, mentioned, For(NotificationKind.Mention), cancellationToken).ConfigureAwait(false);
            }
        }

        await NotificationStore.NotifyInAsync(db, video.OwnerId, For(NotificationKind.VideoComment), cancellationToken).ConfigureAwait(false);
        db.AfterCommit(() => wake.Made(envelope.EventId));
    }

    private sealed record VideoAbout(string Title, string Visibility, string ChannelId, string OwnerId);
}

/// <summary>A new subscriber: the channel's owner hears of it.</summary>
internal sealed class NotifyOwnerOfSubscriber(NotificationWake wake) : IEventHandler<ChannelSubscribed>
{
    public const string Name = "notifications.notify-owner-of-subscriber";

    public async Task HandleAsync(DbSession db, ChannelSubscribed e, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var channel = await db.SingleAsync("SELECT owner_id, name FROM channels WHERE id = @c", [("c", e.ChannelId)],
            (r, _) => new ChannelAbout(r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        if (channel is not null)
        {
            await NotificationStore.NotifyInAsync(db, channel.OwnerId,
                new Notice(envelope.EventId, NotificationKind.NewSubscriber, e.SubscriberId, e.ChannelId, null, null, channel.Name, e.SubscribedAt), cancellationToken).ConfigureAwait(false);
            db.AfterCommit(() => wake.Made(envelope.EventId));
        }
    }

    private sealed record ChannelAbout(string OwnerId, string Name);
}

/// <summary>The owner's upload finished processing.</summary>
internal sealed class NotifyOwnerOfUploadFinished(NotificationWake wake) : IEventHandler<VideoTranscodeFinished>
{
    public const string Name = "notifications.notify-owner-of-upload-finished";

    public async Task HandleAsync(DbSession db, VideoTranscodeFinished e, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        await NotificationStore.NotifyInAsync(db, e.OwnerId,
            new Notice(envelope.EventId, NotificationKind.UploadFinished, null, e.ChannelId, e.VideoId, null, e.Title, e.FinishedAt), cancellationToken).ConfigureAwait(false);
        db.AfterCommit(() => wake.Made(envelope.EventId));
    }
}

/// <summary>The owner's upload failed to process: the title and the reason they are shown on the video.</summary>
internal sealed class NotifyOwnerOfUploadFailed(NotificationWake wake) : IEventHandler<VideoTranscodeFailed>
{
    public const string Name = "notifications.notify-owner-of-upload-failed";

    public async Task HandleAsync(DbSession db, VideoTranscodeFailed e, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        await NotificationStore.NotifyInAsync(db, e.OwnerId,
            new Notice(envelope.EventId, NotificationKind.UploadFailed, null, e.ChannelId, e.VideoId, null, e.Title + " — " + e.Reason, e.FailedAt), cancellationToken).ConfigureAwait(false);
        db.AfterCommit(() => wake.Made(envelope.EventId));
    }
}
