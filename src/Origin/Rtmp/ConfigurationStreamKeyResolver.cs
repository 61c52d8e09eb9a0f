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

/// <summary>
/// Start-up check of the static keys (<c>--stream NAME=KEY</c>): each at least <see cref="MinLength"/> characters, so a key
/// cannot be guessed by trying short ones (a failed publish costs the guesser one TCP connection). An empty value turns the
/// stream off, as before. The failure names the stream, never the key.
/// </summary>
internal sealed class StaticStreamKeyValidator(IConfiguration configuration) : IValidateOptions<RtmpOptions>
{
    public const int MinLength = 16;

    public ValidateOptionsResult Validate(string? name, RtmpOptions options)
    {
        var short_ = configuration.GetSection(ConfigurationStreamKeyResolver.SectionName).GetChildren()
            .Where(e => !string.IsNullOrEmpty(e.Value) && e.Value.Length < MinLength)
            .Select(e => $"{ConfigurationStreamKeyResolver.SectionName}:{e.Key}: a stream key needs at least {MinLength} characters (e.g. openssl rand -hex 16)")
            .ToList();
        return short_.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(short_);
    }
}
