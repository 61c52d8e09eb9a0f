using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Jobs;

/// <summary>A video's transcode finished and its full ladder is what viewers get now (written in the transaction that
/// flips the video to <c>ready</c>; a replaced source finishing again is a new one).</summary>
/// <param name="OwnerId">The channel's owner: who uploaded it.</param>
internal sealed record VideoTranscodeFinished(string VideoId, string ChannelId, string OwnerId, string Title, string JobId, DateTimeOffset FinishedAt) : IDomainEvent
{
    public string SubjectId => VideoId;
}

/// <summary>A video's transcode failed for good (written in the transaction that records the failure).</summary>
/// <param name="Reason">What the owner is told (the video's <c>failure_reason</c>), never an internal error text.</param>
internal sealed record VideoTranscodeFailed(string VideoId, string ChannelId, string OwnerId, string Title, string JobId, string Reason, DateTimeOffset FailedAt) : IDomainEvent
{
    public string SubjectId => VideoId;
}
