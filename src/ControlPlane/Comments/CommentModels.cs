using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Comments;

/// <summary>A video's comment policy (and a channel's default for its new videos), stored as this text.</summary>
internal static class CommentPolicy
{
    public const string Enabled = "enabled";
    public const string Disabled = "disabled";

    /// <summary>Comments of anyone but the video's owner (and admins) wait for the owner's approval.</summary>
    public const string Held = "held";

    public static bool IsValid(string? p) => p is Enabled or Disabled or Held;
}

/// <summary>A comment's moderation state, stored as this text. Deletion is separate (<c>deleted_at</c>).</summary>
internal static class CommentStatus
{
    public const string Published = "published";

    /// <summary>Held for approval: seen only by its author and the video's owner (and admins).</summary>
    public const string Held = "held";

    /// <summary>Refused by the video's owner: seen by nobody.</summary>
    public const string Rejected = "rejected";

    /// <summary>Hidden by a moderator while a report is reviewed: seen by nobody (Moderation/).</summary>
    public const string Hidden = "hidden";

    /// <summary>Removed by a moderator: seen by nobody; a granted appeal publishes it again (Moderation/).</summary>
    public const string Removed = "removed";
}

/// <summary><c>POST /api/v1/videos/{id}/comments</c>: a top-level comment, or a reply when <paramref name="ParentId"/> is set.</summary>
/// <param name="Text">Plain text, stored as written (not trimmed, not rewritten): 1 to <c>Comments:MaxLength</c> characters, not only
/// white space; control characters other than tab, line feed and carriage return are refused. <c>@handle</c> mentions are recorded.</param>
/// <param name="ParentId">The comment this replies to (a top-level comment or a reply in its thread); null for a new thread.</param>
internal sealed record CreateCommentRequest(string? Text, string? ParentId);

/// <summary><c>PATCH /api/v1/videos/{id}/comments/{commentId}</c>: the author's new text (same rules as when posting).</summary>
internal sealed record UpdateCommentRequest(string? Text);

/// <summary><c>PUT /api/v1/videos/{id}/comment-policy</c> and <c>PUT /api/v1/channels/{id}/comment-policy</c>.</summary>
/// <param name="Policy">enabled, disabled (nothing new is posted, replied to or voted on; only the owner and admins see the existing
/// comments) or held (comments of anyone but the owner wait for approval). On a channel: the policy its new videos start with.</param>
internal sealed record CommentPolicyRequest(string? Policy);

internal sealed record CommentPolicyResponse(string Policy);

/// <summary>Why a comment is held for review, stored as this text in <c>comments.hold_reason</c> (told only to the video's managers).</summary>
internal static class HoldReason
{
    /// <summary>The video (or its channel's default) holds every comment of others.</summary>
    public const string Policy = "policy";

    /// <summary>A word of the instance's list or of the channel's.</summary>
    public const string Words = "words";

    /// <summary>A link, from an account younger than <c>Moderation:LinkHoldAccountAge</c>.</summary>
    public const string Link = "link";

    /// <summary>A moderator limited the author: everything it writes waits for review, and it is not told so.</summary>
    public const string Limited = "limited";

