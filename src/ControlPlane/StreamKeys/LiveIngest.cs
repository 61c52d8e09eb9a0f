using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.StreamKeys;

/// <summary>
/// The control plane's side of an RTMP publish. A key is looked up by its SHA-256: the stored value is a digest of
/// 256 random bits, so an index lookup reveals nothing a timing attacker could use to build a key. A publish
/// with a key creates the key's live video on first use (public, titled after the channel) and otherwise sets the
/// existing one live again; its id is the stream name, so the playback URL is stable per key. Unpublish marks
/// it ended. The key itself is never logged.
/// </summary>
internal sealed partial class LiveIngest(Database database, ProtectedVideos protectedVideos, TimeProvider time, ILogger<LiveIngest> logger)
{
    /// <summary>The stream name (a video id) to publish to, or null if the key is unknown or revoked.</summary>
    public async ValueTask<string?> ResolveAsync(string key, CancellationToken cancellationToken)
    {
        if (!key.StartsWith(StreamKeyEndpoints.KeyPrefix, StringComparison.Ordinal) || key.Length > 100)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.SingleAsync(
            """
            SELECT k.id, k.channel_id, k.live_video_id, c.name FROM stream_keys k JOIN channels c ON c.id = k.channel_id
            WHERE k.hash = @h AND k.revoked_at IS NULL
            """,
            [("h", Ids.HashSecret(key))], (r, _) => new KeyRow(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3)),
            cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var videoId = row.LiveVideoId;
        if (videoId is not null)
        {
            var n = await db.ExecAsync("UPDATE videos SET status = 'live', updated_at = @now WHERE id = @id", [("now", now), ("id", videoId)], cancellationToken).ConfigureAwait(false);
            videoId = n == 1 ? videoId : null;
        }

        if (videoId is null)
        {
            videoId = Ids.New();
            await db.ExecAsync(
                "INSERT INTO videos (id, channel_id, title, visibility, status, created_at, updated_at) VALUES (@id, @c, @t, @vis, 'live', @now, @now)",
                [("id", videoId), ("c", row.ChannelId), ("t", row.ChannelName + " live"), ("vis", Visibility.Public), ("now", now)], cancellationToken).ConfigureAwait(false);
            await db.ExecAsync("UPDATE stream_keys SET live_video_id = @v WHERE id = @k", [("v", videoId), ("k", row.KeyId)], cancellationToken).ConfigureAwait(false);
            protectedVideos.Set(videoId, Visibility.Public);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        Log.Live(logger, videoId, row.KeyId);
        return videoId;
    }

    /// <summary>The publish of <paramref name="streamName"/> ended (for any reason); a no-op for names that are not videos.</summary>
    public async Task EndedAsync(string streamName, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.ExecAsync("UPDATE videos SET status = 'ended', updated_at = @now WHERE id = @id AND status = 'live'",
                [("now", time.GetUtcNow()), ("id", streamName)], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            Log.EndFailed(logger, streamName, e.Message);
        }
    }

    private sealed record KeyRow(string KeyId, string ChannelId, string? LiveVideoId, string ChannelName);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "Live video {VideoId} publishing with stream key {KeyId}")]
        public static partial void Live(ILogger logger, string videoId, string keyId);

        [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "Could not mark live video {VideoId} ended: {Error}")]
        public static partial void EndFailed(ILogger logger, string videoId, string error);
    }
}
