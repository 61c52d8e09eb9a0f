using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.StreamKeys;

/// <summary>
/// The control plane's side of an RTMP publish. A key is looked up by its SHA-256: the stored value is a digest of
/// 256 random bits, so an index lookup reveals nothing a timing attacker could use to build a key. A stream key is a
/// channel's: every publish with it is a broadcast of its own, a new live video (its id is the stream name, so each
/// broadcast records into its own place and an earlier recording is never replaced), with the visibility of the key's
/// previous broadcast (public for the first), or private for a private-test key. The key remembers its latest broadcast (<c>liveVideoId</c>); the channel
/// shows its public broadcast that is live now. A publish while the key's previous broadcast is still marked live (a
/// reconnect, or a process that died while publishing) ends that one. Unpublish marks the broadcast ended with the
/// media time it published. A public broadcast's start writes <see cref="VideoPublished"/> and
/// <see cref="Channels.ChannelWentLive"/> to the outbox in the transaction that creates it. The key itself is never logged.
/// </summary>
internal sealed partial class LiveIngest(Database database, ProtectedVideos protectedVideos, VideoPublication publication, TimeProvider time, ILogger<LiveIngest> logger)
{
    /// <summary>
    /// The stream name (a new video id) to publish to, or null if the key is unknown or revoked, or its channel's owner may
    /// not publish (suspended, banned, or three active strikes: <see cref="Moderation.AccountStanding"/>):
    /// <see cref="CheckAsync"/> then <see cref="BeginAsync"/>.
    /// </summary>
    public async ValueTask<string?> ResolveAsync(string key, CancellationToken cancellationToken) =>
        await CheckAsync(key, cancellationToken).ConfigureAwait(false) is { } live ? await BeginAsync(live, cancellationToken).ConfigureAwait(false) : null;

    /// <summary>
    /// The key if it is known, not revoked and its channel's owner may publish; reads only, so a publish refused afterwards
    /// (an unsupported codec) has changed nothing.
    /// </summary>
    public async ValueTask<LiveKey?> CheckAsync(string key, CancellationToken cancellationToken)
    {
        if (!key.StartsWith(StreamKeyEndpoints.KeyPrefix, StringComparison.Ordinal) || key.Length > 100)
        {
            return null;
        }

        var hash = Ids.HashSecret(key);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var id = await db.SingleAsync(
            $"""
            SELECT k.id FROM stream_keys k JOIN channels c ON c.id = k.channel_id JOIN users u ON u.id = c.owner_id
            WHERE k.hash = @h AND k.revoked_at IS NULL AND {Moderation.AccountStanding.MayPublishSql}
            """,
            [("h", hash), .. Moderation.AccountStanding.PublishArgs(time.GetUtcNow())], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return id is null ? null : new LiveKey(id, hash);
    }

    /// <summary>
    /// Starts a broadcast with a checked key: a new live video. Null if the key was revoked or rotated since the check
    /// (the statement repeats the check, in the transaction that creates the video).
    /// </summary>
    /// <param name="continues">
    /// Whether the media path would continue a live session of this name (a reconnect within its window): then the key's
    /// broadcast that is still live is the one published to, not a new video.
    /// </param>
    public async ValueTask<string?> BeginAsync(LiveKey live, CancellationToken cancellationToken, Func<string, bool>? continues = null)
    {
        ArgumentNullException.ThrowIfNull(live);
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.SingleAsync(
            $"""
            SELECT k.id, k.channel_id, c.name, p.visibility, k.private_test, CASE WHEN p.status = 'live' THEN p.id END
            FROM stream_keys k JOIN channels c ON c.id = k.channel_id JOIN users u ON u.id = c.owner_id
            LEFT JOIN videos p ON p.id = k.live_video_id
            WHERE k.id = @id AND k.hash = @h AND k.revoked_at IS NULL AND {Moderation.AccountStanding.MayPublishSql}
            """,
            [("id", live.KeyId), ("h", live.Hash), .. Moderation.AccountStanding.PublishArgs(now)], (r, _) => new KeyRow(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetBoolean(4), r.IsDBNull(5) ? null : r.GetString(5)),
            cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        if (row.LiveVideoId is { } current && continues?.Invoke(current) == true)
        {
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            Log.Continued(logger, current, row.KeyId);
            return current;
        }

        await db.ExecAsync(
            "UPDATE videos SET status = 'ended', updated_at = @now WHERE id = (SELECT live_video_id FROM stream_keys WHERE id = @k) AND status = 'live'",
            [("now", now), ("k", row.KeyId)], cancellationToken).ConfigureAwait(false);
        var videoId = Ids.New();
        // A test key's broadcasts always start private: the owner watches it, then goes public with a PATCH.
        var visibility = row.PrivateTest ? Visibility.Private : row.PreviousVisibility ?? Visibility.Public;
        await db.ExecAsync(
            "INSERT INTO videos (id, channel_id, title, visibility, status, created_at, updated_at) VALUES (@id, @c, @t, @vis, 'live', @now, @now)",
            [("id", videoId), ("c", row.ChannelId), ("t", row.ChannelName + " live"), ("vis", visibility), ("now", now)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("UPDATE stream_keys SET live_video_id = @v WHERE id = @k", [("v", videoId), ("k", row.KeyId)], cancellationToken).ConfigureAwait(false);

        // A public broadcast is a publication and the channel going live: both events commit with the broadcast's row.
        await publication.PublishIfFirstInAsync(db, videoId, now, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        protectedVideos.Set(videoId, visibility);
        Log.Live(logger, videoId, row.KeyId);
        return videoId;
    }

    /// <summary>
    /// The publish of <paramref name="streamName"/> ended (for any reason) after <paramref name="duration"/> of media
    /// (null when nothing was published); a no-op for names that are not videos.
    /// </summary>
    public async Task EndedAsync(string streamName, TimeSpan? duration, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.ExecAsync(
                "UPDATE videos SET status = 'ended', duration_seconds = COALESCE(@d, duration_seconds), updated_at = @now WHERE id = @id AND status IN ('live', 'ended')",
                [("now", time.GetUtcNow()), ("d", duration?.TotalSeconds), ("id", streamName)], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            Log.EndFailed(logger, streamName, e.Message);
        }
    }

    /// <summary>A checked key: its id, and the digest that was checked (so a rotation in between is noticed).</summary>
    internal sealed record LiveKey(string KeyId, string Hash)
    {
        public override string ToString() => KeyId;
    }

    private sealed record KeyRow(string KeyId, string ChannelId, string ChannelName, string? PreviousVisibility, bool PrivateTest, string? LiveVideoId);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "Live video {VideoId} publishing with stream key {KeyId}")]
        public static partial void Live(ILogger logger, string videoId, string keyId);

        [LoggerMessage(EventId = 5910, Level = LogLevel.Information, Message = "Live video {VideoId} continues after a reconnect with stream key {KeyId}")]
        public static partial void Continued(ILogger logger, string videoId, string keyId);

        [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "Could not mark live video {VideoId} ended: {Error}")]
        public static partial void EndFailed(ILogger logger, string videoId, string error);
    }
}
