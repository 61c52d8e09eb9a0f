using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Comments;

/// <summary>
/// A comment or reply was posted (written to the outbox with the comment, so it exists exactly when the comment does).
/// <paramref name="Status"/> says whether it is published or held for the owner's approval; <paramref name="MentionedUserIds"/>
/// are the accounts its <c>@handle</c> mentions resolved to. What consumers need (the video's owner to notify, the
/// parent's author for a reply) they read by these ids.
/// </summary>
internal sealed record CommentPosted(
    string CommentId, string VideoId, string ThreadId, string? ParentId, string AuthorId, string Status, string[] MentionedUserIds,
    DateTimeOffset PostedAt) : IDomainEvent
{
    public string SubjectId => VideoId;
}
