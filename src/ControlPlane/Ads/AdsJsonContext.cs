using System.Text.Json;
using System.Text.Json.Serialization;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>The JSON of the ads feature (chained after <c>ControlPlaneJsonContext</c> by <see cref="AdServices.AddAds"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AdImpressionRecorded))]
[JsonSerializable(typeof(CreateAdvertiserRequest))]
[JsonSerializable(typeof(AdvertiserResponse))]
[JsonSerializable(typeof(Page<AdvertiserResponse>))]
[JsonSerializable(typeof(CreateCampaignRequest))]
[JsonSerializable(typeof(CampaignStatusRequest))]
[JsonSerializable(typeof(CampaignResponse))]
[JsonSerializable(typeof(Page<CampaignResponse>))]
[JsonSerializable(typeof(CreateCreativeRequest))]
[JsonSerializable(typeof(CreativeResponse))]
[JsonSerializable(typeof(CuePointsRequest))]
[JsonSerializable(typeof(CuePointsResponse))]
[JsonSerializable(typeof(AssetListResponse))]
internal sealed partial class AdsJsonContext : JsonSerializerContext;
