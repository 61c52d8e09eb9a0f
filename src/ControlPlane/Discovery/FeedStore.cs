using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Discovery;

/// <summary>What every feed can be narrowed to: one category, one tag (normalised), one channel.</summary>
internal sealed record FeedFilter(long? Category, string? Tag, string? Channel);

/// <summary>
/// The feeds' statements, once for both engines. Every one applies <see cref="Listing.Listed"/> and pages by keyset on
/// (key, id) with <c>limit + 1</c> rows, where the key is fixed for a video between two reactions: its listing instant
/// (recent, live, subscriptions), its like count (most liked) or its hot score (which has no "now" in it, see
/// <see cref="HotScore"/>). So a video inserted while someone pages lands before their cursor (newer, or hotter with the
/// same votes) and shifts nothing after it: no duplicate and no gap.
/// </summary>
internal sealed class FeedStore(Database database)
{
    /// <summary>The first page's keyset bound for an instant key: after every real (instant, id).</summary>
    public static readonly DateTimeOffset Start = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    internal const string Filters =
        """
        AND (CAST(@cat AS BIGINT) IS NULL OR v.category_id = @cat)
        AND (CAST(@tag AS VARCHAR(50)) IS NULL OR EXISTS (SELECT 1 FROM video_tags vt JOIN tags t ON t.id = vt.tag_id WHERE vt.video_id = v.id AND t.name = @tag))
        AND (CAST(@ch AS VARCHAR(32)) IS NULL OR v.channel_id = @ch)
        """;

    /// <summary>Recent, live now (<c>@live</c> = 1) and the subscriptions feed (<c>@me</c> set): newest listing first.</summary>
    private const string SelectRecent =
        $"""
        SELECT {Listing.CardColumns}
        FROM videos v JOIN channels c ON c.id = v.channel_id
        WHERE {Listing.Listed} {Filters}
          AND (@live = 0 OR v.status = 'live')
          AND (CAST(@me AS VARCHAR(32)) IS NULL OR v.channel_id IN (SELECT s.channel_id FROM subscriptions s WHERE s.user_id = @me))
          AND ({Listing.ListedAt} < @ck OR ({Listing.ListedAt} = @ck AND v.id < @cid))
        ORDER BY {Listing.ListedAt} DESC, v.id DESC
        LIMIT @take
        """;

    /// <summary>Most liked: only videos whose creator shows reactions (ranking by a hidden count would reveal it).</summary>
    private const string SelectMostLiked =
        $"""
        SELECT {Listing.CardColumns}
        FROM videos v JOIN channels c ON c.id = v.channel_id
        WHERE {Listing.Listed} {Filters} AND v.reactions_enabled
          AND (v.like_count < @ck OR (v.like_count = @ck AND v.id < @cid))
        ORDER BY v.like_count DESC, v.id DESC
        LIMIT @take
        """;

    // Votes: likes minus dislikes (zero when the creator disabled reactions: hidden counts never rank) plus half a vote per comment.
    private const string Votes = "((CASE WHEN v.reactions_enabled THEN v.like_count - v.dislike_count ELSE 0 END) + v.comment_count / 2.0)";

    /// <summary>
    /// The hot score in millionths, as an integer (exact keyset comparisons): Reddit's formula,
    /// <c>sign(s) * log10(max(|s|, 1)) + (t - 1134028003) / 45000</c> with <c>s</c> = <see cref="Votes"/> and <c>t</c> the
    /// listing instant in Unix seconds. Ten times the votes weigh as much as 12.5 hours of freshness, and the score has no
    /// "now" in it, so the order only changes when votes do: paging is stable over time.
    /// </summary>
    private static string HotScore(Dialect d) => d == Dialect.Postgres
        ? $"CAST(ROUND((SIGN({Votes}) * LOG(GREATEST(ABS({Votes}), 1)) + (FLOOR(EXTRACT(EPOCH FROM {Listing.ListedAt})) - 1134028003) / 45000.0) * 1000000) AS BIGINT)"
        : $"CAST(ROUND(((CASE WHEN {Votes} > 0 THEN 1 WHEN {Votes} < 0 THEN -1 ELSE 0 END) * log10(max(abs({Votes}), 1)) + (unixepoch({Listing.ListedAt}) - 1134028003) / 45000.0) * 1000000) AS INTEGER)";

    private static string SelectHot(Dialect d) =>
        $"""
        SELECT * FROM (
            SELECT {Listing.CardColumns}, {HotScore(d)} AS hot
            FROM videos v JOIN channels c ON c.id = v.channel_id
            WHERE {Listing.Listed} {Filters}) x
        WHERE (x.hot < @ck OR (x.hot = @ck AND x.id < @cid))
        ORDER BY x.hot DESC, x.id DESC
        LIMIT @take
        """;

    private static readonly string HotPostgres = SelectHot(Dialect.Postgres);
    private static readonly string HotSqlite = SelectHot(Dialect.Sqlite);

    private static (string, object?)[] Args(FeedFilter f, object ck, string cid, int take) =>
        [("cat", f.Category), ("tag", f.Tag), ("ch", f.Channel), ("ck", ck), ("cid", cid), ("take", take + 1)];

    /// <summary>Recent (<paramref name="liveOnly"/> false, <paramref name="subscriber"/> null), live now, or a subscriber's feed.</summary>
    public async Task<Page<VideoCard>> RecentAsync(FeedFilter filter, bool liveOnly, string? subscriber, string sort, (DateTimeOffset At, string Id) after, int take,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectRecent, [.. Args(filter, after.At, after.Id, take), ("live", liveOnly ? 1 : 0), ("me", subscriber)],
            (r, d) => Listing.ReadCard(r, d), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, sort, c => (Paging.Key(c.ListedAt), c.Id), c => c);
    }

    public async Task<Page<VideoCard>> MostLikedAsync(FeedFilter filter, (long Key, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SelectMostLiked, Args(filter, after.Key, after.Id, take), (r, d) => Listing.ReadCard(r, d), cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "most-liked", c => (c.LikeCount!.Value.ToString(CultureInfo.InvariantCulture), c.Id), c => c);
    }

    public async Task<Page<VideoCard>> HotAsync(FeedFilter filter, (long Key, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = db.Dialect == Dialect.Postgres ? HotPostgres : HotSqlite;
        var rows = await db.QueryAsync(sql, Args(filter, after.Key, after.Id, take),
            (r, d) => (Card: Listing.ReadCard(r, d), Hot: Convert.ToInt64(r.GetValue(Listing.CardColumnCount), CultureInfo.InvariantCulture)),
            cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "hot", x => (x.Hot.ToString(CultureInfo.InvariantCulture), x.Card.Id), x => x.Card);
    }

    /// <summary>The keyset position of a list keyed by an integer, descending, from <paramref name="cursor"/>; without one, before every row.</summary>
    public static (long Key, string Id) AfterLong(string? cursor, string sort, Validation v)
    {
        var (key, id) = Paging.After(cursor, sort, v);
        if (key is null || id is null)
        {
            return (long.MaxValue, "");
        }

        if (long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            return (n, id);
        }

        v.Add("cursor", "is not a cursor of this listing");
        return (0, "");
    }
}
