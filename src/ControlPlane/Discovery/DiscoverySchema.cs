using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Discovery;

/// <summary>
/// The discovery migration: the search index, watch history, watch later and playlists.
/// <para>
/// The search index (<c>video_search</c>: one row per video with its lower-cased title, and a body of its tags, its
/// channel's name and its description) is kept by triggers on <c>videos</c>, <c>video_tags</c> and <c>channels</c>,
/// so it changes in the very transaction that changes the data, whatever code path writes it. Visibility is not in
/// the index: every search joins <c>videos</c> and applies <see cref="Listing.Listed"/>, so a video made private,
/// held or deleted leaves the results with the commit that hid it.
/// </para>
/// <para>
/// SQLite: an FTS5 table with the trigram tokenizer (substring matches, the basis of prefix and typo tolerance), its
/// rowid per video kept in <c>video_search_rows</c> so each write replaces one document by key.
/// PostgreSQL: a table with a weighted <c>tsvector</c> (title A, tags and channel B, description C) under GIN, and a
/// pg_trgm GIN index over the text for typo tolerance. pg_trgm is created here when missing (a trusted extension: the
/// database owner may); the index names its operator class by the schema the extension lives in, found at migration
/// time, so the extension may live in <c>public</c> while the tables live elsewhere.
/// </para>
/// </summary>
internal static class DiscoverySchema
{
    public static string Sql(Dialect d) => (d == Dialect.Postgres ? PostgresIndex : SqliteIndex) + Library(d);

    private static string Library(Dialect d) => $"""

        ALTER TABLE users ADD COLUMN history_paused BOOLEAN NOT NULL DEFAULT FALSE;
        CREATE TABLE watch_history (
            user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            position_seconds DOUBLE PRECISION NOT NULL,
            watched_at {d.Timestamp} NOT NULL,
            PRIMARY KEY (user_id, video_id)
        );
        CREATE INDEX ix_watch_history_user ON watch_history (user_id, watched_at, video_id);
        CREATE TABLE watch_later (
            user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            added_at {d.Timestamp} NOT NULL,
            PRIMARY KEY (user_id, video_id)
        );
        CREATE INDEX ix_watch_later_user ON watch_later (user_id, added_at, video_id);
        CREATE TABLE playlists (
            id VARCHAR(32) PRIMARY KEY,
            owner_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            title VARCHAR(150) NOT NULL,
            description VARCHAR(5000) NOT NULL DEFAULT '',
            visibility VARCHAR(16) NOT NULL,
            created_at {d.Timestamp} NOT NULL,
            updated_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_playlists_owner ON playlists (owner_id, created_at, id);
        CREATE TABLE playlist_items (
            playlist_id VARCHAR(32) NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
            video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            position BIGINT NOT NULL,
            added_at {d.Timestamp} NOT NULL,
            PRIMARY KEY (playlist_id, video_id)
        );
        CREATE INDEX ix_playlist_items_order ON playlist_items (playlist_id, position, video_id);
        CREATE INDEX ix_playlist_items_video ON playlist_items (video_id);
        """;

    // The document of one video, for SQLite's triggers, under its FTS rowid from video_search_rows (the caller adds the WHERE).
    private const string SqliteDoc =
        """
        SELECT r.doc, v.id, lower(v.title),
               lower(COALESCE((SELECT group_concat(t.name, ' ') FROM video_tags vt JOIN tags t ON t.id = vt.tag_id WHERE vt.video_id = v.id), '')
                     || ' ' || c.name || ' ' || v.description)
        FROM videos v JOIN channels c ON c.id = v.channel_id JOIN video_search_rows r ON r.video_id = v.id
        """;

    // Replaces one video's document by rowid (an FTS5 lookup by the UNINDEXED video_id would scan the whole index on every
    // write). A video deleted meanwhile (tags removed by its cascade) gets no row back.
    private static string SqliteRefresh(string id) =>
        $"""
        INSERT OR IGNORE INTO video_search_rows (video_id) SELECT id FROM videos WHERE id = {id};
        DELETE FROM video_search WHERE rowid = (SELECT doc FROM video_search_rows WHERE video_id = {id});
        INSERT INTO video_search (rowid, video_id, title, body) {SqliteDoc} WHERE v.id = {id};
        """;