    /// <summary>Whether the text carries a link: <c>http://</c>, <c>https://</c> or <c>www.</c>, in any case.</summary>
    public static bool HasLink(string text) =>
        text.Contains("http://", StringComparison.OrdinalIgnoreCase) || text.Contains("https://", StringComparison.OrdinalIgnoreCase)
        || text.Contains("www.", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Who wrote a comment.</summary>
internal sealed record CommentAuthor(string Id, string Handle, string DisplayName);

/// <summary>A comment as the caller may see it.</summary>
/// <param name="ThreadId">The top-level comment of the thread (its own id for a top-level comment).</param>
/// <param name="ParentId">The comment this replies to (a reply's parent may itself be a reply); null for a top-level comment.</param>
/// <param name="ReplyingTo">The handle of the parent's author, for "replying to @x"; null for a top-level comment or when the parent is deleted.</param>
/// <param name="Author">Null when the comment is deleted.</param>
/// <param name="Text">As written; null when the comment is deleted (clients show "[deleted]").</param>
/// <param name="Status">published, or held (only its author and the video's owner see a held comment).</param>
/// <param name="Deleted">A deleted comment is listed only while replies to it remain, without author or text.</param>
/// <param name="EditedAt">When the author last changed the text; null if never.</param>
/// <param name="Upvotes">Accounts that upvoted it (one each).</param>
/// <param name="Voted">Whether the caller upvoted it (false when anonymous).</param>
/// <param name="ReplyCount">Published, undeleted replies in the thread (top-level comments; 0 for replies).</param>
/// <param name="Pinned">The video's owner pinned it (one per video; listed first).</param>
/// <param name="Hearted">The video's owner gave it a heart.</param>
/// <param name="Mentions">Handles of existing accounts the text mentions as <c>@handle</c>.</param>
/// <param name="HeldReason">For the video's managers, why a held comment waits: policy, words, link or limited; null otherwise.</param>
internal sealed record CommentResponse(
    string Id, string VideoId, string ThreadId, string? ParentId, string? ReplyingTo, CommentAuthor? Author, string? Text, string Status,
    bool Deleted, bool Edited, DateTimeOffset? EditedAt, DateTimeOffset CreatedAt, long Upvotes, bool Voted, long ReplyCount, bool Pinned,
    bool Hearted, string[] Mentions, string? HeldReason);

/// <summary>What <see cref="CommentStore.CreateAsync"/> writes: validated, no nulls but the parent.</summary>
internal sealed record CreateComment(string Text, string? ParentId, string[] MentionedHandles);

/// <summary>The sort orders of a video's threads; each has its own cursors.</summary>
internal static class CommentSort
{
    /// <summary>Most upvotes first; among equals the newest first.</summary>
    public const string Top = "top";

    public const string Newest = "newest";

    /// <summary>A thread's replies: oldest first, as a conversation reads.</summary>
    public const string Replies = "replies";

    public static bool IsValid(string? s) => s is Top or Newest;
}

internal static partial class CommentRules
{
    /// <summary>Mentions recorded per comment; more are left as plain text.</summary>
    public const int MaxMentions = 20;

    /// <summary>Validates a comment's text; returns it as written.</summary>
    public static string Text(Validation v, string? text, int maxLength)
    {
        if (text is null || string.IsNullOrWhiteSpace(text))
        {
            v.Add("text", "is required");
            return "";
        }

        // Length in Unicode scalar values (an emoji is one, not two UTF-16 units). A lone surrogate is not text and
        // PostgreSQL would refuse it as UTF-8 at the insert: System.Text.Json already refuses one as it reads the body
        // (a 400 naming the field, CommentTests), and this keeps the rule for any other caller.
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                v.Add("text", "must be valid Unicode text (a lone surrogate at index " + i.ToString(CultureInfo.InvariantCulture) + ")");
                return text;
            }
            else if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            {
                v.Add("text", $"must not contain control characters (U+{(int)c:X4} at index {i.ToString(CultureInfo.InvariantCulture)})");
                return text;
            }

            length++;
        }

        if (length > maxLength)
        {
            v.Add("text", $"must be at most {maxLength.ToString(CultureInfo.InvariantCulture)} characters");
        }

        return text;
    }

    /// <summary>
    /// The distinct handles mentioned as <c>@handle</c> (handle rules: 3-32 of a-z, 0-9, _; case-insensitive), in order of
    /// first appearance, at most <see cref="MaxMentions"/>. An <c>@</c> inside a word (an e-mail address) is not a mention.
    /// </summary>
    public static string[] Mentions(string text)
    {
        var handles = new List<string>();
        foreach (Match m in MentionPattern().Matches(text))
        {
            var handle = m.Groups[1].Value.ToLowerInvariant();
            if (!handles.Contains(handle, StringComparer.Ordinal))
            {
                handles.Add(handle);
                if (handles.Count == MaxMentions)
                {
                    break;
                }
            }
        }

        return [.. handles];
    }

    [GeneratedRegex(@"(?<![\p{L}\p{N}_@.])@([A-Za-z0-9_]{3,32})(?![A-Za-z0-9_])", RegexOptions.CultureInvariant)]
    private static partial Regex MentionPattern();

    public static CreateComment? Validate(CreateCommentRequest r, Validation v, int maxLength)
    {
        var text = Text(v, r.Text, maxLength);
        if (r.ParentId is { } parent && (parent.Length is 0 or > 32))
        {
            v.Add("parentId", "is not a comment id");
        }

        return v.IsValid ? new CreateComment(text, r.ParentId, Mentions(text)) : null;
    }

    public static string? Policy(Validation v, string? policy)
    {
        if (!CommentPolicy.IsValid(policy))
        {
            v.Add("policy", "must be enabled, disabled or held");
            return null;
        }

        return policy;
    }

    /// <summary>A cursor's key: the fields of the sort, joined by ':' (instants as UTC ticks, so the text round-trips exactly).</summary>
    public static string Key(params object[] parts)
    {
        var sb = new StringBuilder();
        foreach (var part in parts)
        {
            if (sb.Length > 0)
            {
                sb.Append(':');
            }

            sb.Append(part switch
            {
                DateTimeOffset t => t.UtcTicks.ToString(CultureInfo.InvariantCulture),
                bool b => b ? "1" : "0",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => part.ToString(),
            });
        }

        return sb.ToString();
    }
}
