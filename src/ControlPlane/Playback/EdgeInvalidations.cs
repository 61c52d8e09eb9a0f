using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Playback;

/// <summary>One video whose cached objects edges must drop.</summary>
/// <param name="Seq">Its position in the feed.</param>
/// <param name="VideoId">The video (a live stream's name): edges drop what they hold under <c>/vod/{id}/</c>, <c>/live/{id}/</c> and their tokenised forms.</param>
internal sealed record EdgeInvalidation(long Seq, string VideoId);

/// <summary>A page of the invalidation feed.</summary>
/// <param name="Last">The cursor to ask with next (<c>after</c>).</param>
/// <param name="Reset">The edge's cursor is unknown here (a first poll, or older than what the feed keeps): it must drop everything it holds; <see cref="Items"/> are then the recent invalidations, for their hold.</param>
/// <param name="More">Another page follows at once.</param>
/// <param name="HoldSeconds">How long after an invalidation an edge stores nothing of that video: the time every origin on the database takes to learn the change (their <c>CacheRefreshInterval</c>), so none of them can hand the edge the old answer to keep.</param>
/// <param name="Items">In feed order.</param>
internal sealed record EdgeInvalidationPage(long Last, bool Reset, bool More, int HoldSeconds, List<EdgeInvalidation> Items);

/// <summary>
/// The invalidation feed edges purge from: <c>GET /internal/v1/invalidations?after=SEQ</c>, rows of
/// <c>edge_invalidations</c> written in the same transaction as the change that makes a video's untokenised answers
/// wrong (made private or premium, deleted with its account or channel or by itself, by its owner or an admin). Edges
/// poll it (pull: an edge that was away catches up from its cursor, and one whose cursor the feed no longer covers
/// empties its cache), authenticated with a credential derived from the playback signing key, which edges already
/// hold to check tokens. Every origin on a shared PostgreSQL serves the same feed.
/// </summary>
/// <remarks>
/// Invariants: <c>seq</c> order is commit order. Writers are serialised (PostgreSQL: a transaction-scoped advisory
/// lock taken before the row is written; SQLite: <c>BEGIN IMMEDIATE</c> already serialises them), so a row a reader
/// sees has every row of a lower <c>seq</c> visible or rolled back, and a cursor never skips a late commit. Pruning
/// (after <see cref="Retention"/>) keeps the newest row, so the feed's last <c>seq</c> never goes back.
/// </remarks>
internal sealed partial class EdgeInvalidations(Database database, PlaybackTokens tokens, IOptions<ControlPlaneOptions> options, TimeProvider time,
    ILogger<EdgeInvalidations> logger)
{
    public const string FeedPath = "/internal/v1/invalidations";

    /// <summary>The Authorization scheme of the feed: <c>Authorization: StreamVerse-Edge {credential}</c>.</summary>
    public const string Scheme = "StreamVerse-Edge";

    /// <summary>How long rows are kept; an edge away longer empties its cache when it is back.</summary>
    internal static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    internal const int PageSize = 1000;

    private const long WriterLockKey = 0x4564_6765_496E; // "EdgeIn"
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);
    private static ReadOnlySpan<byte> CredentialLabel => "streamverse-edge-invalidations-v1"u8;

    private readonly Lazy<byte[]> _credential = new(() => Encoding.ASCII.GetBytes(tokens.EdgeFeedCredential()));
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <summary>
    /// Edges wait this long after an invalidation before they keep that video's objects again: twice the interval at
    /// which origins re-read the protected videos (<see cref="ControlPlaneOptions.CacheRefreshInterval"/>), plus a second.
    /// </summary>
    public int HoldSeconds => (int)Math.Ceiling((2 * options.Value.CacheRefreshInterval + TimeSpan.FromSeconds(1)).TotalSeconds);

    /// <summary>The credential for a playback signing key: base64url(HMAC-SHA256(key, label)). The key itself never travels.</summary>
    public static string Credential(byte[] playbackKey) => System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(playbackKey, CredentialLabel));

    /// <summary>
    /// Serialises the writers of <c>edge_invalidations</c> until the caller's transaction ends (see the remarks). Taken
    /// before the transaction touches any video row, so two writers never wait on each other in both directions.
    /// </summary>
    internal static Task LockWritersInAsync(DbSession db, CancellationToken cancellationToken) =>
        db.Dialect == Dialect.Postgres
            ? db.ExecAsync("SELECT pg_advisory_xact_lock(@k)", [("k", WriterLockKey)], cancellationToken)
            : Task.CompletedTask;

    /// <summary>
    /// Records, in the caller's transaction, that edges must drop what they hold of <paramref name="videoId"/>. Call it
    /// before the transaction's other writes (it takes the writers' lock).
    /// </summary>
    public async Task RecordInAsync(DbSession db, string videoId, CancellationToken cancellationToken)
    {
        await LockWritersInAsync(db, cancellationToken).ConfigureAwait(false);
        await db.ExecAsync("INSERT INTO edge_invalidations (video_id, created_at) VALUES (@v, @now)", [("v", videoId), ("now", time.GetUtcNow())],
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="authorization"/> is <c>StreamVerse-Edge {credential}</c> with this origin's credential (compared in fixed time).</summary>
    public bool Authenticates(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith(Scheme + " ", StringComparison.Ordinal))
        {
            return false;
        }

        var presented = Encoding.ASCII.GetBytes(authorization.AsSpan(Scheme.Length + 1).Trim().ToString());
        return CryptographicOperations.FixedTimeEquals(presented, _credential.Value);
    }

    /// <summary>
    /// The rows after <paramref name="after"/>, at most <see cref="PageSize"/>; or, for no cursor or one the feed does not
    /// cover (older than the oldest row kept, or newer than the newest: another database), a reset with the rows still
    /// within <see cref="HoldSeconds"/>.
    /// </summary>
    public async Task<EdgeInvalidationPage> ReadAsync(long? after, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var hold = HoldSeconds;
        var (min, max) = (await db.QueryAsync("SELECT MIN(seq), MAX(seq) FROM edge_invalidations", [],
            (r, _) => (Min: r.IsDBNull(0) ? 0L : r.GetInt64(0), Max: r.IsDBNull(1) ? 0L : r.GetInt64(1)), cancellationToken).ConfigureAwait(false))[0];
        if (after is not { } cursor || cursor > max || cursor < min - 1)
        {
            var recent = await db.QueryAsync("SELECT seq, video_id FROM edge_invalidations WHERE created_at > @since ORDER BY seq",
                [("since", time.GetUtcNow() - TimeSpan.FromSeconds(hold))], Read, cancellationToken).ConfigureAwait(false);
            return new EdgeInvalidationPage(recent.Count > 0 ? Math.Max(max, recent[^1].Seq) : max, Reset: true, More: false, hold, recent);
        }

        var rows = await db.QueryAsync("SELECT seq, video_id FROM edge_invalidations WHERE seq > @after ORDER BY seq LIMIT @n",
            [("after", cursor), ("n", PageSize + 1)], Read, cancellationToken).ConfigureAwait(false);
        var more = rows.Count > PageSize;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new EdgeInvalidationPage(rows.Count > 0 ? rows[^1].Seq : cursor, Reset: false, more, hold, rows);
    }

    /// <summary>Drops rows older than <see cref="Retention"/> (at most hourly), always keeping the newest.</summary>
    public async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _lastPrune < PruneInterval)
        {
            return;
        }

        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync("DELETE FROM edge_invalidations WHERE created_at < @cutoff AND seq < (SELECT MAX(seq) FROM edge_invalidations)",
            [("cutoff", now - Retention)], cancellationToken).ConfigureAwait(false);
        _lastPrune = now;
        if (n > 0)
        {
            Log.Pruned(logger, n);
        }
    }

    private static EdgeInvalidation Read(System.Data.Common.DbDataReader r, Dialect d) => new(r.GetInt64(0), r.GetString(1));

    private static partial class Log
    {
        [LoggerMessage(EventId = 4600, Level = LogLevel.Information, Message = "Pruned {Count} edge invalidations older than a day")]
        public static partial void Pruned(ILogger logger, int count);
    }
}

