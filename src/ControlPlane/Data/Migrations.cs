namespace StreamVerse.ControlPlane.Data;

/// <summary>
/// Schema migrations as code. Each runs in its own transaction together with its row in <c>schema_versions</c>,
/// so a failure leaves the previous version intact. Two processes starting at once are serialised: PostgreSQL
/// by a transaction-scoped advisory lock taken before anything is read, SQLite by <c>BEGIN IMMEDIATE</c>; the
/// second one then finds the version recorded and skips it. Append only: never edit a released migration.
/// </summary>
internal static partial class Migrations
{
    private const long AdvisoryLockKey = 0x5374_7265_616D; // "Stream"

    internal static readonly (int Version, string Name, Func<Dialect, string> Sql)[] All =
    [
        (1, "accounts, sessions, channels, videos, categories, tags, stream keys", d => $"""
            CREATE TABLE users (
                id VARCHAR(32) PRIMARY KEY,
                email VARCHAR(320) NOT NULL UNIQUE,
                handle VARCHAR(32) NOT NULL UNIQUE,
                password_hash VARCHAR(256) NOT NULL,
                display_name VARCHAR(100) NOT NULL,
                bio VARCHAR(2000) NOT NULL DEFAULT '',
                avatar_key VARCHAR(200) NULL,
                role VARCHAR(16) NOT NULL DEFAULT 'user',
                premium BOOLEAN NOT NULL DEFAULT FALSE,
                created_at {d.Timestamp} NOT NULL,
                deleted_at {d.Timestamp} NULL
            );
            CREATE TABLE sessions (
                id VARCHAR(32) PRIMARY KEY,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at {d.Timestamp} NOT NULL,
                last_used_at {d.Timestamp} NOT NULL,
                expires_at {d.Timestamp} NOT NULL,
                revoked_at {d.Timestamp} NULL,
                user_agent VARCHAR(256) NULL,
                ip VARCHAR(64) NULL
            );
            CREATE INDEX ix_sessions_user ON sessions (user_id);
            CREATE INDEX ix_sessions_revoked ON sessions (revoked_at);
            CREATE TABLE refresh_tokens (
                hash VARCHAR(64) PRIMARY KEY,
                session_id VARCHAR(32) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                created_at {d.Timestamp} NOT NULL,
                used_at {d.Timestamp} NULL
            );
            CREATE INDEX ix_refresh_tokens_session ON refresh_tokens (session_id);
            CREATE TABLE categories (
                id {d.IdentityPrimaryKey},
                name VARCHAR(64) NOT NULL UNIQUE,
                description VARCHAR(500) NOT NULL DEFAULT ''
            );
            CREATE TABLE channels (
                id VARCHAR(32) PRIMARY KEY,
                owner_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name VARCHAR(100) NOT NULL,
                description VARCHAR(2000) NOT NULL DEFAULT '',
                created_at {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_channels_owner ON channels (owner_id);
            CREATE TABLE videos (
                id VARCHAR(32) PRIMARY KEY,
                channel_id VARCHAR(32) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                title VARCHAR(200) NOT NULL,
                description VARCHAR(5000) NOT NULL DEFAULT '',
                category_id BIGINT NULL REFERENCES categories(id) ON DELETE SET NULL,
                language VARCHAR(16) NULL,
                visibility VARCHAR(16) NOT NULL,
                status VARCHAR(16) NOT NULL,
                duration_seconds DOUBLE PRECISION NULL,
                thumbnail_url VARCHAR(500) NULL,
                view_count BIGINT NOT NULL DEFAULT 0,
                created_at {d.Timestamp} NOT NULL,
                updated_at {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_videos_channel ON videos (channel_id);
            CREATE INDEX ix_videos_created ON videos (created_at, id);
            CREATE INDEX ix_videos_views ON videos (view_count, id);
            CREATE INDEX ix_videos_title ON videos (title, id);
            CREATE TABLE tags (
                id {d.IdentityPrimaryKey},
                name VARCHAR(50) NOT NULL UNIQUE
            );
            CREATE TABLE video_tags (
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
                PRIMARY KEY (video_id, tag_id)
            );
            CREATE INDEX ix_video_tags_tag ON video_tags (tag_id);
            CREATE TABLE stream_keys (
                id VARCHAR(32) PRIMARY KEY,
                channel_id VARCHAR(32) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                prefix VARCHAR(16) NOT NULL,
                hash VARCHAR(64) NOT NULL UNIQUE,
                created_at {d.Timestamp} NOT NULL,
                revoked_at {d.Timestamp} NULL,
                live_video_id VARCHAR(32) NULL REFERENCES videos(id) ON DELETE SET NULL
            );
            CREATE INDEX ix_stream_keys_channel ON stream_keys (channel_id);
            """),
        (2, "VOD: uploads, jobs, a video's published presentation and processing state", d => $"""
            ALTER TABLE videos ADD COLUMN vod_prefix VARCHAR(300) NULL;
            ALTER TABLE videos ADD COLUMN processing_progress DOUBLE PRECISION NULL;
            ALTER TABLE videos ADD COLUMN failure_reason VARCHAR(2000) NULL;
            CREATE TABLE uploads (
                id VARCHAR(32) PRIMARY KEY,
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                owner_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                length BIGINT NULL,
                upload_offset BIGINT NOT NULL DEFAULT 0,
                metadata VARCHAR(4000) NOT NULL DEFAULT '',
                filename VARCHAR(255) NULL,
                created_at {d.Timestamp} NOT NULL,
                expires_at {d.Timestamp} NOT NULL,
                completed_at {d.Timestamp} NULL
            );
            CREATE INDEX ix_uploads_video ON uploads (video_id);
            CREATE INDEX ix_uploads_expires ON uploads (expires_at);
            CREATE TABLE jobs (
                id VARCHAR(32) PRIMARY KEY,
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                kind VARCHAR(16) NOT NULL,
                state VARCHAR(16) NOT NULL,
                source_path VARCHAR(1000) NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                progress DOUBLE PRECISION NOT NULL DEFAULT 0,
                error VARCHAR(2000) NULL,
                run_after {d.Timestamp} NOT NULL,
                lease_owner VARCHAR(64) NULL,
                lease_expires_at {d.Timestamp} NULL,
                created_at {d.Timestamp} NOT NULL,
                updated_at {d.Timestamp} NOT NULL,
                finished_at {d.Timestamp} NULL
            );
            CREATE INDEX ix_jobs_state ON jobs (state, run_after);
            CREATE INDEX ix_jobs_video ON jobs (video_id);
            """),
        (4, "jobs: attempt start, first playable publish, the presentation a job replaced", d => $"""
            ALTER TABLE jobs ADD COLUMN started_at {d.Timestamp} NULL;
            ALTER TABLE jobs ADD COLUMN playable_at {d.Timestamp} NULL;
            ALTER TABLE jobs ADD COLUMN replaced_prefix VARCHAR(300) NULL;
            """),
        (5, "VOD: replaced presentations kept for the viewers still playing them, deleted when due", d => $"""
            CREATE TABLE retired_presentations (
                prefix VARCHAR(300) PRIMARY KEY,
                video_id VARCHAR(32) NOT NULL,
                delete_after {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_retired_presentations_due ON retired_presentations (delete_after);
            """),
        (6, "deleted videos: ids refused at the origin while a node may still hold their live recording", d => $"""
            CREATE TABLE deleted_videos (
                id VARCHAR(32) PRIMARY KEY,
                deleted_at {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_deleted_videos_at ON deleted_videos (deleted_at);
            """),
        (7, "edge invalidations: videos whose cached objects edges must drop (made private, deleted)", d => $"""
            CREATE TABLE edge_invalidations (
                seq {d.IdentityPrimaryKey},
                video_id VARCHAR(64) NOT NULL,
                created_at {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_edge_invalidations_at ON edge_invalidations (created_at);
            """),
        (8, "playback revocations: playback tokens issued before not_before (unix ms) are void, per video or per viewer", d => """
            CREATE TABLE playback_revocations (
                kind VARCHAR(8) NOT NULL,
                subject_id VARCHAR(64) NOT NULL,
                not_before BIGINT NOT NULL,
                PRIMARY KEY (kind, subject_id)
            );
            CREATE INDEX ix_playback_revocations_at ON playback_revocations (not_before);
            """),
        (9, "outbox: domain events written with the change they describe, and the handlers that have run for each", d => $"""
            CREATE TABLE outbox (
                seq {d.IdentityPrimaryKey},
                event_id VARCHAR(32) NOT NULL UNIQUE,
                type VARCHAR(100) NOT NULL,
                subject_id VARCHAR(64) NOT NULL,
                payload TEXT NOT NULL,
                occurred_at {d.Timestamp} NOT NULL,
                run_after {d.Timestamp} NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                lease_owner VARCHAR(64) NULL,
                lease_expires_at {d.Timestamp} NULL,
                done_at {d.Timestamp} NULL,
                error VARCHAR(2000) NULL
            );
            CREATE INDEX ix_outbox_due ON outbox (done_at, run_after, seq);
            CREATE TABLE outbox_handled (
                event_id VARCHAR(32) NOT NULL REFERENCES outbox(event_id) ON DELETE CASCADE,
                handler VARCHAR(100) NOT NULL,
                handled_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (event_id, handler)
            );
            ALTER TABLE videos ADD COLUMN published_at {d.Timestamp} NULL;
            UPDATE videos SET published_at = updated_at
            WHERE visibility = 'public' AND (vod_prefix IS NOT NULL OR status IN ('ready', 'live', 'ended'));
            """),
        (10, "subscriptions: accounts following channels, with a bell level; the channel's subscriber count", d => $"""
            CREATE TABLE subscriptions (
                channel_id VARCHAR(32) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                bell VARCHAR(16) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (channel_id, user_id)
            );
            CREATE INDEX ix_subscriptions_channel ON subscriptions (channel_id, created_at, user_id);
            CREATE INDEX ix_subscriptions_user ON subscriptions (user_id, created_at, channel_id);
            ALTER TABLE channels ADD COLUMN subscriber_count BIGINT NOT NULL DEFAULT 0;
            """),
        (11, "reactions: one like or dislike per account and video; the video's counts and the creator's reaction settings", d => $"""
            CREATE TABLE video_reactions (
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind VARCHAR(8) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (video_id, user_id)
            );
            CREATE INDEX ix_video_reactions_user ON video_reactions (user_id);
            ALTER TABLE videos ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE videos ADD COLUMN dislike_count BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE videos ADD COLUMN reactions_enabled BOOLEAN NOT NULL DEFAULT TRUE;
            ALTER TABLE videos ADD COLUMN dislikes_hidden BOOLEAN NOT NULL DEFAULT FALSE;
            """),
        (12, "comments: threads, replies, upvotes, mentions; per-video comment policy (channel default), count and pin", d => $"""
            ALTER TABLE channels ADD COLUMN comment_policy VARCHAR(16) NOT NULL DEFAULT 'enabled';
            ALTER TABLE videos ADD COLUMN comment_policy VARCHAR(16) NOT NULL DEFAULT 'enabled';
            ALTER TABLE videos ADD COLUMN comment_count BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE videos ADD COLUMN pinned_comment_id VARCHAR(32) NULL;
            CREATE TABLE comments (
                id VARCHAR(32) PRIMARY KEY,
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                thread_id VARCHAR(32) NOT NULL,
                parent_id VARCHAR(32) NULL,
                author_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                text TEXT NOT NULL,
                status VARCHAR(16) NOT NULL,
                upvotes BIGINT NOT NULL DEFAULT 0,
                reply_count BIGINT NOT NULL DEFAULT 0,
                hearted BOOLEAN NOT NULL DEFAULT FALSE,
                created_at {d.Timestamp} NOT NULL,
                edited_at {d.Timestamp} NULL,
                deleted_at {d.Timestamp} NULL
            );
            CREATE INDEX ix_comments_newest ON comments (video_id, created_at, id);
            CREATE INDEX ix_comments_top ON comments (video_id, upvotes, created_at, id);
            CREATE INDEX ix_comments_thread ON comments (thread_id, created_at, id);
            CREATE INDEX ix_comments_parent ON comments (parent_id);
            CREATE INDEX ix_comments_author ON comments (author_id);
            CREATE TABLE comment_votes (
                comment_id VARCHAR(32) NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (comment_id, user_id)
            );
            CREATE INDEX ix_comment_votes_user ON comment_votes (user_id);
            CREATE TABLE comment_mentions (
                comment_id VARCHAR(32) NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                PRIMARY KEY (comment_id, user_id)
            );
            CREATE INDEX ix_comment_mentions_user ON comment_mentions (user_id);
            """),
        (13, "videos.audio_tracks: the current presentation's audio renditions (JSON [{language, name, default}])", d => """
            ALTER TABLE videos ADD COLUMN audio_tracks TEXT NULL;
            """),
        (14, "mail: e-mail verification, single-use account tokens (stored hashed), the durable mail queue, unsubscribes per kind", d => $"""
            ALTER TABLE users ADD COLUMN email_verified_at {d.Timestamp} NULL;
            CREATE TABLE account_tokens (
                hash VARCHAR(64) PRIMARY KEY,
                purpose VARCHAR(16) NOT NULL,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                email VARCHAR(320) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                expires_at {d.Timestamp} NOT NULL,
                used_at {d.Timestamp} NULL
            );
            CREATE INDEX ix_account_tokens_user ON account_tokens (user_id, purpose);
            CREATE INDEX ix_account_tokens_expires ON account_tokens (expires_at);
            CREATE TABLE mail_queue (
                id {d.IdentityPrimaryKey},
                template VARCHAR(40) NOT NULL,
                recipient VARCHAR(320) NOT NULL,
                payload TEXT NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                run_after {d.Timestamp} NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                lease_owner VARCHAR(64) NULL,
                lease_expires_at {d.Timestamp} NULL,
                sent_at {d.Timestamp} NULL,
                failed_at {d.Timestamp} NULL,
                error VARCHAR(2000) NULL
            );
            CREATE INDEX ix_mail_queue_due ON mail_queue (sent_at, failed_at, run_after);
            CREATE TABLE mail_unsubscribes (
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind VARCHAR(40) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (user_id, kind)
            );
            """),
        (15, "channel avatar and banner: blob keys of the re-encoded pictures", _ => """
            ALTER TABLE channels ADD COLUMN avatar_key VARCHAR(200) NULL;
            ALTER TABLE channels ADD COLUMN banner_key VARCHAR(200) NULL;
            """),
        (16, "video captions", d => $"""
            CREATE TABLE video_captions (
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                language VARCHAR(35) NOT NULL,
                label VARCHAR(100) NOT NULL,
                source VARCHAR(16) NOT NULL,
                blob_key VARCHAR(300) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                updated_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (video_id, language)
            );
            """),
        (17, "custom video thumbnails: the blob key of the owner's chosen picture (vod/{id}/custom/thumbnail-{version}.jpg)", _ => """
            ALTER TABLE videos ADD COLUMN custom_thumbnail_key VARCHAR(200) NULL;
            """),
        (18, "scheduled publishing: when a private or unlisted video becomes public", d => $"""
            ALTER TABLE videos ADD COLUMN publish_at {d.Timestamp} NULL;
            CREATE INDEX ix_videos_publish_at ON videos (publish_at);
            """),
        (19, "private test broadcasts: a stream key whose broadcasts start private", _ => """
            ALTER TABLE stream_keys ADD COLUMN private_test BOOLEAN NOT NULL DEFAULT FALSE;
            """),
        (20, "discovery: the search index (kept by triggers), watch history, watch later, playlists", Discovery.DiscoverySchema.Sql),
        (21, "notifications: in-app rows (one per account and source event), per-kind settings, subscriber fan-out tasks with a durable cursor, Web Push devices and deliveries", d => $"""
            CREATE TABLE notifications (
                id {d.IdentityPrimaryKey},
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                source VARCHAR(32) NOT NULL,
                kind VARCHAR(40) NOT NULL,
                channels INTEGER NOT NULL,
                actor_id VARCHAR(32) NULL,
                channel_id VARCHAR(32) NULL,
                video_id VARCHAR(32) NULL,
                comment_id VARCHAR(32) NULL,
                title VARCHAR(300) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                read_at {d.Timestamp} NULL,
                mail_state VARCHAR(8) NULL,
                CONSTRAINT ux_notifications_source_user UNIQUE (source, user_id)
            );
            CREATE INDEX ix_notifications_user ON notifications (user_id, id);
            CREATE INDEX ix_notifications_mail ON notifications (mail_state, user_id, kind);
            CREATE TABLE notification_settings (
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind VARCHAR(40) NOT NULL,
                channels INTEGER NOT NULL,
                PRIMARY KEY (user_id, kind)
            );
            CREATE TABLE notification_fanouts (
                source VARCHAR(32) PRIMARY KEY,
                kind VARCHAR(40) NOT NULL,
                channel_id VARCHAR(32) NOT NULL,
                video_id VARCHAR(32) NOT NULL,
                actor_id VARCHAR(32) NULL,
                title VARCHAR(300) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                after_user VARCHAR(32) NOT NULL DEFAULT '',
                lease_owner VARCHAR(64) NULL,
                lease_expires_at {d.Timestamp} NULL,
                done_at {d.Timestamp} NULL
            );
            CREATE INDEX ix_notification_fanouts_due ON notification_fanouts (done_at, created_at);
            CREATE TABLE push_subscriptions (
                id VARCHAR(32) PRIMARY KEY,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                endpoint VARCHAR(2048) NOT NULL UNIQUE,
                p256dh VARCHAR(100) NOT NULL,
                auth VARCHAR(40) NOT NULL,
                created_at {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_push_subscriptions_user ON push_subscriptions (user_id);
            CREATE TABLE push_deliveries (
                id {d.IdentityPrimaryKey},
                subscription_id VARCHAR(32) NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
                notification_id BIGINT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
                run_after {d.Timestamp} NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                lease_owner VARCHAR(64) NULL,
                lease_expires_at {d.Timestamp} NULL,
                error VARCHAR(2000) NULL
            );
            CREATE INDEX ix_push_deliveries_due ON push_deliveries (run_after);
            CREATE INDEX ix_push_deliveries_subscription ON push_deliveries (subscription_id);
            """),
        (22, "live chat: messages with the broadcast's media time, per-channel chat settings, moderators and bans/time-outs", d => $"""
            CREATE TABLE chat_messages (
                id VARCHAR(32) PRIMARY KEY,
                video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                author_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                text VARCHAR(2000) NOT NULL,
                media_ms BIGINT NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                deleted_at {d.Timestamp} NULL,
                deleted_by VARCHAR(32) NULL
            );
            CREATE INDEX ix_chat_messages_media ON chat_messages (video_id, media_ms, id);
            CREATE INDEX ix_chat_messages_recent ON chat_messages (video_id, created_at, id);
            CREATE INDEX ix_chat_messages_author ON chat_messages (video_id, author_id, created_at);
            CREATE TABLE chat_settings (
                channel_id VARCHAR(32) PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
                slow_mode_seconds INTEGER NOT NULL DEFAULT 0,
                subscribers_only BOOLEAN NOT NULL DEFAULT FALSE,
                blocked_words VARCHAR(60000) NOT NULL DEFAULT '',
                updated_at {d.Timestamp} NOT NULL
            );
            CREATE TABLE chat_moderators (
                channel_id VARCHAR(32) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (channel_id, user_id)
            );
            CREATE TABLE chat_restrictions (
                channel_id VARCHAR(32) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                until_at {d.Timestamp} NULL,
                created_by VARCHAR(32) NOT NULL,
                created_at {d.Timestamp} NOT NULL,
                PRIMARY KEY (channel_id, user_id)
            );
            """),
        (23, "trust and safety: reports merged into cases, messages, actions, appeals, the append-only audit log, account standing, blocks",
            Moderation.ModerationSchema.Sql),
        (24, "trust and safety, prevention: instance word list, held comments' reasons, the limited account state",
            Moderation.ModerationSchema.PreventionSql),
        (25, "upload quotas: bytes each account started uploading, by time", d => $"""
            CREATE TABLE upload_usage (
                id VARCHAR(32) PRIMARY KEY,
                owner_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                bytes BIGINT NOT NULL,
                created_at {d.Timestamp} NOT NULL
            );
            CREATE INDEX ix_upload_usage_owner ON upload_usage (owner_id, created_at);
            """),
        (26, "ads: advertisers, campaigns with targeting and pacing counts, creatives, impressions, tracking events (once per impression and event), cue points",
            Ads.AdSchema.Sql),
        (27, "premieres: the instant of a video's scheduled first showing (kept after it, for the synchronised start and the chat's media time)", d => $"""
            ALTER TABLE videos ADD COLUMN premiere_at {d.Timestamp} NULL;
            """),
        (28, "payments: Stripe customers, prices, the webhook event queue, subscriptions, payments, membership tiers, the double-entry ledger",
            Payments.PaymentSchema.Sql),
        (29, "analytics: the account salt of the viewer keys (one row, shared by every daemon; the events themselves live in the analytics store)", _ => """
            CREATE TABLE analytics_secrets (
                name VARCHAR(32) NOT NULL PRIMARY KEY,
                secret VARCHAR(100) NOT NULL
            );
            """),
    ];

