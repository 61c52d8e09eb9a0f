using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Hosting;

/// <summary>Config section <c>StreamVerse</c>: where the daemon listens and keeps its files.</summary>
internal sealed class OriginOptions
{
    public const string Section = "StreamVerse";

    /// <summary>Data directory: recordings, and later uploads and the embedded database.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Data { get; set; } = "./data";

    /// <summary>HTTP endpoint (HLS, DASH, API, metrics), HOST:PORT.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Http { get; set; } = "127.0.0.1:8080";

    /// <summary>
    /// Optional TLS endpoint, HOST:PORT. Browsers speak HTTP/2 only over TLS (ALPN); Kestrel's cleartext
    /// endpoint answers HTTP/1.1. Needs <see cref="CertificatePath"/> and <see cref="CertificateKeyPath"/>.
    /// </summary>
    public string? Https { get; set; }

    /// <summary>PEM certificate (chain) for <see cref="Https"/> and <see cref="Rtmps"/>.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key for <see cref="Https"/> and <see cref="Rtmps"/>.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>RTMP ingest endpoint, HOST:PORT.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Rtmp { get; set; } = "127.0.0.1:1935";

    /// <summary>
    /// Optional RTMPS ingest endpoint, HOST:PORT: RTMP inside TLS on a port of its own (OBS's default for the big
    /// platforms, usually 443 or 1936), the same sessions and stream keys as <see cref="Rtmp"/>. Needs
    /// <see cref="CertificatePath"/> and <see cref="CertificateKeyPath"/>. Not in edge mode (edges take no ingest).
    /// </summary>
    public string? Rtmps { get; set; }

    /// <summary>
    /// Socket completions run on the runtime's event threads instead of being queued to the thread pool
    /// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>): one thread hop less per read and write. Only Kestrel's
    /// transport loops and client sockets' completion code run there (Kestrel still hands requests to the thread pool);
    /// an explicit environment variable wins. Read once, before the first socket.
    /// </summary>
    public bool InlineSocketCompletions { get; set; } = true;

    /// <summary>
    /// Kestrel's socket transport runs connection code where the socket's reads complete (with
    /// <see cref="InlineSocketCompletions"/>: on the socket engine's thread) instead of queueing it to the thread pool
    /// (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>): the fast lane parses and answers a request without
    /// a thread hop. Routed requests and RTMP sessions still move to the thread pool first (<see cref="OriginHost"/>,
    /// <c>RtmpSession</c>), so a handler's work never holds up other connections' I/O.
    /// </summary>
    public bool InlineScheduling { get; set; }

    /// <summary>
    /// Addresses or CIDR networks of the load balancers/reverse proxies in front (an AWS ALB's subnets, say): from
    /// these peers <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> name the client, so per-address limits, login
    /// throttles and address-bound playback tokens see viewers rather than the proxy. From any other peer the
    /// headers are ignored (a client cannot claim an address). Empty: the headers are never read.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>The parsed <see cref="TrustedProxies"/>; throws naming the key for an entry that is not an address or CIDR.</summary>
    public IReadOnlyList<IPNetwork> ParseTrustedProxies()
    {
        var networks = new List<IPNetwork>(TrustedProxies.Length);
        foreach (var entry in TrustedProxies)
        {
            if (IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                throw new OptionsValidationException("StreamVerse:TrustedProxies", typeof(OriginOptions),
                    [$"StreamVerse:TrustedProxies: '{entry}' is not an IP address or CIDR network (e.g. 10.0.0.0/16 or 192.0.2.7)"]);
            }
        }

        return networks;
    }

    public static IPEndPoint ParseEndPoint(string value, string key)
    {
        if (IPEndPoint.TryParse(value, out var ip))
        {
            return ip;
        }

        var colon = value.LastIndexOf(':');
        if (colon > 0 && value[..colon] == "localhost" && ushort.TryParse(value[(colon + 1)..], out var port))
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        throw new OptionsValidationException(key, typeof(OriginOptions), [$"{key}: '{value}' is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)"]);
    }
}
