using System.Text.Json.Serialization;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>A campaign's state (the stored text): only an active campaign is ever chosen.</summary>
internal static class CampaignStatus
{
    public const string Active = "active";
    public const string Paused = "paused";

    public static bool IsValid(string? s) => s is Active or Paused;
}

/// <summary>The tracking events a VAST response carries (VAST 4.2 §3.14.1 names), plus impression, click and error.</summary>
internal static class AdEvent
{
    public const string Impression = "impression";
    public const string Error = "error";
    public const string Click = "click";

    /// <summary>The linear events of <c>&lt;TrackingEvents&gt;</c>, in play order.</summary>
    public static readonly string[] Linear = ["start", "firstQuartile", "midpoint", "thirdQuartile", "complete", "skip"];

    public static bool IsValid(string? e) => e is Impression or Error or Click || Array.IndexOf(Linear, e) >= 0;
}

/// <summary>A break of the VMAP schedule: <c>pre</c>, <c>post</c>, or <c>mid-{ms}</c> (its offset into the content).</summary>
internal static class AdBreak
{
    public const string Pre = "pre";
    public const string Post = "post";

    public static string Mid(long offsetMs) => "mid-" + offsetMs.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static bool IsValid(string? b) =>
        b is Pre or Post
        || (b is not null && b.StartsWith("mid-", StringComparison.Ordinal) && long.TryParse(b.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _));
}

/// <summary>Device families a campaign may target, from the request's User-Agent (<see cref="DeviceFamily.Of"/>).</summary>
internal static class DeviceFamily
{
    public const string Desktop = "desktop";
    public const string Mobile = "mobile";
    public const string Tablet = "tablet";
    public const string Tv = "tv";

    public static bool IsValid(string? d) => d is Desktop or Mobile or Tablet or Tv;

    /// <summary>A coarse family from the User-Agent; desktop when nothing says otherwise.</summary>
    public static string Of(string? userAgent)
    {
        var ua = userAgent ?? "";
        bool Has(string s) => ua.Contains(s, StringComparison.OrdinalIgnoreCase);
        return Has("SmartTV") || Has("SMART-TV") || Has("Tizen") || Has("Web0S") || Has("AppleTV") || Has("CrKey") || Has("AFT") ? Tv
            : Has("iPad") || Has("Tablet") ? Tablet
            : Has("Mobi") || Has("iPhone") || Has("Android") ? Mobile
            : Desktop;
    }
}

/// <param name="Name">Shown as the VAST <c>Advertiser</c>.</param>
/// <param name="AccountId">The advertiser's account, whose videos may be its creatives; none: the creating admin's own videos.</param>
internal sealed record CreateAdvertiserRequest(string? Name, string? AccountId);

internal sealed record AdvertiserResponse(string Id, string Name, string? AccountId, DateTimeOffset CreatedAt);

/// <summary>Who a campaign is for; every given field must match (null: anyone).</summary>
/// <param name="CategoryId">The content video's category.</param>
/// <param name="Tags">Any one of these tags on the content video.</param>
/// <param name="Kind"><c>live</c> or <c>vod</c>.</param>
/// <param name="Device"><c>desktop</c>, <c>mobile</c>, <c>tablet</c> or <c>tv</c>, from the player's User-Agent.</param>
/// <param name="Language">The content video's language (as stored on the video, e.g. <c>en</c>).</param>
internal sealed record AdTargeting(long? CategoryId, string[]? Tags, string? Kind, string? Device, string? Language);

/// <param name="Currency">ISO 4217 code, three upper-case letters.</param>
/// <param name="BudgetMinor">Total budget in minor units (cents); no impression is charged past it.</param>
/// <param name="CpmMinor">Price per 1000 impressions in minor units: each impression costs CpmMinor/1000, counted exactly.</param>
/// <param name="DailyBudgetMinor">Daily pacing: no more is served on a UTC day once this is spent; null = no daily limit.</param>
/// <param name="FrequencyCap">Impressions per viewer per window; null = no cap.</param>
/// <param name="FrequencyWindowSeconds">The window of the cap, 60..2592000 (default 86400).</param>
internal sealed record CreateCampaignRequest(string? AdvertiserId, string? Name, string? Currency, long? BudgetMinor, long? CpmMinor, long? DailyBudgetMinor,
    int? FrequencyCap, int? FrequencyWindowSeconds, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, AdTargeting? Targeting);

internal sealed record CampaignStatusRequest(string? Status);

/// <param name="Impressions">Impressions charged (billable).</param>
/// <param name="SpendMilliMinor">Exact spend in thousandths of a minor unit (Impressions * CpmMinor).</param>
/// <param name="Events">Tracking events counted (once per impression and event) by name; only on the single campaign.</param>
internal sealed record CampaignResponse(string Id, string AdvertiserId, string Name, string Status, string Currency, long BudgetMinor, long CpmMinor,
    long? DailyBudgetMinor, int? FrequencyCap, int FrequencyWindowSeconds, DateTimeOffset StartsAt, DateTimeOffset EndsAt, AdTargeting Targeting,
    long Impressions, long SpendMilliMinor, Dictionary<string, long>? Events, DateTimeOffset CreatedAt);

/// <param name="VideoId">A transcoded video (the existing upload pipeline) owned by the advertiser's account; served from its HLS presentation.</param>
/// <param name="ClickThrough">The advertiser's landing page (absolute http(s) URL).</param>
/// <param name="SkipOffsetSeconds">Skippable after this many seconds; null = not skippable.</param>
/// <param name="Width">The creative's display width for the VAST MediaFile (default 1280).</param>
/// <param name="Height">The creative's display height for the VAST MediaFile (default 720).</param>
internal sealed record CreateCreativeRequest(string? VideoId, string? ClickThrough, int? SkipOffsetSeconds, int? Width, int? Height);

