using System.Net;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Srt;

/// <summary>SRT ingest settings, section <c>StreamVerse:Srt</c> (e.g. env <c>StreamVerse__Srt__Listen=0.0.0.0:9000</c>).</summary>
internal sealed class SrtOptions
{
    public const string Section = "StreamVerse:Srt";

    /// <summary>UDP endpoint HOST:PORT the SRT listener binds (flag <c>--srt</c>); unset: no SRT ingest, as for RTMPS.</summary>
    public string? Listen { get; set; }

    /// <summary>
    /// The receiver's TSBPD latency in milliseconds (SRTO_RCVLATENCY): how long a packet may take, retransmissions
    /// included, before it is played out; the larger of this and the caller's own latency is used. 120 is libsrt's default;
    /// 3-4x the round trip suits lossy links.
    /// </summary>
    public int LatencyMilliseconds { get; set; } = 120;

    /// <summary>Optional SRTO_PASSPHRASE (10-79 characters): callers must encrypt with it (AES). Never logged.</summary>
    public string? Passphrase { get; set; }

    /// <summary>Publishes (accepted or live) at once; more callers are rejected with SRT_REJX_OVERLOAD.</summary>
    public int MaxPublishers { get; set; } = 64;

    /// <summary>A publish that delivers nothing for this long is closed (libsrt's own peer-idle timeout is 5 s).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public IPEndPoint? ParseEndPoint() => string.IsNullOrEmpty(Listen) ? null : IPEndPoint.Parse(Listen);
}

internal sealed class SrtOptionsValidator : IValidateOptions<SrtOptions>
{
    public ValidateOptionsResult Validate(string? name, SrtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!string.IsNullOrEmpty(options.Listen) && (!IPEndPoint.TryParse(options.Listen, out var endPoint) || endPoint.Port == 0))
        {
            errors.Add($"{SrtOptions.Section}:Listen must be HOST:PORT (an IP address and a UDP port), got '{options.Listen}'.");
        }

        if (options.LatencyMilliseconds is < 20 or > 8000)
        {
            errors.Add($"{SrtOptions.Section}:LatencyMilliseconds must be 20..8000.");
        }

        if (!string.IsNullOrEmpty(options.Passphrase) && options.Passphrase.Length is < 10 or > 79)
        {
            errors.Add($"{SrtOptions.Section}:Passphrase must be 10..79 characters (SRT's limit), or empty for no encryption.");
        }

        if (options.MaxPublishers is < 1 or > 10_000)
        {
            errors.Add($"{SrtOptions.Section}:MaxPublishers must be 1..10000.");
        }

        if (options.IdleTimeout < TimeSpan.FromSeconds(1) || options.IdleTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"{SrtOptions.Section}:IdleTimeout must be 00:00:01..01:00:00.");
        }

        return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