    private static readonly string SqliteIndex = $"""
        CREATE VIRTUAL TABLE video_search USING fts5(video_id UNINDEXED, title, body, tokenize = 'trigram');
        CREATE TABLE video_search_rows (doc INTEGER PRIMARY KEY AUTOINCREMENT, video_id VARCHAR(32) NOT NULL UNIQUE);
        INSERT INTO video_search_rows (video_id) SELECT id FROM videos;
        INSERT INTO video_search (rowid, video_id, title, body) {SqliteDoc};
        CREATE TRIGGER tr_video_search_insert AFTER INSERT ON videos BEGIN {SqliteRefresh("NEW.id")} END;
        CREATE TRIGGER tr_video_search_update AFTER UPDATE OF title, description, channel_id ON videos BEGIN {SqliteRefresh("NEW.id")} END;
        CREATE TRIGGER tr_video_search_delete AFTER DELETE ON videos BEGIN
            DELETE FROM video_search WHERE rowid = (SELECT doc FROM video_search_rows WHERE video_id = OLD.id);
            DELETE FROM video_search_rows WHERE video_id = OLD.id;
        END;
        CREATE TRIGGER tr_video_search_tag_added AFTER INSERT ON video_tags BEGIN {SqliteRefresh("NEW.video_id")} END;
        CREATE TRIGGER tr_video_search_tag_removed AFTER DELETE ON video_tags BEGIN {SqliteRefresh("OLD.video_id")} END;
        CREATE TRIGGER tr_video_search_channel AFTER UPDATE OF name ON channels BEGIN
            DELETE FROM video_search WHERE rowid IN (SELECT r.doc FROM video_search_rows r JOIN videos v ON v.id = r.video_id WHERE v.channel_id = NEW.id);
            INSERT INTO video_search (rowid, video_id, title, body) {SqliteDoc} WHERE v.channel_id = NEW.id;
        END;
        """;

    private const string PostgresIndex =
        """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE TABLE video_search (
            video_id VARCHAR(32) PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            doc TSVECTOR NOT NULL
        );
        CREATE INDEX ix_video_search_doc ON video_search USING GIN (doc);
        DO $trgm$
        DECLARE s TEXT;
        BEGIN
            SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
            EXECUTE format('CREATE INDEX ix_video_search_trgm ON video_search USING GIN ((title || '' '' || body) %I.gin_trgm_ops)', s);
        END
        $trgm$;
        CREATE FUNCTION video_search_refresh(vid VARCHAR) RETURNS VOID LANGUAGE SQL AS $refresh$
            DELETE FROM video_search WHERE video_id = vid;
            INSERT INTO video_search (video_id, title, body, doc)
            SELECT v.id, lower(v.title), lower(x.tags || ' ' || c.name || ' ' || v.description),
                   setweight(to_tsvector('simple', v.title), 'A') || setweight(to_tsvector('simple', x.tags || ' ' || c.name), 'B')
                   || setweight(to_tsvector('simple', v.description), 'C')
            FROM videos v JOIN channels c ON c.id = v.channel_id
            CROSS JOIN LATERAL (SELECT COALESCE(string_agg(t.name, ' '), '') AS tags FROM video_tags vt JOIN tags t ON t.id = vt.tag_id WHERE vt.video_id = v.id) x
            WHERE v.id = vid;
        $refresh$;
        CREATE FUNCTION video_search_on_video() RETURNS TRIGGER LANGUAGE plpgsql AS $f$
        BEGIN PERFORM video_search_refresh(NEW.id); RETURN NULL; END
        $f$;
        CREATE FUNCTION video_search_on_tag() RETURNS TRIGGER LANGUAGE plpgsql AS $f$
        BEGIN
            IF TG_OP = 'DELETE' THEN PERFORM video_search_refresh(OLD.video_id); ELSE PERFORM video_search_refresh(NEW.video_id); END IF;
            RETURN NULL;
        END
        $f$;
        CREATE FUNCTION video_search_on_channel() RETURNS TRIGGER LANGUAGE plpgsql AS $f$
        BEGIN PERFORM video_search_refresh(v.id) FROM videos v WHERE v.channel_id = NEW.id; RETURN NULL; END
        $f$;
        CREATE TRIGGER tr_video_search_video AFTER INSERT OR UPDATE OF title, description, channel_id ON videos
            FOR EACH ROW EXECUTE FUNCTION video_search_on_video();
        CREATE TRIGGER tr_video_search_tag AFTER INSERT OR DELETE ON video_tags FOR EACH ROW EXECUTE FUNCTION video_search_on_tag();
        CREATE TRIGGER tr_video_search_channel AFTER UPDATE OF name ON channels FOR EACH ROW EXECUTE FUNCTION video_search_on_channel();
        SELECT video_search_refresh(id) FROM videos;
        """;
}
