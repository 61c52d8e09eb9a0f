namespace StreamVerse.ControlPlane.Jobs;

/// <summary>
/// Where a finished upload hands its source file: the persistent transcoding queue. The file is then owned by
/// the queue (it deletes it when the job ends for good).
/// </summary>
internal interface IVideoJobQueue
{
    /// <summary>Queues a transcode of <paramref name="sourcePath"/> (a local file under <c>--data</c>) for the video,
    /// marks the video "processing" and returns the job id. A previous unfinished job of the video is cancelled.</summary>
    Task<string> EnqueueTranscodeAsync(string videoId, string sourcePath, CancellationToken cancellationToken);
}
