using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>
/// An impression was counted (written to the outbox with it, once per impression id). The ledger books ad revenue from
/// it: <paramref name="CostMilliMinor"/> is the exact charge in thousandths of a minor unit of <paramref name="Currency"/>
/// (the campaign's CPM; 0 when <paramref name="Billable"/> is false because the budget was spent), and
/// <paramref name="ContentOwnerId"/> is the creator whose video carried the ad.
/// </summary>
internal sealed record AdImpressionRecorded(
    string ImpressionId, string CampaignId, string AdvertiserId, string CreativeId, string VideoId, string ContentOwnerId, string Currency,
    long CpmMinor, long CostMilliMinor, bool Billable, DateTimeOffset OccurredAt) : IDomainEvent
{
    public string SubjectId => CampaignId;
}
