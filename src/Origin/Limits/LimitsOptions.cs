using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace StreamVerse.Origin.Limits;

/// <summary>
/// Config section <c>StreamVerse:Limits</c>: what one daemon (origin or edge) lets its viewers take.
/// Every key has a default that is safe on a small host; validated at start.
/// </summary>
internal sealed class LimitsOptions : IValidatableObject
{
    public const string Section = "StreamVerse:Limits";

    /// <summary>Kestrel's MaxConcurrentConnections (all endpoints, RTMP included); 0 = unlimited.</summary>
    [Range(0, 10_000_000)]
    public long MaxConnections { get; set; } = 10_000;

    /// <summary>Kestrel's MaxConcurrentUpgradedConnections; defaults to <see cref="MaxConnections"/>.</summary>
    [Range(0, 10_000_000)]
    public long? MaxUpgradedConnections { get; set; }

    /// <summary>Token bucket refill per remote IP (requests per second); 0 = no per-IP limit.</summary>
    [Range(0, 1_000_000)]
    public int RequestsPerSecondPerIp { get; set; }

    /// <summary>Token bucket size per remote IP; 0 = twice <see cref="RequestsPerSecondPerIp"/>.</summary>
    [Range(0, 10_000_000)]
    public int RequestBurstPerIp { get; set; }

    /// <summary>Named per-connection bandwidth caps in bytes per second (0 = uncapped).</summary>
    public Dictionary<string, long> BandwidthTiers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The tier of a request nobody chose one for (no playback token, or a plain account's); empty = uncapped.</summary>
    public string DefaultTier { get; set; } = "";

    /// <summary>The tier of a request whose playback token was issued to a premium account; empty = <see cref="DefaultTier"/>.</summary>
    public string PremiumTier { get; set; } = "";

    /// <summary>Idle time before Kestrel closes a keep-alive connection.</summary>
    [Range(1, 3600)]
    public int KeepAliveTimeoutSeconds { get; set; } = 75;

    /// <summary>Time a client has to send the request headers (slowloris guard).</summary>
    [Range(1, 300)]
    public int RequestHeadersTimeoutSeconds { get; set; } = 10;

    /// <summary>gzip/br for playlists and MPDs (never for media segments).</summary>
    public bool CompressPlaylists { get; set; } = true;

    public int EffectiveBurst => RequestBurstPerIp > 0 ? RequestBurstPerIp : Math.Max(1, RequestsPerSecondPerIp * 2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (tier, rate) in BandwidthTiers)
        {
            if (rate < 0)
            {
                yield return new ValidationResult(string.Create(CultureInfo.InvariantCulture,
                    $"{Section}:BandwidthTiers:{tier} must be >= 0 bytes per second (0 = uncapped), not {rate}"));
            }
        }

        if (DefaultTier.Length > 0 && !BandwidthTiers.ContainsKey(DefaultTier))
        {
            yield return new ValidationResult(
                $"{Section}:DefaultTier '{DefaultTier}' is not one of {Section}:BandwidthTiers ({string.Join(", ", BandwidthTiers.Keys)})");
        }

        if (PremiumTier.Length > 0 && !BandwidthTiers.ContainsKey(PremiumTier))
        {
            yield return new ValidationResult(
                $"{Section}:PremiumTier '{PremiumTier}' is not one of {Section}:BandwidthTiers ({string.Join(", ", BandwidthTiers.Keys)})");
        }
    }
}
