using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Realtime;

/// <summary>Config section <c>StreamVerse:ControlPlane:Realtime</c>: the socket at <c>/api/v1/realtime</c>.</summary>
internal sealed class RealtimeOptions
{
    public const string Section = "StreamVerse:ControlPlane:Realtime";

    /// <summary>
    /// Largest frame (one hub message) a client may send, in bytes, 1024-1048576. Default 8192: a chat message is at most
    /// <c>Chat:MaxLength</c> characters, 12 bytes each when JSON-escaped. A larger frame closes that socket only.
    /// </summary>
    public long MaximumReceiveMessageSize { get; set; } = 8192;
}

/// <summary>Config section <c>StreamVerse:ControlPlane:Redis</c>: the backplane that carries socket messages between daemons.</summary>
internal sealed class RedisOptions
{
    public const string Section = "StreamVerse:ControlPlane:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>host:port,password=...,ssl=true</c>). Unset (the default): this daemon's
    /// sockets see only what this daemon sends. Every daemon of one deployment names the same Redis. It may hold a password:
    /// it is never logged.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>Prefix of the Redis channels, so deployments (or test runs) can share one Redis. Default <c>streamverse</c>.</summary>
    public string ChannelPrefix { get; set; } = "streamverse";
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>, IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeOptions o) =>
        o.MaximumReceiveMessageSize is < 1024 or > 1024 * 1024
            ? ValidateOptionsResult.Fail(RealtimeOptions.Section + ":MaximumReceiveMessageSize must be between 1024 and 1048576")
            : ValidateOptionsResult.Success;

    public ValidateOptionsResult Validate(string? name, RedisOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.ChannelPrefix) || o.ChannelPrefix.Length > 100)
        {
            return ValidateOptionsResult.Fail(RedisOptions.Section + ":ChannelPrefix must be 1 to 100 characters");
        }

        if (o.Configuration is not null)
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(o.Configuration);
            }
            catch (ArgumentException)
            {
                // Not the parser's message: it may quote the string, password included.
                return ValidateOptionsResult.Fail(RedisOptions.Section + ":Configuration is not a StackExchange.Redis configuration string (host:port[,option=value...])");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
