using System.Data.Common;
using System.Globalization;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>The content video as the decision sees it: what targeting matches against, and whose revenue an impression is.</summary>
internal sealed record AdVideo(string Id, string OwnerId, long? CategoryId, string Language, string Kind, double? DurationSeconds);

/// <summary>The chosen campaign and creative of one ad request.</summary>
internal sealed record AdChoice(string CampaignId, string AdvertiserId, string AdvertiserName, string CampaignName, string Currency, long CpmMinor,
    string CreativeId, string CreativeVideoId, double DurationSeconds, string ClickThrough, int? SkipOffsetSeconds, int Width, int Height);

/// <summary>What a tracking beacon did: counted now, or already counted before (a replay or a retry).</summary>
internal enum TrackOutcome
{
    Counted,
    Duplicate,
}

/// <summary>
/// All SQL of ads. Invariants:
/// <list type="bullet">
/// <item>A campaign's spend is <c>impressions * cpm_minor</c> thousandths of a minor unit, exact; <c>impressions</c> only grows
/// by a conditional UPDATE whose WHERE keeps <c>impressions * cpm_minor &lt;= budget_minor * 1000</c>: the budget is a hard
/// limit even with impressions in flight (one past it is recorded as not billable).</item>
/// <item>A tracking event counts once per (impression id, event): the key of <c>ad_tracking_events</c> decides, not a read.</item>
/// <item>The impression's row, its charge, its day's pacing count and its <see cref="AdImpressionRecorded"/> event are one commit.</item>
/// <item>The decision is one statement: eligibility (status, flight, budget, daily pacing, frequency cap, targeting), then the
/// highest CPM, ties going to the campaign created first (then the lower id); within a campaign the first creative added whose
/// video is transcoded and public or unlisted.</item>
/// </list>
/// </summary>
internal sealed class AdStore(Database database, Outbox outbox, TimeProvider time)
{
    private const string AdvertiserColumns = "id, name, account_id, created_at";

