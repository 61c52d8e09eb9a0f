using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>
/// The schema of trust and safety (one self-contained migration). Kinds, reasons, states and actions are stored as
/// text checked in code (<see cref="ObjectKind"/>, ...), so a new kind such as <c>chat-message</c> needs no migration.
/// The audit log refuses UPDATE and DELETE in the database itself (a trigger on each engine), so no code path, and no
/// operator with the application's credentials, can rewrite what a moderator did.
/// </summary>
internal static class ModerationSchema
{
    public static string Sql(Dialect d) => $"""
        ALTER TABLE users ADD COLUMN account_state VARCHAR(16) NOT NULL DEFAULT 'active';
        ALTER TABLE users ADD COLUMN suspended_until {d.Timestamp} NULL;
        ALTER TABLE users ADD COLUMN adult_attested_at {d.Timestamp} NULL;
        ALTER TABLE videos ADD COLUMN moderation VARCHAR(16) NULL;
        ALTER TABLE videos ADD COLUMN moderated_at {d.Timestamp} NULL;
        ALTER TABLE videos ADD COLUMN age_restricted BOOLEAN NOT NULL DEFAULT FALSE;
        ALTER TABLE videos ADD COLUMN presentation_purged_at {d.Timestamp} NULL;
        CREATE INDEX ix_videos_moderation ON videos (moderation, moderated_at);
        CREATE TABLE moderation_cases (
            id VARCHAR(32) PRIMARY KEY,
            object_kind VARCHAR(32) NOT NULL,
            object_id VARCHAR(32) NOT NULL,
            owner_id VARCHAR(32) NULL,
            reason VARCHAR(32) NOT NULL,
            state VARCHAR(16) NOT NULL,
            report_count INTEGER NOT NULL,
            first_reported_at {d.Timestamp} NOT NULL,
            last_reported_at {d.Timestamp} NOT NULL,
            claimed_by VARCHAR(32) NULL,
            claim_expires_at {d.Timestamp} NULL,
            outcome VARCHAR(32) NULL,
            decided_by VARCHAR(32) NULL,
            decided_at {d.Timestamp} NULL
        );
        CREATE UNIQUE INDEX ux_moderation_cases_open ON moderation_cases (object_kind, object_id) WHERE state = 'open';
        CREATE INDEX ix_moderation_cases_oldest ON moderation_cases (state, first_reported_at, id);
        CREATE INDEX ix_moderation_cases_most ON moderation_cases (state, report_count, first_reported_at, id);
        CREATE TABLE moderation_reports (
            id VARCHAR(32) PRIMARY KEY,
            case_id VARCHAR(32) NOT NULL REFERENCES moderation_cases(id),
            reporter_id VARCHAR(32) NOT NULL,
            reason VARCHAR(32) NOT NULL,
            text VARCHAR(2000) NOT NULL,
            created_at {d.Timestamp} NOT NULL,
            UNIQUE (case_id, reporter_id)
        );
        CREATE INDEX ix_moderation_reports_reporter ON moderation_reports (reporter_id, created_at, id);
        CREATE TABLE moderation_messages (
            id VARCHAR(32) PRIMARY KEY,
            report_id VARCHAR(32) NOT NULL REFERENCES moderation_reports(id),
            author_id VARCHAR(32) NOT NULL,
            from_moderator BOOLEAN NOT NULL,
            body VARCHAR(2000) NOT NULL,
            created_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_moderation_messages_report ON moderation_messages (report_id, created_at, id);
        CREATE TABLE moderation_actions (
            id VARCHAR(32) PRIMARY KEY,
            case_id VARCHAR(32) NULL,
            action VARCHAR(32) NOT NULL,
            object_kind VARCHAR(32) NOT NULL,
            object_id VARCHAR(32) NOT NULL,
            target_user_id VARCHAR(32) NULL,
            moderator_id VARCHAR(32) NOT NULL,
            reason VARCHAR(2000) NOT NULL,
            created_at {d.Timestamp} NOT NULL,
            reversed_at {d.Timestamp} NULL
        );
        CREATE INDEX ix_moderation_actions_target ON moderation_actions (target_user_id, action, created_at);
        CREATE TABLE moderation_appeals (
            id VARCHAR(32) PRIMARY KEY,
            action_id VARCHAR(32) NOT NULL UNIQUE REFERENCES moderation_actions(id),
            appellant_id VARCHAR(32) NOT NULL,
            text VARCHAR(2000) NOT NULL,
            state VARCHAR(16) NOT NULL,
            created_at {d.Timestamp} NOT NULL,
            decided_by VARCHAR(32) NULL,
            decided_at {d.Timestamp} NULL,
            decision_reason VARCHAR(2000) NULL
        );
        CREATE INDEX ix_moderation_appeals_state ON moderation_appeals (state, created_at, id);
        CREATE TABLE moderation_audit (
            seq {d.IdentityPrimaryKey},
            at {d.Timestamp} NOT NULL,
            moderator_id VARCHAR(32) NOT NULL,
            action VARCHAR(32) NOT NULL,
            object_kind VARCHAR(32) NOT NULL,
            object_id VARCHAR(32) NOT NULL,
            case_id VARCHAR(32) NULL,
            reason VARCHAR(2000) NOT NULL,
            before_state TEXT NOT NULL
        );
        CREATE TABLE account_blocks (
            blocker_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            blocked_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind VARCHAR(8) NOT NULL,
            created_at {d.Timestamp} NOT NULL,
            PRIMARY KEY (blocker_id, blocked_id)
        );
        CREATE INDEX ix_account_blocks_blocked ON account_blocks (blocked_id, blocker_id);
        {(d == Dialect.Postgres ? PostgresAppendOnly : SqliteAppendOnly)}
        """;

    /// <summary>
    /// Prevention: the instance-wide word list (moderators'), why a comment was held (<see cref="Comments.HoldReason"/>), and
    /// the limited state of an account (its new comments are held, seen only by itself and the video's managers, until reviewed).
    /// </summary>
    public static string PreventionSql(Dialect d) => $"""
        CREATE TABLE moderation_words (
            pattern VARCHAR(64) PRIMARY KEY,
            created_by VARCHAR(32) NOT NULL,
            created_at {d.Timestamp} NOT NULL
        );
        ALTER TABLE comments ADD COLUMN hold_reason VARCHAR(16) NULL;
        ALTER TABLE users ADD COLUMN limited_at {d.Timestamp} NULL;
        """;

    private const string SqliteAppendOnly = """
        CREATE TRIGGER moderation_audit_no_update BEFORE UPDATE ON moderation_audit
        BEGIN SELECT RAISE(ABORT, 'moderation_audit is append-only'); END;
        CREATE TRIGGER moderation_audit_no_delete BEFORE DELETE ON moderation_audit
        BEGIN SELECT RAISE(ABORT, 'moderation_audit is append-only'); END;
        """;

    // In the schema the connection's search_path names first (the deployment's, or a test's own).
    private const string PostgresAppendOnly = """
        CREATE FUNCTION moderation_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'moderation_audit is append-only'; END $$;
        CREATE TRIGGER moderation_audit_no_change BEFORE UPDATE OR DELETE ON moderation_audit
            FOR EACH ROW EXECUTE FUNCTION moderation_audit_refuse();
        CREATE TRIGGER moderation_audit_no_truncate BEFORE TRUNCATE ON moderation_audit
            FOR EACH STATEMENT EXECUTE FUNCTION moderation_audit_refuse();
        """;
}