internal sealed record CreativeResponse(string Id, string CampaignId, string VideoId, string ClickThrough, int? SkipOffsetSeconds, int Width, int Height,
    DateTimeOffset CreatedAt);

/// <param name="OffsetsSeconds">Mid-roll positions into the video, in seconds (at most 100, each at least 1 s in).</param>
internal sealed record CuePointsRequest(double[]? OffsetsSeconds);

internal sealed record CuePointsResponse(string VideoId, double[] OffsetsSeconds);

/// <summary>The asset list of an HLS interstitial (X-ASSET-LIST): <c>{"ASSETS":[{"URI":...,"DURATION":...}]}</c>.</summary>
internal sealed record AssetListResponse([property: JsonPropertyName("ASSETS")] List<AssetResponse> Assets);

internal sealed record AssetResponse([property: JsonPropertyName("URI")] string Uri, [property: JsonPropertyName("DURATION")] double Duration);

/// <summary>Request validation at the edge: each function returns the trimmed command or adds errors naming the field.</summary>
internal static class AdValidation
{
    public const int MaxCuePoints = 100;

    public static bool IsHttpUrl(string? s) =>
        Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);

    public static void Campaign(CreateCampaignRequest r, Validation v)
    {
        v.Text("advertiserId", r.AdvertiserId, 1, 32);
        v.Text("name", r.Name, 1, 200);
        if (r.Currency is null || r.Currency.Length != 3 || !r.Currency.All(char.IsAsciiLetterUpper))
        {
            v.Add("currency", "must be an ISO 4217 code of three upper-case letters");
        }

        // Bounds keep impressions * cpm and budget * 1000 far from overflowing 64 bits.
        if (r.BudgetMinor is not (>= 1 and <= 1_000_000_000_000))
        {
            v.Add("budgetMinor", "is required, between 1 and 1000000000000");
        }

        if (r.CpmMinor is not (>= 1 and <= 100_000_000))
        {
            v.Add("cpmMinor", "is required, between 1 and 100000000");
        }

        if (r.DailyBudgetMinor is < 1 or > 1_000_000_000_000)
        {
            v.Add("dailyBudgetMinor", "must be between 1 and 1000000000000");
        }

        if (r.FrequencyCap is < 1 or > 1000)
        {
            v.Add("frequencyCap", "must be between 1 and 1000");
        }

        if (r.FrequencyWindowSeconds is < 60 or > 2_592_000)
        {
            v.Add("frequencyWindowSeconds", "must be between 60 and 2592000");
        }

        if (r.StartsAt is null)
        {
            v.Add("startsAt", "is required");
        }

        if (r.EndsAt is null || (r.StartsAt is not null && r.EndsAt <= r.StartsAt))
        {
            v.Add("endsAt", "is required and must be after startsAt");
        }

        var t = r.Targeting;
        if (t is null)
        {
            return;
        }

        if (t.Kind is not null and not ("live" or "vod"))
        {
            v.Add("targeting.kind", "must be live or vod");
        }

        if (t.Device is not null && !DeviceFamily.IsValid(t.Device))
        {
            v.Add("targeting.device", "must be desktop, mobile, tablet or tv");
        }

        if (t.Language is not null && t.Language.Trim().Length is 0 or > 16)
        {
            v.Add("targeting.language", "must be 1 to 16 characters");
        }

        if (t.Tags is { } tags && (tags.Length > 20 || tags.Any(tag => string.IsNullOrWhiteSpace(tag) || tag.Trim().Length > 50 || tag.Contains(','))))
        {
            v.Add("targeting.tags", "must be at most 20 tags of 1 to 50 characters without commas");
        }
    }

    public static void Creative(CreateCreativeRequest r, Validation v)
    {
        v.Text("videoId", r.VideoId, 1, 32);
        if (!IsHttpUrl(r.ClickThrough) || r.ClickThrough!.Length > 2000)
        {
            v.Add("clickThrough", "must be an absolute http(s) URL of at most 2000 characters");
        }

        if (r.SkipOffsetSeconds is < 0 or > 3600)
        {
            v.Add("skipOffsetSeconds", "must be between 0 and 3600");
        }

        if (r.Width is < 16 or > 7680)
        {
            v.Add("width", "must be between 16 and 7680");
        }

        if (r.Height is < 16 or > 4320)
        {
            v.Add("height", "must be between 16 and 4320");
        }
    }

    /// <summary>Cue points in whole milliseconds, sorted and unique.</summary>
    public static long[] CuePoints(CuePointsRequest r, Validation v)
    {
        if (r.OffsetsSeconds is null)
        {
            v.Add("offsetsSeconds", "is required (an empty list clears them)");
            return [];
        }

        if (r.OffsetsSeconds.Length > MaxCuePoints)
        {
            v.Add("offsetsSeconds", $"must hold at most {MaxCuePoints} cue points");
            return [];
        }

        if (r.OffsetsSeconds.Any(s => !double.IsFinite(s) || s < 1 || s > 7 * 24 * 3600))
        {
            v.Add("offsetsSeconds", "each must be a number of seconds between 1 and 604800");
            return [];
        }

        return [.. r.OffsetsSeconds.Select(s => (long)Math.Round(s * 1000)).Distinct().Order()];
    }
}