    private static AdvertiserResponse ReadAdvertiser(DbDataReader r, Dialect d) =>
        new(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), d.ReadTimestamp(r, 3));

    private const string InsertAdvertiser =
        """
        INSERT INTO ad_advertisers (id, name, account_id, created_at)
        SELECT @id, @n, u.id, @t FROM users u WHERE u.id = @a AND u.deleted_at IS NULL
        UNION ALL SELECT @id, @n, NULL, @t WHERE @a = ''
        """;

    /// <summary>The new advertiser, or null when <paramref name="accountId"/> names no account.</summary>
    public async Task<AdvertiserResponse?> CreateAdvertiserAsync(string name, string? accountId, CancellationToken cancellationToken)
    {
        var row = new AdvertiserResponse(Ids.New(), name, accountId, time.GetUtcNow());
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var n = await db.ExecAsync(InsertAdvertiser, [("id", row.Id), ("n", name), ("a", accountId ?? ""), ("t", row.CreatedAt)], cancellationToken)
            .ConfigureAwait(false);
        return n == 1 ? row : null;
    }

    private const string ListAdvertisersSql =
        $"""
        SELECT {AdvertiserColumns} FROM ad_advertisers
        WHERE created_at < @ck OR (created_at = @ck AND id < @cid)
        ORDER BY created_at DESC, id DESC LIMIT @take
        """;

    public const string AdvertiserSort = "advertisers";

    public async Task<Page<AdvertiserResponse>> ListAdvertisersAsync((DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(ListAdvertisersSql, [("ck", after.At), ("cid", after.Id), ("take", take + 1)], ReadAdvertiser, cancellationToken)
            .ConfigureAwait(false);
        return Paging.Cut(rows, take, AdvertiserSort, a => (Paging.Key(a.CreatedAt), a.Id), a => a);
    }

    private const string CampaignColumns =
        """
        c.id, c.advertiser_id, c.name, c.status, c.currency, c.budget_minor, c.cpm_minor, c.daily_budget_minor, c.frequency_cap,
        c.frequency_window_seconds, c.starts_at, c.ends_at, c.target_category_id, c.target_tags, c.target_kind, c.target_device,
        c.target_language, c.impressions, c.created_at
        """;

    private static CampaignResponse ReadCampaign(DbDataReader r, Dialect d)
    {
        var tags = r.GetString(13);
        var impressions = r.GetInt64(17);
        var cpm = r.GetInt64(6);
        return new CampaignResponse(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), cpm,
            r.IsDBNull(7) ? null : r.GetInt64(7), r.IsDBNull(8) ? null : r.GetInt32(8), r.GetInt32(9), d.ReadTimestamp(r, 10), d.ReadTimestamp(r, 11),
            new AdTargeting(r.IsDBNull(12) ? null : r.GetInt64(12), tags.Length == 0 ? null : tags.Split(','), r.IsDBNull(14) ? null : r.GetString(14),
                r.IsDBNull(15) ? null : r.GetString(15), r.IsDBNull(16) ? null : r.GetString(16)),
            impressions, impressions * cpm, null, d.ReadTimestamp(r, 18));
    }

    private const string InsertCampaign =
        """
        INSERT INTO ad_campaigns (id, advertiser_id, name, status, currency, budget_minor, cpm_minor, daily_budget_minor, frequency_cap,
            frequency_window_seconds, starts_at, ends_at, target_category_id, target_tags, target_kind, target_device, target_language, impressions, created_at)
        VALUES (@id, @adv, @n, 'active', @cur, @b, @cpm, @daily, @cap, @win, @s, @e, @cat, @tags, @kind, @dev, @lang, 0, @t)
        """;

    private const string InsertCampaignTags =
        """
        INSERT INTO ad_campaign_tags (campaign_id, tag) SELECT @id, value FROM json_each(@tags)
        """;

    /// <summary>The new campaign (active), or null when its advertiser does not exist.</summary>
    public async Task<CampaignResponse?> CreateCampaignAsync(CreateCampaignRequest r, CancellationToken cancellationToken)
    {
        var id = Ids.New();
        var t = r.Targeting ?? new AdTargeting(null, null, null, null, null);
        string[] tags = [.. (t.Tags ?? []).Select(Videos.TagRules.Normalise).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ScalarAsync<long?>("SELECT 1 FROM ad_advertisers WHERE id = @a", [("a", r.AdvertiserId!.Trim())], cancellationToken).ConfigureAwait(false) != 1)
        {
            return null;
        }

        await db.ExecAsync(InsertCampaign,
            [("id", id), ("adv", r.AdvertiserId!.Trim()), ("n", r.Name!.Trim()), ("cur", r.Currency), ("b", r.BudgetMinor), ("cpm", r.CpmMinor),
             ("daily", (object?)r.DailyBudgetMinor ?? DBNull.Value), ("cap", (object?)r.FrequencyCap ?? DBNull.Value), ("win", r.FrequencyWindowSeconds ?? 86_400),
             ("s", r.StartsAt), ("e", r.EndsAt), ("cat", (object?)t.CategoryId ?? DBNull.Value), ("tags", string.Join(',', tags)),
             ("kind", (object?)t.Kind ?? DBNull.Value), ("dev", (object?)t.Device ?? DBNull.Value), ("lang", (object?)t.Language?.Trim() ?? DBNull.Value),
             ("t", time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
        if (tags.Length > 0)
        {
            var sql = db.Dialect == Dialect.Postgres
                ? "INSERT INTO ad_campaign_tags (campaign_id, tag) SELECT @id, unnest(@tags)"
                : InsertCampaignTags;
            await db.ExecAsync(sql, [("id", id), ("tags", db.Dialect.ListValue(tags))], cancellationToken).ConfigureAwait(false);
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await FindCampaignAsync(id, cancellationToken).ConfigureAwait(false);
    }

    private const string FindCampaignSql = $"SELECT {CampaignColumns} FROM ad_campaigns c WHERE c.id = @id";

    private const string CampaignEventsSql =
        """
        SELECT e.event, COUNT(*) FROM ad_tracking_events e JOIN ad_creatives cr ON cr.id = e.creative_id
        WHERE cr.campaign_id = @id GROUP BY e.event
        """;

    /// <summary>The campaign with its counted tracking events, or null.</summary>
    public async Task<CampaignResponse?> FindCampaignAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.SingleAsync(FindCampaignSql, [("id", id)], ReadCampaign, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var events = await db.QueryAsync(CampaignEventsSql, [("id", id)], (r, _) => (r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        return row with { Events = events.ToDictionary(e => e.Item1, e => e.Item2, StringComparer.Ordinal) };
    }

    private const string ListCampaignsSql =
        $"""
        SELECT {CampaignColumns} FROM ad_campaigns c
        WHERE (@adv = '' OR c.advertiser_id = @adv) AND (c.created_at < @ck OR (c.created_at = @ck AND c.id < @cid))
        ORDER BY c.created_at DESC, c.id DESC LIMIT @take
        """;

    public const string CampaignSort = "campaigns";

    public async Task<Page<CampaignResponse>> ListCampaignsAsync(string? advertiserId, (DateTimeOffset At, string Id) after, int take, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.QueryAsync(ListCampaignsSql, [("adv", advertiserId ?? ""), ("ck", after.At), ("cid", after.Id), ("take", take + 1)], ReadCampaign,
            cancellationToken).ConfigureAwait(false);
        return Paging.Cut(rows, take, CampaignSort, c => (Paging.Key(c.CreatedAt), c.Id), c => c);
    }

    /// <summary>Pauses or resumes; false when there is no such campaign.</summary>
    public async Task<bool> SetStatusAsync(string id, string status, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.ExecAsync("UPDATE ad_campaigns SET status = @s WHERE id = @id", [("s", status), ("id", id)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>Why a creative's video was refused (the field error), or null when the creative was added.</summary>
    internal enum CreativeRefusal
    {
        None,
        NoCampaign,
        NoVideo,
        NotAdvertisersVideo,
        NotServable,
    }

    private const string CreativeVideoSql =
        """
        SELECT ch.owner_id, CASE WHEN v.vod_prefix IS NOT NULL AND v.duration_seconds IS NOT NULL AND v.visibility IN ('public', 'unlisted') THEN 1 ELSE 0 END,
               (SELECT COALESCE(a.account_id, '') FROM ad_campaigns c JOIN ad_advertisers a ON a.id = c.advertiser_id WHERE c.id = @c)
        FROM videos v JOIN channels ch ON ch.id = v.channel_id WHERE v.id = @v
        """;

    private const string InsertCreative =
        """
        INSERT INTO ad_creatives (id, campaign_id, video_id, click_through, skip_offset_seconds, width, height, created_at)
        VALUES (@id, @c, @v, @click, @skip, @w, @h, @t)
        """;

    /// <summary>
    /// Adds a creative whose video is the advertiser account's (or, for an advertiser without an account, the calling admin's),
    /// transcoded (its presentation and duration exist) and public or unlisted, so the origin serves it to anyone.
    /// </summary>
    public async Task<(CreativeResponse? Creative, CreativeRefusal Refusal)> CreateCreativeAsync(string campaignId, CreateCreativeRequest r, string callerId,
        CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var campaignExists = await db.ScalarAsync<long?>("SELECT 1 FROM ad_campaigns WHERE id = @c", [("c", campaignId)], cancellationToken).ConfigureAwait(false) == 1;
        if (!campaignExists)
        {
            return (null, CreativeRefusal.NoCampaign);
        }

        var video = await db.SingleAsync(CreativeVideoSql, [("v", r.VideoId!.Trim()), ("c", campaignId)],
            (x, _) => new { Owner = x.GetString(0), Servable = Convert.ToInt64(x.GetValue(1), CultureInfo.InvariantCulture) == 1, Account = x.GetString(2) },
            cancellationToken).ConfigureAwait(false);
        if (video is null)
        {
            return (null, CreativeRefusal.NoVideo);
        }

        if (!string.Equals(video.Owner, video.Account.Length > 0 ? video.Account : callerId, StringComparison.Ordinal))
        {
            return (null, CreativeRefusal.NotAdvertisersVideo);
        }

        if (!video.Servable)
        {
            return (null, CreativeRefusal.NotServable);
        }

        var creative = new CreativeResponse(Ids.New(), campaignId, r.VideoId.Trim(), r.ClickThrough!, r.SkipOffsetSeconds, r.Width ?? 1280, r.Height ?? 720,
            time.GetUtcNow());
        await db.ExecAsync(InsertCreative,
            [("id", creative.Id), ("c", campaignId), ("v", creative.VideoId), ("click", creative.ClickThrough), ("skip", (object?)creative.SkipOffsetSeconds ?? DBNull.Value),
             ("w", creative.Width), ("h", creative.Height), ("t", creative.CreatedAt)], cancellationToken).ConfigureAwait(false);
        return (creative, CreativeRefusal.None);
    }

    private const string UpsertCuePoints =
        """
        INSERT INTO ad_cue_points (video_id, offsets_ms, updated_at) VALUES (@v, @o, @t)
        ON CONFLICT (video_id) DO UPDATE SET offsets_ms = excluded.offsets_ms, updated_at = excluded.updated_at
        """;

    public async Task SetCuePointsAsync(string videoId, long[] offsetsMs, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.ExecAsync(UpsertCuePoints,
            [("v", videoId), ("o", string.Join(',', offsetsMs.Select(o => o.ToString(CultureInfo.InvariantCulture)))), ("t", time.GetUtcNow())], cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The owner's cue points, in milliseconds, ascending; empty when none are set.</summary>
    public async Task<long[]> CuePointsAsync(string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var text = await db.ScalarAsync<string>("SELECT offsets_ms FROM ad_cue_points WHERE video_id = @v", [("v", videoId)], cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(text) ? [] : [.. text.Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture))];
    }

    private const string VideoSql =
        """
        SELECT v.id, ch.owner_id, v.category_id, COALESCE(v.language, ''), CASE WHEN v.status = 'live' THEN 'live' ELSE 'vod' END, v.duration_seconds
        FROM videos v JOIN channels ch ON ch.id = v.channel_id WHERE v.id = @id
        """;

    public async Task<AdVideo?> VideoAsync(string videoId, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(VideoSql, [("id", videoId)], (r, _) => new AdVideo(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetInt64(2),
            r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetDouble(5)), cancellationToken).ConfigureAwait(false);
    }

    private const string DecideSql =
        """
        SELECT c.id, c.advertiser_id, a.name, c.name, c.currency, c.cpm_minor, cr.id, cr.video_id, cv.duration_seconds, cr.click_through,
               cr.skip_offset_seconds, cr.width, cr.height
        FROM ad_campaigns c
        JOIN ad_advertisers a ON a.id = c.advertiser_id
        JOIN ad_creatives cr ON cr.id = (
            SELECT x.id FROM ad_creatives x JOIN videos xv ON xv.id = x.video_id
            WHERE x.campaign_id = c.id AND xv.vod_prefix IS NOT NULL AND xv.duration_seconds IS NOT NULL AND xv.visibility IN ('public', 'unlisted')
            ORDER BY x.created_at, x.id LIMIT 1)
        JOIN videos cv ON cv.id = cr.video_id
        WHERE c.status = 'active' AND c.starts_at <= @now AND c.ends_at > @now
          AND (c.impressions + 1) * c.cpm_minor <= c.budget_minor * 1000
          AND (c.daily_budget_minor IS NULL
               OR (COALESCE((SELECT d.impressions FROM ad_campaign_days d WHERE d.campaign_id = c.id AND d.day = @day), 0) + 1) * c.cpm_minor <= c.daily_budget_minor * 1000)
          AND (c.frequency_cap IS NULL
               OR (@viewer <> '' AND (SELECT COUNT(*) FROM ad_impressions i
                                      WHERE i.campaign_id = c.id AND i.viewer = @viewer AND i.occurred_s > @nows - c.frequency_window_seconds) < c.frequency_cap))
          AND (c.target_category_id IS NULL OR c.target_category_id = @category)
          AND (c.target_kind IS NULL OR c.target_kind = @kind)
          AND (c.target_device IS NULL OR c.target_device = @device)
          AND (c.target_language IS NULL OR c.target_language = @language)
          AND (c.target_tags = '' OR EXISTS (
               SELECT 1 FROM ad_campaign_tags t JOIN tags tg ON tg.name = t.tag JOIN video_tags vt ON vt.tag_id = tg.id
               WHERE t.campaign_id = c.id AND vt.video_id = @video))
        ORDER BY c.cpm_minor DESC, c.created_at ASC, c.id ASC
        LIMIT 1
        """;

    /// <summary>
    /// The ad for <paramref name="video"/> and <paramref name="viewer"/> (the keyed viewer hash; "" = unknown, which no
    /// frequency-capped campaign serves, since its cap could not be kept), or null when no campaign is eligible.
    /// </summary>
    public async Task<AdChoice?> DecideAsync(AdVideo video, string viewer, string device, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await db.SingleAsync(DecideSql,
            [("now", now), ("day", Day(now)), ("viewer", viewer), ("nows", now.ToUnixTimeSeconds()), ("category", video.CategoryId ?? -1L), ("kind", video.Kind),
             ("device", device), ("language", video.Language), ("video", video.Id)],
            (r, _) => new AdChoice(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetString(6), r.GetString(7),
                r.GetDouble(8), r.GetString(9), r.IsDBNull(10) ? null : r.GetInt32(10), r.GetInt32(11), r.GetInt32(12)),
            cancellationToken).ConfigureAwait(false);
    }

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private const string InsertEvent =
        """
        INSERT INTO ad_tracking_events (impression_id, event, creative_id, error_code, occurred_at) VALUES (@i, @e, @cr, @code, @t)
        ON CONFLICT (impression_id, event) DO NOTHING
        """;

    private const string ImpressionCampaignSql =
        """
        SELECT c.id, c.advertiser_id, c.currency, c.cpm_minor,
               COALESCE((SELECT ch.owner_id FROM videos v JOIN channels ch ON ch.id = v.channel_id WHERE v.id = @v), '')
        FROM ad_creatives cr JOIN ad_campaigns c ON c.id = cr.campaign_id WHERE cr.id = @cr
        """;

    private const string ChargeSql =
        "UPDATE ad_campaigns SET impressions = impressions + 1 WHERE id = @c AND (impressions + 1) * cpm_minor <= budget_minor * 1000";

    private const string CountDaySql =
        """
        INSERT INTO ad_campaign_days (campaign_id, day, impressions) VALUES (@c, @day, 1)
        ON CONFLICT (campaign_id, day) DO UPDATE SET impressions = ad_campaign_days.impressions + 1
        """;

    private const string InsertImpression =
        """
        INSERT INTO ad_impressions (impression_id, campaign_id, creative_id, video_id, viewer, billable, occurred_s, occurred_at)
        VALUES (@i, @c, @cr, @v, @viewer, @billable, @s, @t)
        """;

    /// <summary>
    /// Counts a verified beacon once per (impression, event). The impression event also records the impression for frequency
    /// capping, charges the campaign within its budget, counts the day for pacing and emits <see cref="AdImpressionRecorded"/>.
    /// </summary>
    public async Task<TrackOutcome> TrackAsync(string impression, string creative, string video, string viewer, string @event, int? errorCode,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ExecAsync(InsertEvent, [("i", impression), ("e", @event), ("cr", creative), ("code", (object?)errorCode ?? DBNull.Value), ("t", now)],
                cancellationToken).ConfigureAwait(false) == 0)
        {
            return TrackOutcome.Duplicate;
        }

        if (@event == AdEvent.Impression)
        {
            var c = await db.SingleAsync(ImpressionCampaignSql, [("cr", creative), ("v", video)],
                (r, _) => new { Id = r.GetString(0), Advertiser = r.GetString(1), Currency = r.GetString(2), Cpm = r.GetInt64(3), Owner = r.GetString(4) },
                cancellationToken).ConfigureAwait(false);
            if (c is not null)
            {
                var billable = await db.ExecAsync(ChargeSql, [("c", c.Id)], cancellationToken).ConfigureAwait(false) == 1;
                if (billable)
                {
                    await db.ExecAsync(CountDaySql, [("c", c.Id), ("day", Day(now))], cancellationToken).ConfigureAwait(false);
                }

                await db.ExecAsync(InsertImpression,
                    [("i", impression), ("c", c.Id), ("cr", creative), ("v", video), ("viewer", viewer), ("billable", billable), ("s", now.ToUnixTimeSeconds()), ("t", now)],
                    cancellationToken).ConfigureAwait(false);
                await outbox.AddAsync(db, new AdImpressionRecorded(impression, c.Id, c.Advertiser, creative, video, c.Owner, c.Currency, c.Cpm,
                    billable ? c.Cpm : 0, billable, now), cancellationToken).ConfigureAwait(false);
            }
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TrackOutcome.Counted;
    }
}
