using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Videos;

/// <summary>A video became public and watchable for the first time: a finished transcode of a public video, a public
/// video made so once ready, or a public live broadcast starting.</summary>
/// <param name="Kind"><c>vod</c> or <c>live</c>.</param>
internal sealed record VideoPublished(string VideoId, string ChannelId, string Title, string Kind, DateTimeOffset PublishedAt) : IDomainEvent
{
    public string SubjectId => VideoId;
}

/// <summary>
/// The one place that decides a video's first publication: <c>published_at</c> is set once, by a conditional update
/// that also checks "public and ready (or live)", so the event is written at most once per video however many paths
/// reach it (a transcode finishing, a visibility change, a replaced source finishing again) and in the transaction of
/// the change that made it true. Every caller runs it after its own update, inside its transaction.
/// </summary>
internal sealed class VideoPublication(Outbox outbox)
{
    private const string MarkPublished =
        """
        UPDATE videos SET published_at = @now
        WHERE id = @v AND published_at IS NULL AND visibility = 'public' AND status IN ('ready', 'live')
        RETURNING channel_id, title, status
        """;

    /// <summary>Writes <see cref="VideoPublished"/> (and <see cref="ChannelWentLive"/> for a broadcast) if this is the
    /// video's first publication; true when it was.</summary>
    public async Task<bool> PublishIfFirstInAsync(DbSession db, string videoId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await db.SingleAsync(MarkPublished, [("now", now), ("v", videoId)],
            (r, _) => new Published(r.GetString(0), r.GetString(1), r.GetString(2)), cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return false;
        }

        var (channelId, title, status) = row;

        var live = status == VideoStatus.Live;
        await outbox.AddAsync(db, new VideoPublished(videoId, channelId, title, live ? "live" : "vod", now), cancellationToken).ConfigureAwait(false);
        if (live)
        {
            await outbox.AddAsync(db, new ChannelWentLive(channelId, videoId, title, now), cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private sealed record Published(string ChannelId, string Title, string Status);
}
