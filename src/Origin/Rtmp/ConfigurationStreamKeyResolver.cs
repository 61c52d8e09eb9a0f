using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// Stream keys from configuration section <c>StreamVerse:Streams</c>, a dictionary NAME -&gt; KEY
/// (env <c>StreamVerse__Streams__cam1=secret</c>). Read on every call so a configuration reload applies.
/// Keys are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, and every
/// entry is compared, so timing reveals neither the key's content, its length, nor which entry matched.
/// </summary>
internal sealed class ConfigurationStreamKeyResolver(IConfiguration configuration, IOptionsMonitor<RtmpOptions> options) : IStreamKeyResolver
{
    public const string SectionName = "StreamVerse:Streams";

    public ValueTask<PublishGrant?> CheckAsync(string app, string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryResolve(app, key, out var streamName) ? new PublishGrant(null, streamName!) : null);

    /// <summary>A configured key names its stream and starts nothing.</summary>
    public ValueTask<string?> BeginAsync(PublishGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return ValueTask.FromResult<string?>(grant.Subject);
    }

    public bool TryResolve(string app, string key, out string? streamName)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(key);
        streamName = null;
        if (key.Length == 0 || !string.Equals(app, options.CurrentValue.Application, StringComparison.Ordinal))
        {
            return false;
        }

        Span<byte> offered = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        HashUtf8(key, offered);
        foreach (var entry in configuration.GetSection(SectionName).GetChildren())
        {
            if (string.IsNullOrEmpty(entry.Value))
            {
                continue;
            }

            HashUtf8(entry.Value, expected);
            if (CryptographicOperations.FixedTimeEquals(offered, expected) && streamName is null)
            {
                streamName = entry.Key;
            }
        }

        return streamName is not null;
    }

    private static void HashUtf8(string value, Span<byte> hash)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        SHA256.HashData(bytes, hash);
        CryptographicOperations.ZeroMemory(bytes);
    }
}