/// <summary><c>GET /internal/v1/invalidations?after=SEQ</c>: <see cref="EdgeInvalidations"/> for edges.</summary>
internal static class EdgeInvalidationEndpoints
{
    public static IEndpointRouteBuilder MapEdgeInvalidations(this IEndpointRouteBuilder endpoints)
    {
        // Not under /api (no CORS, not in the OpenAPI document) and not behind the JWT policies: edges are no accounts.
        // The handler checks the edge credential itself; an account's access token, an admin's included, opens nothing.
        endpoints.MapGet(EdgeInvalidations.FeedPath, FeedAsync).AllowAnonymous();
        return endpoints;
    }

    private static async Task<IResult> FeedAsync(HttpContext context, EdgeInvalidations feed, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!feed.Authenticates(context.Request.Headers.Authorization.ToString()))
        {
            context.Response.Headers.WWWAuthenticate = EdgeInvalidations.Scheme;
            return Problems.Unauthorized("This feed is for StreamVerse edges: Authorization: " + EdgeInvalidations.Scheme
                + " with the credential derived from StreamVerse:ControlPlane:Playback:SigningKey.");
        }

        long? after = null;
        if (context.Request.Query.TryGetValue("after", out var value))
        {
            if (value.Count != 1 || !long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return new Validation().Add("after", "must be a non-negative integer (the last seq this edge applied)").Result();
            }

            after = parsed;
        }

        return TypedResults.Ok(await feed.ReadAsync(after, cancellationToken).ConfigureAwait(false));
    }
}
