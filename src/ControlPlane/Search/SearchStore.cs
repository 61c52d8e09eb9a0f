using System.Collections.Concurrent;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Discovery;

namespace StreamVerse.ControlPlane.Search;

/// <summary>
/// Search over <c>video_search</c> (kept by triggers, <see cref="DiscoverySchema"/>) joined to <c>videos</c> under
/// <see cref="Listing.Listed"/>, so nothing hidden is ever returned or counted.
/// <para>
/// Relevance is an integer computed from the query and the one document only (no corpus statistics such as BM25's
/// IDF), so a video's score does not move when others are added: relevance pages by keyset on (score desc, id asc) and a
/// video inserted during paging lands where its own score puts it, without shifting the rest (no duplicate, no gap).
/// SQLite: 3 points per query trigram found in the title, 1 in the body, plus 20 per whole word in the title and 5 in
/// the body; a match needs at least half the query's trigrams (typos: "tutorail" keeps tut, uto, tor of "tutorial").
/// PostgreSQL: <c>ts_rank</c> of the weighted tsvector against every word as a prefix, plus pg_trgm's
/// <c>word_similarity</c> of the query to the text, both in millionths; a match is the tsquery or a word similarity of at
/// least <see cref="WordSimilarityThreshold"/> (the <c>&lt;%</c> operator, served by the trigram index).
/// </para>
/// </summary>
internal sealed class SearchStore(Database database)
{
    public const string WordSimilarityThreshold = "0.5";

    private readonly ConcurrentDictionary<string, string> _sql = new(StringComparer.Ordinal);
    private string? _trgmSchema;

    private const string SearchFilters =
        $"""
        {FeedStore.Filters}
        AND (CAST(@lang AS VARCHAR(16)) IS NULL OR v.language = @lang)
        AND (@type = 0 OR (@type = 1 AND v.status = 'live') OR (@type = 2 AND v.status <> 'live'))
        AND (CAST(@mind AS DOUBLE PRECISION) IS NULL OR v.duration_seconds >= @mind)
        AND (CAST(@maxd AS DOUBLE PRECISION) IS NULL OR v.duration_seconds <= @maxd)
        """;

    private static string Candidates(Dialect d, string trgm) => d == Dialect.Postgres
        ? $"""
          SELECT s.video_id,
                 CAST(ROUND(ts_rank(s.doc, q.tsq) * 1000000) AS BIGINT)
                 + CAST(ROUND({trgm}.word_similarity(@text, s.title || ' ' || s.body) * 1000000) AS BIGINT) AS score
          FROM video_search s CROSS JOIN LATERAL (SELECT to_tsquery('simple', @tsq) AS tsq) q
          WHERE s.doc @@ q.tsq OR @text OPERATOR({trgm}.<%) (s.title || ' ' || s.body)
          """
        : """
          SELECT video_search.video_id,
                 (SELECT SUM(CASE WHEN instr(video_search.title, g.value) > 0 THEN 3 WHEN instr(video_search.body, g.value) > 0 THEN 1 ELSE 0 END) FROM json_each(@grams) g)
                 + (SELECT SUM(CASE WHEN instr(video_search.title, w.value) > 0 THEN 20 WHEN instr(video_search.body, w.value) > 0 THEN 5 ELSE 0 END) FROM json_each(@words) w)
                 AS score
          FROM video_search
          WHERE video_search MATCH @fts
            AND (SELECT COUNT(*) FROM json_each(@grams) g WHERE instr(video_search.title, g.value) > 0 OR instr(video_search.body, g.value) > 0) * 2 >= @gramcount
          """;

    private static string VideoSql(Dialect d, string trgm, bool byDate) =>
        $"""
        SELECT {Listing.CardColumns}, x.score
        FROM ({Candidates(d, trgm)}) x
        JOIN videos v ON v.id = x.video_id JOIN channels c ON c.id = v.channel_id
        WHERE {Listing.Listed} {SearchFilters}
          AND (CAST(@from AS {d.Timestamp}) IS NULL OR {Listing.ListedAt} >= @from)
          AND (CAST(@to AS {d.Timestamp}) IS NULL OR {Listing.ListedAt} < @to)
          {(byDate
            ? $"AND ({Listing.ListedAt} < @ck OR ({Listing.ListedAt} = @ck AND v.id < @cid)) ORDER BY {Listing.ListedAt} DESC, v.id DESC"
            : "AND (x.score < @ck OR (x.score = @ck AND v.id > @cid)) ORDER BY x.score DESC, v.id ASC")}
        LIMIT @take
        """;

    /// <summary>Channels: the same trigram rule as SQLite's video search, over name (3) and description (1), on both engines
    /// (channels are few next to videos; a scan of them is the plain way).</summary>
    private static string ChannelSql(Dialect d)
    {
        var (each, pos) = d == Dialect.Postgres ? ("unnest(@{0}) AS {1}(value)", "strpos") : ("json_each(@{0}) {1}", "instr");
        string Each(string p, string alias) => string.Format(CultureInfo.InvariantCulture, each, p, alias);
        return $"""
            SELECT * FROM (
                SELECT c.id, c.name, c.description, c.subscriber_count,
                       (SELECT COUNT(*) FROM videos v WHERE v.channel_id = c.id AND {Listing.Listed}) AS videos,
                       (SELECT SUM(CASE WHEN {pos}(lower(c.name), g.value) > 0 THEN 3 WHEN {pos}(lower(c.description), g.value) > 0 THEN 1 ELSE 0 END) FROM {Each("grams", "g")})
                       + (SELECT SUM(CASE WHEN {pos}(lower(c.name), w.value) > 0 THEN 20 WHEN {pos}(lower(c.description), w.value) > 0 THEN 5 ELSE 0 END) FROM {Each("words", "w")})
                       AS score,
                       (SELECT COUNT(*) FROM {Each("grams", "g")} WHERE {pos}(lower(c.name || ' ' || c.description), g.value) > 0) AS matched
                FROM channels c) x
            WHERE x.matched * 2 >= @gramcount AND (x.score < @ck OR (x.score = @ck AND x.id > @cid))
            ORDER BY x.score DESC, x.id ASC
            LIMIT @take
            """;
    }

