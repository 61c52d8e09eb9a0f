using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.ControlPlane.Uploads;

namespace StreamVerse.ControlPlane.Videos;

/// <summary>What a deletion must remove besides rows: the videos' transcodes and the files only they name.</summary>
/// <param name="VideoIds">The videos that go.</param>
/// <param name="UploadIds">Their uploads, whose rows go by cascade and whose files would not.</param>
internal sealed record MediaRemoval(List<string> VideoIds, List<string> UploadIds);

/// <summary>
/// The media a deletion leaves behind unless told: a video's, a channel's or an account's transcodes (stopped, their
/// sources removed), stored presentations (every version: segments, poster, storyboard) and unfinished tus uploads
/// (<c>.part</c> files, which the row's cascade does not remove and the orphan sweep would only take after an expiry
/// period). <see cref="PrepareAsync"/> runs before the rows are deleted, <see cref="RemoveAsync"/> after the commit.
/// Live recordings are not removed here: deleted videos are refused at once (tombstones) and their recordings go at
/// <c>RecordingRetention</c>.
/// </summary>
internal sealed partial class VideoMedia(VideoJobQueue jobs, UploadStore uploads, IBlobStorage blobs, ILogger<VideoMedia> logger)
{
    private const string OfChannel = "SELECT id FROM videos WHERE channel_id = @id";

    private const string OfOwner = "SELECT v.id FROM videos v JOIN channels c ON c.id = v.channel_id WHERE c.owner_id = @id";

    public Task<MediaRemoval> PrepareVideoAsync(DbSession db, string videoId, CancellationToken cancellationToken) =>
        PrepareAsync(db, [videoId], cancellationToken);

    public async Task<MediaRemoval> PrepareChannelAsync(DbSession db, string channelId, CancellationToken cancellationToken) =>
        await PrepareAsync(db, await db.QueryAsync(OfChannel, [("id", channelId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

    public async Task<MediaRemoval> PrepareOwnerAsync(DbSession db, string ownerId, CancellationToken cancellationToken) =>
        await PrepareAsync(db, await db.QueryAsync(OfOwner, [("id", ownerId)], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

    private async Task<MediaRemoval> PrepareAsync(DbSession db, List<string> videoIds, CancellationToken cancellationToken)
    {
        var uploadIds = new List<string>();
        foreach (var id in videoIds)
        {
            // The job row goes with the video, by cascade: cancel first, so its source file and output go too.
            await jobs.CancelAsync(id, cancellationToken).ConfigureAwait(false);
            uploadIds.AddRange(await UploadStore.IdsOfVideoAsync(db, id, cancellationToken).ConfigureAwait(false));
        }

        return new MediaRemoval(videoIds, uploadIds);
    }

    /// <summary>After the rows are gone: never throws; what it cannot remove now is logged (and swept later where a sweep exists).</summary>
    public async Task RemoveAsync(MediaRemoval removal)
    {
        uploads.DeleteFiles(removal.UploadIds);
        foreach (var id in removal.VideoIds)
        {
            try
            {
                await blobs.DeletePrefixAsync(VodPrefixes.OfVideo(id), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
            {
                // A cancelled job still finishing a file write deletes its own prefixes when it stops.
                Log.Leftover(logger, id, e.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4800, Level = LogLevel.Warning, Message = "Stored media of deleted video {VideoId} not removed now: {Error}")]
        public static partial void Leftover(ILogger logger, string videoId, string error);
    }
}