    /// <summary>Applies every migration not yet recorded; returns how many this call applied.</summary>
    public static async Task<int> ApplyAsync(Database database, ILogger logger, CancellationToken cancellationToken)
    {
        var applied = 0;
        foreach (var (version, name, sql) in All)
        {
            await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await db.BeginAsync(cancellationToken).ConfigureAwait(false);
            if (database.Provider == DatabaseProvider.Postgres)
            {
                await db.ExecAsync("SELECT pg_advisory_xact_lock(@k)", [("k", AdvisoryLockKey)], cancellationToken).ConfigureAwait(false);
            }

            await db.ExecAsync($"CREATE TABLE IF NOT EXISTS schema_versions (version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at {db.Dialect.Timestamp} NOT NULL)", [], cancellationToken).ConfigureAwait(false);
            var present = await db.ScalarAsync<long?>("SELECT version FROM schema_versions WHERE version = @v", [("v", version)], cancellationToken).ConfigureAwait(false);
            if (present is not null)
            {
                await db.CommitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await db.ExecAsync(sql(db.Dialect), [], cancellationToken).ConfigureAwait(false);
            await db.ExecAsync("INSERT INTO schema_versions (version, name, applied_at) VALUES (@v, @n, @t)", [("v", version), ("n", name), ("t", DateTimeOffset.UtcNow)], cancellationToken).ConfigureAwait(false);
            await db.CommitAsync(cancellationToken).ConfigureAwait(false);
            Log.Applied(logger, version, name);
            applied++;
        }

        return applied;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Control-plane schema migration {Version} applied: {Name}")]
        public static partial void Applied(ILogger logger, int version, string name);
    }
}
