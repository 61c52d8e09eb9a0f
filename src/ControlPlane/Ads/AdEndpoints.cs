using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>
/// <c>/api/v1/ads</c>: admins manage advertisers, campaigns and creatives; players ask for VAST (one ad per request), VMAP
/// (the break schedule) or an HLS interstitial asset list, and send the signed tracking beacons; a video's owner sets its
/// mid-roll cue points at <c>/videos/{id}/ad-cue-points</c>. Every ad request loads the content video for its caller first
/// (<see cref="VideoAccess.LoadAsync"/>: who may not watch it gets 404), then asks <see cref="IAdExemptions"/> (a premium
/// account gets an empty answer), then decides.
/// </summary>
internal static partial class AdEndpoints
{
    private const string Xml = "application/xml";

    public static IEndpointRouteBuilder MapAds(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/ads").WithTags("Ads");
        group.MapPost("/advertisers", CreateAdvertiserAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(BodyLimit.Account)
            .Produces<AdvertiserResponse>(StatusCodes.Status201Created).ProducesValidationProblem();
        group.MapGet("/advertisers", ListAdvertisersAsync).RequireAuthorization(Policies.Admin)
            .Produces<Page<AdvertiserResponse>>().ProducesValidationProblem();
        group.MapPost("/campaigns", CreateCampaignAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(BodyLimit.Account)
            .Produces<CampaignResponse>(StatusCodes.Status201Created).ProducesValidationProblem();
        group.MapGet("/campaigns", ListCampaignsAsync).RequireAuthorization(Policies.Admin)
            .Produces<Page<CampaignResponse>>().ProducesValidationProblem();
        group.MapGet("/campaigns/{id}", GetCampaignAsync).RequireAuthorization(Policies.Admin)
            .Produces<CampaignResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/campaigns/{id}/status", SetStatusAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(BodyLimit.Account)
            .Produces<CampaignResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/campaigns/{id}/creatives", CreateCreativeAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(BodyLimit.Account)
            .Produces<CreativeResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/vast", VastAsync).AllowAnonymous()
            .Produces(StatusCodes.Status200OK, contentType: Xml).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/vmap", VmapAsync).AllowAnonymous()
            .Produces(StatusCodes.Status200OK, contentType: Xml).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/asset-list", AssetListAsync).AllowAnonymous()
            .Produces<AssetListResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/track", TrackAsync).AllowAnonymous()
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPut("/videos/{id}/ad-cue-points", SetCuePointsAsync).WithTags("Ads").RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account)
            .Produces<CuePointsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<IResult> CreateAdvertiserAsync(CreateAdvertiserRequest request, AdStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var name = v.Text("name", request.Name, 1, 200);
        var account = v.OptionalText("accountId", request.AccountId, 32);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var advertiser = await store.CreateAdvertiserAsync(name, string.IsNullOrEmpty(account) ? null : account, cancellationToken).ConfigureAwait(false);
        if (advertiser is null)
        {
            return v.Add("accountId", "is not an account").Result();
        }

        Log.AdvertiserCreated(loggers.CreateLogger(typeof(AdEndpoints)), advertiser.Id);
        return TypedResults.Created($"{ControlPlaneExtensions.ApiPrefix}/ads/advertisers/{advertiser.Id}", advertiser);
    }

    private static async Task<IResult> ListAdvertisersAsync(string? cursor, int? limit, AdStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, AdStore.AdvertiserSort, v);
        return v.IsValid ? TypedResults.Ok(await store.ListAdvertisersAsync(after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> CreateCampaignAsync(CreateCampaignRequest request, AdStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var v = new Validation();
        AdValidation.Campaign(request, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var campaign = await store.CreateCampaignAsync(request, cancellationToken).ConfigureAwait(false);
        if (campaign is null)
        {
            return v.Add("advertiserId", "is not an advertiser").Result();
        }

        Log.CampaignCreated(loggers.CreateLogger(typeof(AdEndpoints)), campaign.Id, campaign.AdvertiserId);
        return TypedResults.Created($"{ControlPlaneExtensions.ApiPrefix}/ads/campaigns/{campaign.Id}", campaign);
    }

    private static async Task<IResult> ListCampaignsAsync(string? advertiserId, string? cursor, int? limit, AdStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = Paging.Limit(limit, v);
        var after = Paging.AfterNewest(cursor, AdStore.CampaignSort, v);
        return v.IsValid ? TypedResults.Ok(await store.ListCampaignsAsync(advertiserId, after, take, cancellationToken).ConfigureAwait(false)) : v.Result();
    }

    private static async Task<IResult> GetCampaignAsync(string id, AdStore store, CancellationToken cancellationToken) =>
        await store.FindCampaignAsync(id, cancellationToken).ConfigureAwait(false) is { } campaign ? TypedResults.Ok(campaign) : Problems.NotFound("campaign");

    private static async Task<IResult> SetStatusAsync(string id, CampaignStatusRequest request, AdStore store, CancellationToken cancellationToken)
    {
        if (!CampaignStatus.IsValid(request.Status))
        {
            return new Validation().Add("status", "must be active or paused").Result();
        }

        return await store.SetStatusAsync(id, request.Status!, cancellationToken).ConfigureAwait(false)
            ? TypedResults.Ok(await store.FindCampaignAsync(id, cancellationToken).ConfigureAwait(false))
            : Problems.NotFound("campaign");
    }

    private static async Task<IResult> CreateCreativeAsync(string id, CreateCreativeRequest request, HttpContext context, AdStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        AdValidation.Creative(request, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        var (creative, refusal) = await store.CreateCreativeAsync(id, request, Caller.Require(context.User).Id, cancellationToken).ConfigureAwait(false);
        return refusal switch
        {
            AdStore.CreativeRefusal.None => TypedResults.Created($"{ControlPlaneExtensions.ApiPrefix}/ads/campaigns/{id}/creatives/{creative!.Id}", creative),
            AdStore.CreativeRefusal.NoCampaign => Problems.NotFound("campaign"),
            AdStore.CreativeRefusal.NoVideo => v.Add("videoId", "is not a video").Result(),
            AdStore.CreativeRefusal.NotAdvertisersVideo => v.Add("videoId", "is not a video of the advertiser's account").Result(),
            _ => v.Add("videoId", "is not transcoded yet, or not public or unlisted").Result(),
        };
    }

    private static async Task<IResult> SetCuePointsAsync(string id, CuePointsRequest request, HttpContext context, Database database, AdStore store,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        var offsets = AdValidation.CuePoints(request, v);
        if (!v.IsValid)
        {
            return v.Result();
        }

        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var (_, problem) = await VideoAccess.LoadAsync(db, id, Caller.Require(context.User), VideoNeed.Manage, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }
        }

        await store.SetCuePointsAsync(id, offsets, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CuePointsResponse(id, [.. offsets.Select(o => o / 1000.0)]));
    }

    /// <summary>One ad decision for a request: the problem to answer, or the choice (null when exempt or nothing is eligible).</summary>
    private sealed record Decision(IResult? Problem, AdChoice? Ad, string VideoId, string Viewer, string Break);

    private static async Task<Decision> DecideAsync(string? video, string? @break, string? viewer, HttpContext context, Database database, AdStore store,
        IAdExemptions exemptions, AdSigner signer, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var videoId = v.Text("video", video, 1, 32);
        @break ??= AdBreak.Pre;
        if (!AdBreak.IsValid(@break))
        {
            v.Add("break", "must be pre, post or mid-{milliseconds}");
        }

        if (viewer is { Length: > 64 })
        {
            v.Add("viewer", "must be at most 64 characters");
        }

        if (!v.IsValid)
        {
            return new Decision(v.Result(), null, "", "", "");
        }

        var caller = Caller.From(context.User);
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var (_, problem) = await VideoAccess.LoadAsync(db, videoId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return new Decision(problem, null, "", "", "");
            }
        }

        var viewerKey = signer.Viewer(caller?.Id, viewer);
        if (await exemptions.IsExemptAsync(caller?.Id, videoId, cancellationToken).ConfigureAwait(false)
            || await store.VideoAsync(videoId, cancellationToken).ConfigureAwait(false) is not { } content)
        {
            return new Decision(null, null, videoId, viewerKey, @break);
        }

        var ad = await store.DecideAsync(content, viewerKey, DeviceFamily.Of(context.Request.Headers.UserAgent), cancellationToken).ConfigureAwait(false);
        return new Decision(null, ad, videoId, viewerKey, @break);
    }

    private static string Origin(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}";

    private static string MediaUrl(HttpContext context, AdChoice ad) => $"{Origin(context)}/vod/{ad.CreativeVideoId}/index.m3u8";

    /// <summary>
    /// VAST 4.2 for one break: an InLine ad with a fresh impression id (its AdServingId) and signed tracking URLs; an empty
    /// VAST (no ad) for an exempt viewer or when no campaign is eligible. <c>viewer</c> is an anonymous player's per-tab id
    /// (random, kept by the tab); a signed-in caller is identified by the account instead. Both are hashed with the ads key.
    /// </summary>
    private static async Task<IResult> VastAsync(string? video, string? @break, string? viewer, HttpContext context, Database database, AdStore store,
        IAdExemptions exemptions, AdSigner signer, CancellationToken cancellationToken)
    {
        var d = await DecideAsync(video, @break, viewer, context, database, store, exemptions, signer, cancellationToken).ConfigureAwait(false);
        if (d.Problem is not null)
        {
            return d.Problem;
        }

        context.Response.Headers.CacheControl = "no-store";
        if (d.Ad is null)
        {
            return TypedResults.Bytes(VastWriter.Vast(null, "", "", null), Xml);
        }

        var impression = Ids.New();
        string Url(string e) => TrackUrl(context, signer, impression, d.Ad.CreativeId, d.VideoId, d.Viewer, e);
        var tracking = new VastWriter.Tracking(Url(AdEvent.Impression), Url(AdEvent.Error) + "&code=[ERRORCODE]", Url(AdEvent.Click),
            [.. AdEvent.Linear.Where(e => e != "skip" || d.Ad.SkipOffsetSeconds is not null).Select(e => (e, Url(e)))]);
        return TypedResults.Bytes(VastWriter.Vast(d.Ad, impression, MediaUrl(context, d.Ad), tracking), Xml);
    }

    private static string TrackUrl(HttpContext context, AdSigner signer, string impression, string creative, string video, string viewer, string e) =>
        $"{Origin(context)}{ControlPlaneExtensions.ApiPrefix}/ads/track?impression={Uri.EscapeDataString(impression)}&creative={Uri.EscapeDataString(creative)}"
        + $"&video={Uri.EscapeDataString(video)}&viewer={Uri.EscapeDataString(viewer)}&event={e}&sig={signer.Sign(impression, creative, video, viewer, e)}";

    /// <summary>
    /// The VMAP 1.0 schedule of a video: a pre-roll; for VOD, mid-rolls at the owner's cue points (or every
    /// <c>Ads:MidRollInterval</c> when none are set) and a post-roll. Each break's ad tag is this API's VAST URL. An exempt
    /// viewer gets a schedule without breaks.
    /// </summary>
    private static async Task<IResult> VmapAsync(string? video, string? viewer, HttpContext context, Database database, AdStore store, IAdExemptions exemptions,
        IOptions<AdOptions> options, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var videoId = v.Text("video", video, 1, 32);
        if (viewer is { Length: > 64 })
        {
            v.Add("viewer", "must be at most 64 characters");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        var caller = Caller.From(context.User);
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var (_, problem) = await VideoAccess.LoadAsync(db, videoId, caller, VideoNeed.Watch, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }
        }

        context.Response.Headers.CacheControl = "no-store";
        if (await exemptions.IsExemptAsync(caller?.Id, videoId, cancellationToken).ConfigureAwait(false)
            || await store.VideoAsync(videoId, cancellationToken).ConfigureAwait(false) is not { } content)
        {
            return TypedResults.Bytes(VastWriter.Vmap([]), Xml);
        }

        var tag = $"{Origin(context)}{ControlPlaneExtensions.ApiPrefix}/ads/vast?video={Uri.EscapeDataString(videoId)}"
            + (string.IsNullOrEmpty(viewer) ? "" : "&viewer=" + Uri.EscapeDataString(viewer)) + "&break=";
        var breaks = new List<(string, string, string)> { ("start", AdBreak.Pre, tag + AdBreak.Pre) };
        if (content.Kind == "vod")
        {
            foreach (var ms in await MidRollsAsync(content, store, options.Value, cancellationToken).ConfigureAwait(false))
            {
                breaks.Add((VastWriter.Clock(ms / 1000.0), AdBreak.Mid(ms), tag + AdBreak.Mid(ms)));
            }

            breaks.Add(("end", AdBreak.Post, tag + AdBreak.Post));
        }

        return TypedResults.Bytes(VastWriter.Vmap(breaks), Xml);
    }

    /// <summary>The owner's cue points inside the video, else every MidRollInterval strictly inside it.</summary>
    internal static async Task<List<long>> MidRollsAsync(AdVideo content, AdStore store, AdOptions options, CancellationToken cancellationToken)
    {
        var endMs = content.DurationSeconds is { } s ? (long)(s * 1000) : long.MaxValue;
        var cues = await store.CuePointsAsync(content.Id, cancellationToken).ConfigureAwait(false);
        if (cues.Length > 0)
        {
            return [.. cues.Where(c => c < endMs)];
        }

        var list = new List<long>();
        var step = (long)options.MidRollInterval.TotalMilliseconds;
        if (step > 0 && content.DurationSeconds is not null)
        {
            for (var at = step; at < endMs && list.Count < AdValidation.MaxCuePoints; at += step)
            {
                list.Add(at);
            }
        }

        return list;
    }

    /// <summary>
    /// The asset list of an HLS interstitial (<c>X-ASSET-LIST</c>, HLS Interstitials, RFC 8216bis Appendix D): the decided
    /// creative's HLS presentation and duration; an empty list for an exempt viewer (identified by the access token the player
    /// sends) or when no campaign is eligible.
    /// </summary>
    private static async Task<IResult> AssetListAsync(string? video, string? @break, string? viewer, HttpContext context, Database database, AdStore store,
        IAdExemptions exemptions, AdSigner signer, CancellationToken cancellationToken)
    {
        var d = await DecideAsync(video, @break, viewer, context, database, store, exemptions, signer, cancellationToken).ConfigureAwait(false);
        if (d.Problem is not null)
        {
            return d.Problem;
        }

        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new AssetListResponse(d.Ad is null ? [] : [new AssetResponse(MediaUrl(context, d.Ad), d.Ad.DurationSeconds)]));
    }

    /// <summary>
    /// A tracking beacon. Its signature covers impression, creative, video, viewer and event: any change is refused (403). A
    /// valid beacon counts once per (impression, event); a repeat answers 204 too, since players retry beacons.
    /// </summary>
    private static async Task<IResult> TrackAsync(string? impression, string? creative, string? video, string? viewer, string? @event, string? sig, string? code,
        AdStore store, AdSigner signer, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var i = v.Text("impression", impression, 1, 32);
        var cr = v.Text("creative", creative, 1, 32);
        var vid = v.Text("video", video, 1, 32);
        var who = v.Text("viewer", viewer, 0, 64);
        if (!AdEvent.IsValid(@event))
        {
            v.Add("event", "must be impression, start, firstQuartile, midpoint, thirdQuartile, complete, skip, click or error");
        }

        v.Text("sig", sig, 1, 64);
        if (!v.IsValid)
        {
            return v.Result();
        }

        if (!signer.Verify(i, cr, vid, who, @event!, sig))
        {
            Log.ForgedBeacon(loggers.CreateLogger(typeof(AdEndpoints)), i, @event!);
            return Problems.Forbidden("The tracking signature does not match this beacon.");
        }

        // VAST 4.2 §2.3.6 error codes are 100-999; an unexpanded [ERRORCODE] macro or anything else is stored as none.
        int? errorCode = int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c is >= 100 and <= 999 ? c : null;
        await store.TrackAsync(i, cr, vid, who, @event!, errorCode, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6900, Level = LogLevel.Information, Message = "Advertiser {AdvertiserId} created")]
        public static partial void AdvertiserCreated(ILogger logger, string advertiserId);

        [LoggerMessage(EventId = 6901, Level = LogLevel.Information, Message = "Campaign {CampaignId} of advertiser {AdvertiserId} created")]
        public static partial void CampaignCreated(ILogger logger, string campaignId, string advertiserId);

        [LoggerMessage(EventId = 6902, Level = LogLevel.Warning, Message = "Refused a tracking beacon with a bad signature (impression {ImpressionId}, event {Event})")]
        public static partial void ForgedBeacon(ILogger logger, string impressionId, string @event);
    }
}
