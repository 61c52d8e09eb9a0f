using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary><c>PUT /api/v1/moderation/words</c>: the whole instance-wide list (it replaces the previous one).</summary>
/// <param name="Words">Entries of 1-50 characters without white space; <c>*</c> stands for any run of characters, <c>?</c> for one.</param>
internal sealed record WordListRequest(string[]? Words);

/// <summary>The instance-wide word list, lower-cased, sorted.</summary>
internal sealed record WordListResponse(string[] Words);

/// <summary>
/// The instance-wide word list moderators keep. A comment with a word on it (or on its channel's list, the one its chat uses) is
/// held for review instead of published; a chat message with one is refused (chat is real time: nothing waits in it). Matching
/// is <see cref="Chat.BlockedWords"/>' whole-word glob. Replacing the list is a moderator's act, so it is written to the audit
/// log with the list before it.
/// </summary>
internal sealed class WordList(Database database, IOptions<ModerationOptions> options, TimeProvider time)
{
    public const string AuditAction = "word-list";
    public const string AuditKind = "instance";

    public static async Task<string[]> ReadInAsync(DbSession db, CancellationToken cancellationToken) =>
        [.. await db.QueryAsync("SELECT pattern FROM moderation_words ORDER BY pattern", [], (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false)];

    public async Task<WordListResponse> GetAsync(CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return new WordListResponse(await ReadInAsync(db, cancellationToken).ConfigureAwait(false));
    }

    public int MaxWords => options.Value.MaxWords;

    public async Task<WordListResponse> ReplaceAsync(Caller moderator, string[] words, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var before = await ReadInAsync(db, cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("DELETE FROM moderation_words", [], cancellationToken).ConfigureAwait(false);
        foreach (var w in words)
        {
            await db.ExecAsync("INSERT INTO moderation_words (pattern, created_by, created_at) VALUES (@p, @m, @now)", [("p", w), ("m", moderator.Id), ("now", now)],
                cancellationToken).ConfigureAwait(false);
        }

        await AuditLog.AppendInAsync(db, now, moderator.Id, AuditAction, AuditKind, AuditKind, null, reason,
            AuditLog.State(("words", before)), cancellationToken).ConfigureAwait(false);
        var after = await ReadInAsync(db, cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new WordListResponse(after);
    }
}