    /// <summary>Titles containing the typed text, those starting with it first, then the most liked. On SQLite the FTS5
    /// trigram index serves the LIKE (three characters or more); on PostgreSQL it reads the index table's titles.</summary>
    private const string SuggestSql =
        $"""
        SELECT v.id, v.title
        FROM video_search s JOIN videos v ON v.id = s.video_id JOIN channels c ON c.id = v.channel_id
        WHERE s.title LIKE @contains ESCAPE '\' AND {Listing.Listed}
        ORDER BY CASE WHEN s.title LIKE @starts ESCAPE '\' THEN 0 ELSE 1 END, v.like_count DESC, v.id
        LIMIT @take
        """;

    public async Task<Page<VideoCard>> VideosAsync(SearchTerms terms, SearchFilter f, bool byDate, string? cursor, int take, Validation v,
        CancellationToken cancellationToken)
    {
        var sort = byDate ? "date" : "relevance";
        object ck;
        string cid;
        if (byDate)
        {
            (var at, cid) = Paging.AfterNewest(cursor, "search-" + sort, v);
            ck = at;
        }
        else
        {
            var (key, id) = FeedStore.AfterLong(cursor, "search-" + sort, v);
            (ck, cid) = (key, id);
        }

        if (!v.IsValid)
        {
            return new Page<VideoCard>([], null);
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        string trgm = "";
        if (db.Dialect == Dialect.Postgres)
        {
            trgm = await TrgmSchemaAsync(db, cancellationToken).ConfigureAwait(false);

            // word_similarity's threshold for <% is a setting: this transaction's only.
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            await db.ExecAsync($"SELECT set_config('pg_trgm.word_similarity_threshold', '{WordSimilarityThreshold}', true)", [], cancellationToken).ConfigureAwait(false);
        }

        var sql = _sql.GetOrAdd($"{db.Dialect.Timestamp}|{sort}", _ => VideoSql(db.Dialect, trgm, byDate));
        var rows = await db.QueryAsync(sql,
            [("text", terms.Text), ("tsq", terms.TsQuery), ("fts", terms.Fts5), ("grams", db.Dialect.ListValue(terms.Grams)),
             ("words", db.Dialect.ListValue(terms.Words)), ("gramcount", terms.Grams.Length),
             ("cat", f.Category), ("tag", f.Tag), ("ch", f.Channel), ("lang", f.Language), ("type", f.Type), ("mind", f.MinDuration), ("maxd", f.MaxDuration),
             ("from", f.From), ("to", f.To), ("ck", ck), ("cid", cid), ("take", take + 1)],
            (r, d) => (Card: Listing.ReadCard(r, d), Score: Convert.ToInt64(r.GetValue(Listing.CardColumnCount), CultureInfo.InvariantCulture)),
            cancellationToken).ConfigureAwait(false);
        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "search-" + sort,
            x => (byDate ? Paging.Key(x.Card.ListedAt) : x.Score.ToString(CultureInfo.InvariantCulture), x.Card.Id), x => x.Card);
    }

    public async Task<Page<ChannelHit>> ChannelsAsync(SearchTerms terms, (long Key, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = _sql.GetOrAdd($"{db.Dialect.Timestamp}|channels", _ => ChannelSql(db.Dialect));
        var rows = await db.QueryAsync(sql,
            [("grams", db.Dialect.ListValue(terms.Grams)), ("words", db.Dialect.ListValue(terms.Words)), ("gramcount", terms.Grams.Length),
             ("ck", after.Key), ("cid", after.Id), ("take", take + 1)],
            (r, _) => (Hit: new ChannelHit(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture)),
                Score: Convert.ToInt64(r.GetValue(5), CultureInfo.InvariantCulture)),
            cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, "search-channels", x => (x.Score.ToString(CultureInfo.InvariantCulture), x.Hit.Id), x => x.Hit);
    }

    public async Task<Page<SearchSuggestion>> SuggestAsync(string prefix, int take, CancellationToken cancellationToken)
    {
        var escaped = prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(SuggestSql, [("contains", "%" + escaped + "%"), ("starts", escaped + "%"), ("take", take)],
            (r, _) => new SearchSuggestion(r.GetString(1), r.GetString(0)), cancellationToken).ConfigureAwait(false);
        return new Page<SearchSuggestion>(rows, null);
    }

    /// <summary>The schema pg_trgm is installed in (quoted), looked up once: the functions and operator are named through it,
    /// so they resolve whatever the connection's search path.</summary>
    private async Task<string> TrgmSchemaAsync(DbSession db, CancellationToken cancellationToken)
    {
        if (_trgmSchema is { } known)
        {
            return known;
        }

        var schema = await db.ScalarAsync<string>(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'", [], cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("the pg_trgm extension is not installed (CREATE EXTENSION pg_trgm)");
        return _trgmSchema = "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
