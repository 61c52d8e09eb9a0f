using System.Text.Json;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Captions;

/// <summary>
/// The <c>video_captions</c> table: one row per (video, language), naming the WebVTT blob that plays now.
/// Invariants: a row's blob is stored before the row names it (a reader never gets a key with nothing behind it);
/// writers of one video's captions are serialised by a row lock on the video (<see cref="LockVideoInAsync"/>), so
/// reading the key being replaced and writing the new one cannot interleave with another upload of that language and
/// orphan a blob; a blob is deleted only after the commit that stopped naming it.
/// </summary>
internal sealed class CaptionStore
{
    private const string Columns = "video_id, language, label, source, blob_key";

    private const string OfVideo = $"SELECT {Columns} FROM video_captions WHERE video_id = @v ORDER BY language";

    private const string OfVideosPostgres = $"SELECT {Columns} FROM video_captions WHERE video_id = ANY(@ids) ORDER BY video_id, language";

    private const string OfVideosSqlite = $"SELECT {Columns} FROM video_captions WHERE video_id IN (SELECT value FROM json_each(@ids)) ORDER BY video_id, language";

    private static CaptionRow Read(System.Data.Common.DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4));

    public static Task<List<CaptionRow>> ListAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        db.QueryAsync(OfVideo, [("v", videoId)], Read, cancellationToken);

    /// <summary>The captions of several videos (a page of the video list) in one statement.</summary>
    public static async Task<Dictionary<string, List<CaptionRow>>> OfVideosAsync(DbSession db, IReadOnlyList<string> videoIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, List<CaptionRow>>(StringComparer.Ordinal);
        if (videoIds.Count == 0)
        {
            return result;
        }

        var rows = db.Dialect == Dialect.Postgres
            ? await db.QueryAsync(OfVideosPostgres, [("ids", videoIds.ToArray())], Read, cancellationToken).ConfigureAwait(false)
            : await db.QueryAsync(OfVideosSqlite, [("ids", JsonArray(videoIds))], Read, cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            if (!result.TryGetValue(row.VideoId, out var list))
            {
                result[row.VideoId] = list = [];
            }

            list.Add(row);
        }

        return result;
    }

    /// <summary>
    /// Takes the video's row lock for the caller's transaction (PostgreSQL: the UPDATE's row lock; SQLite: the
    /// transaction is already the only writer) and marks the video changed. False when there is no such video.
    /// </summary>
    public static async Task<bool> LockVideoInAsync(DbSession db, string videoId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.ExecAsync("UPDATE videos SET updated_at = @now WHERE id = @v", [("now", now), ("v", videoId)], cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>Sets the (video, language) caption in the caller's transaction, after <see cref="LockVideoInAsync"/>.
    /// Returns the blob key it replaced (to delete after the commit), or null.</summary>
    public static async Task<string?> SetInAsync(DbSession db, CaptionRow row, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var old = await db.ScalarAsync<string>("SELECT blob_key FROM video_captions WHERE video_id = @v AND language = @l",
            [("v", row.VideoId), ("l", row.Language)], cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(
            """
            INSERT INTO video_captions (video_id, language, label, source, blob_key, created_at, updated_at)
            VALUES (@v, @l, @label, @s, @k, @now, @now)
            ON CONFLICT (video_id, language) DO UPDATE SET label = @label, source = @s, blob_key = @k, updated_at = @now
            """,
            [("v", row.VideoId), ("l", row.Language), ("label", row.Label), ("s", row.Source), ("k", row.BlobKey), ("now", now)],
            cancellationToken).ConfigureAwait(false);
        return old;
    }

    /// <summary>How many caption tracks the video has (in the caller's transaction, after <see cref="LockVideoInAsync"/>).</summary>
    public static async Task<long> CountInAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long>("SELECT COUNT(*) FROM video_captions WHERE video_id = @v", [("v", videoId)], cancellationToken).ConfigureAwait(false);

    /// <summary>Removes the (video, language) caption in the caller's transaction; returns its blob key, or null.</summary>
    public static async Task<string?> RemoveInAsync(DbSession db, string videoId, string language, CancellationToken cancellationToken)
    {
        var rows = await db.QueryAsync("DELETE FROM video_captions WHERE video_id = @v AND language = @l RETURNING blob_key",
            [("v", videoId), ("l", language)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 ? rows[0] : null;
    }

    private static string JsonArray(IReadOnlyList<string> values)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var v in values)
            {
                w.WriteStringValue(v);
            }

            w.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
