using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StreamVerse.ControlPlane.Realtime;

namespace StreamVerse.ControlPlane.Cluster;

/// <summary>
/// This process's one connection to the deployment's Redis (<c>StreamVerse:ControlPlane:Redis:Configuration</c>), shared by
/// the socket backplane, the revocation feed, the shared rate limits and the stream directory. Unset: <see cref="Enabled"/>
/// is false and every caller keeps to its single-daemon behaviour. The connection is made on first use and never aborts the
/// start: while Redis is away the multiplexer reconnects in the background, and callers fall back (the database poll for
/// revocations, the local limiter for limits).
/// </summary>
/// <remarks>
/// Channels carry the configured <c>ChannelPrefix</c> (the multiplexer adds it); keys are built with <see cref="Key"/>, which
/// puts the same prefix in front, so deployments (or test runs) can share one Redis.
/// </remarks>
internal sealed partial class ClusterRedis : IAsyncDisposable
{
    private readonly Lazy<Task<IConnectionMultiplexer>>? _connection;
    private readonly ILogger<ClusterRedis> _logger;

    public ClusterRedis(IOptions<RedisOptions> options, ILogger<ClusterRedis> logger)
    {
        _logger = logger;
        Prefix = options.Value.ChannelPrefix;
        if (TryParse(options.Value.Configuration) is { } configuration)
        {
            configuration.AbortOnConnectFail = false;
            configuration.ChannelPrefix = RedisChannel.Literal(Prefix);
            _connection = new(() => ConnectAsync(configuration), LazyThreadSafetyMode.ExecutionAndPublication);
        }
    }

    public bool Enabled => _connection is not null;

    public string Prefix { get; }

    /// <summary>A key of this deployment: <c>{prefix}:{name}</c>.</summary>
    public RedisKey Key(string name) => Prefix + ":" + name;

    /// <summary>The shared multiplexer (connecting on first use). Throws when no Redis is configured: check <see cref="Enabled"/>.</summary>
    public Task<IConnectionMultiplexer> ConnectionAsync() =>
        _connection?.Value ?? throw new InvalidOperationException(RedisOptions.Section + ":Configuration is not set");

    /// <summary>Publishes without waiting: a message lost while Redis is away is made good by the receivers' poll.</summary>
    public void Publish(string channel, string message)
    {
        if (_connection is not null)
        {
            _ = PublishAsync(channel, message);
        }
    }

    private async Task PublishAsync(string channel, string message)
    {
        try
        {
            var connection = await ConnectionAsync().ConfigureAwait(false);
            await connection.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Log.PublishFailed(_logger, channel, e.Message);
        }
    }

    /// <summary>The configuration string parsed, or null when unset or unparsable (<see cref="RealtimeOptionsValidator"/> then stops the start naming the key).</summary>
    public static ConfigurationOptions? TryParse(string? configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration))
        {
            return null;
        }

        try
        {
            return ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration) =>
        await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_connection is { IsValueCreated: true } c && c.Value.IsCompletedSuccessfully)
        {
            await c.Value.Result.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        // Never the configuration string: it may hold a password.
        [LoggerMessage(EventId = 7000, Level = LogLevel.Warning, Message = "Cluster: publishing on Redis channel {Channel} failed ({Error}); other nodes learn it from their poll")]
        public static partial void PublishFailed(ILogger logger, string channel, string error);
    }
}
