using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Captions;

/// <summary>
/// The caption tracks a transcode took from the source's text subtitles (<see cref="TranscodeOutput.Subtitles"/>):
/// checked and converted by <see cref="CaptionText"/> like an upload, stored under <c>captions/</c>, and set as the
/// video's <c>source</c> tracks, replacing those of an earlier source. An uploaded track of the same language wins (the
/// creator chose it). Called by the job runner before it publishes the full ladder, so the tracks come with it.
/// </summary>
internal sealed partial class SourceCaptions(Database database, IBlobStorage storage, EdgeInvalidations edgeInvalidations, VodCatalog catalog,
    TimeProvider time, ILogger<SourceCaptions> logger)
{
    public async Task ReplaceAsync(string videoId, IReadOnlyList<SourceSubtitle> subtitles, CancellationToken cancellationToken)
    {
        var rows = new List<CaptionRow>();
        try
        {
            foreach (var s in subtitles)
            {
                var document = CaptionText.Parse(await File.ReadAllBytesAsync(s.Path, cancellationToken).ConfigureAwait(false), out var error);
                var language = CaptionLanguage.Canonical(s.Language) ?? "und";
                if (document is null)
                {
                    Log.Unreadable(logger, videoId, language, error!);
                    continue;
                }

                if (rows.Exists(r => r.Language == language))
                {
                    Log.SameLanguage(logger, videoId, language);
                    continue;
                }

                var label = s.Title is { } title ? CaptionLabel.Validate(title, out _) : null;
                var row = new CaptionRow(videoId, language, label ?? language, CaptionSource.Source, CaptionFiles.Key(videoId, language, Ids.New()));
                await storage.PutAsync(row.BlobKey, System.Text.Encoding.UTF8.GetBytes(document.WebVtt), "text/vtt", cancellationToken).ConfigureAwait(false);
                rows.Add(row);
            }

            var obsolete = new List<string>();
            await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                var existing = await CaptionStore.ListAsync(db, videoId, cancellationToken).ConfigureAwait(false);
                if (existing.Count == 0 && rows.Count == 0)
                {
                    return;
                }

                await db.BeginAsync(cancellationToken).ConfigureAwait(false);
                await edgeInvalidations.RecordInAsync(db, videoId, cancellationToken).ConfigureAwait(false);
                if (!await CaptionStore.LockVideoInAsync(db, videoId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
                {
                    obsolete.AddRange(rows.Select(r => r.BlobKey));
                    return;
                }

                existing = await CaptionStore.ListAsync(db, videoId, cancellationToken).ConfigureAwait(false);
                foreach (var old in existing.Where(e => e.Source == CaptionSource.Source))
                {
                    await CaptionStore.RemoveInAsync(db, videoId, old.Language, cancellationToken).ConfigureAwait(false);
                    obsolete.Add(old.BlobKey);
                }

                foreach (var row in rows)
                {
                    if (existing.Exists(e => e.Language == row.Language && e.Source == CaptionSource.Upload))
                    {
                        obsolete.Add(row.BlobKey); // the creator's own track of this language stays
                        continue;
                    }

                    await CaptionStore.SetInAsync(db, row, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }

                await db.CommitAsync(cancellationToken).ConfigureAwait(false);
                rows.Clear();
            }

            catalog.Invalidate(videoId);
            foreach (var key in obsolete)
            {
                await DeleteQuietlyAsync(key).ConfigureAwait(false);
            }

            Log.Replaced(logger, videoId, subtitles.Count);
        }
        finally
        {
            // Stored but never named by a committed row (failure, cancellation): not left behind.
            foreach (var row in rows)
            {
                await DeleteQuietlyAsync(row.BlobKey).ConfigureAwait(false);
            }
        }
    }

    private async Task DeleteQuietlyAsync(string key)
    {
        try
        {
            await storage.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
        {
            Log.Leftover(logger, key, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "Video {VideoId}: {Count} subtitle tracks taken from the source")]
        public static partial void Replaced(ILogger logger, string videoId, int count);

        [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "Video {VideoId}: the source's {Language} subtitles are not valid captions: {Error}")]
        public static partial void Unreadable(ILogger logger, string videoId, string language, string error);

        [LoggerMessage(EventId = 5022, Level = LogLevel.Information, Message = "Video {VideoId}: a second source subtitle track in {Language} was left out (one track per language)")]
        public static partial void SameLanguage(ILogger logger, string videoId, string language);

        [LoggerMessage(EventId = 5023, Level = LogLevel.Warning, Message = "Caption file {Key} not removed now: {Error}")]
        public static partial void Leftover(ILogger logger, string key, string error);
    }
}
