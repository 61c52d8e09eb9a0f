using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>
/// The schema of ads (one self-contained migration). Money is integer minor units; spend is never stored as a rounded
/// amount but derived exactly from counted impressions (<c>impressions * cpm_minor</c> thousandths of a minor unit), so
/// it cannot drift. <c>ad_tracking_events</c> has (impression id, event) as its key: a beacon counts once however often
/// it is sent. <c>ad_impressions.viewer</c> is a keyed hash of the account id or the anonymous tab id, never an address.
/// </summary>
internal static class AdSchema
{
    public static string Sql(Dialect d) => $"""
        CREATE TABLE ad_advertisers (
            id VARCHAR(32) PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            account_id VARCHAR(32) NULL REFERENCES users(id) ON DELETE SET NULL,
            created_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_ad_advertisers_created ON ad_advertisers (created_at, id);
        CREATE TABLE ad_campaigns (
            id VARCHAR(32) PRIMARY KEY,
            advertiser_id VARCHAR(32) NOT NULL REFERENCES ad_advertisers(id) ON DELETE CASCADE,
            name VARCHAR(200) NOT NULL,
            status VARCHAR(16) NOT NULL,
            currency VARCHAR(3) NOT NULL,
            budget_minor BIGINT NOT NULL,
            cpm_minor BIGINT NOT NULL,
            daily_budget_minor BIGINT NULL,
            frequency_cap INTEGER NULL,
            frequency_window_seconds INTEGER NOT NULL,
            starts_at {d.Timestamp} NOT NULL,
            ends_at {d.Timestamp} NOT NULL,
            target_category_id BIGINT NULL,
            target_kind VARCHAR(8) NULL,
            target_device VARCHAR(16) NULL,
            target_language VARCHAR(16) NULL,
            target_tags VARCHAR(2000) NOT NULL DEFAULT '',
            impressions BIGINT NOT NULL DEFAULT 0,
            created_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_ad_campaigns_created ON ad_campaigns (created_at, id);
        CREATE INDEX ix_ad_campaigns_serving ON ad_campaigns (status, cpm_minor, id);
        CREATE TABLE ad_campaign_tags (
            campaign_id VARCHAR(32) NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
            tag VARCHAR(50) NOT NULL,
            PRIMARY KEY (campaign_id, tag)
        );
        CREATE TABLE ad_campaign_days (
            campaign_id VARCHAR(32) NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
            day VARCHAR(10) NOT NULL,
            impressions BIGINT NOT NULL,
            PRIMARY KEY (campaign_id, day)
        );
        CREATE TABLE ad_creatives (
            id VARCHAR(32) PRIMARY KEY,
            campaign_id VARCHAR(32) NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
            video_id VARCHAR(32) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            click_through VARCHAR(2000) NOT NULL,
            skip_offset_seconds INTEGER NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            created_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_ad_creatives_campaign ON ad_creatives (campaign_id, id);
        CREATE TABLE ad_impressions (
            impression_id VARCHAR(32) PRIMARY KEY,
            campaign_id VARCHAR(32) NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
            creative_id VARCHAR(32) NOT NULL,
            video_id VARCHAR(32) NOT NULL,
            viewer VARCHAR(64) NOT NULL,
            billable BOOLEAN NOT NULL,
            occurred_s BIGINT NOT NULL,
            occurred_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_ad_impressions_viewer ON ad_impressions (campaign_id, viewer, occurred_s);
        CREATE TABLE ad_tracking_events (
            impression_id VARCHAR(32) NOT NULL,
            event VARCHAR(16) NOT NULL,
            creative_id VARCHAR(32) NOT NULL,
            error_code INTEGER NULL,
            occurred_at {d.Timestamp} NOT NULL,
            PRIMARY KEY (impression_id, event)
        );
        CREATE INDEX ix_ad_tracking_events_creative ON ad_tracking_events (creative_id, event);
        CREATE TABLE ad_cue_points (
            video_id VARCHAR(32) PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
            offsets_ms VARCHAR(4000) NOT NULL,
            updated_at {d.Timestamp} NOT NULL
        );
        """;
}
