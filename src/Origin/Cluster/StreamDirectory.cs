using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StreamVerse.ControlPlane.Cluster;

namespace StreamVerse.Origin.Cluster;

/// <summary>
/// The cluster's stream directory in Redis: key <c>{prefix}:live:{name}</c> holds the advertised URL of the origin where
/// <c>name</c> is live, with a TTL of <see cref="ClusterOptions.LeaseSeconds"/> that the owner renews
/// (<see cref="StreamLeaseKeeper"/>). Origins claim on publish and release on end; every node looks names up to fetch live
/// paths from their owner (<see cref="ClusterLiveProxy"/>, the edge's fetches).
/// </summary>
/// <remarks>
/// A new publish takes over: <see cref="Claim"/> overwrites whatever origin held the name (the reconnect-window semantics of one
/// daemon: the publisher that comes back wins), and the previous owner, whose next renewal finds another URL, ends its session
/// (<see cref="StreamLeaseKeeper"/>). Renewal and release only touch an entry that is still this origin's (a Lua
/// compare-and-set), so an old owner never overwrites or deletes the new one's. Lookups are cached for
/// <see cref="ClusterOptions.LookupCacheMilliseconds"/>, found or not; a cached hit allocates nothing.
/// </remarks>
internal sealed partial class StreamDirectory
{
    // KEYS[1] = entry, ARGV[1] = our URL, ARGV[2] = lease seconds. 1: ours (renewed, or re-taken after it expired); 0: another origin's.
    private const string RenewScript =
        """
        local v = redis.call('GET', KEYS[1])
        if v == false or v == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
          return 1
        end
        return 0
        """;

    private const string ReleaseScript =
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private const int MaxCachedNames = 10_000;

    private readonly ClusterRedis _redis;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<StreamDirectory> _logger;
    private readonly ConcurrentDictionary<string, Lookup> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _owned = new(StringComparer.Ordinal);
    private readonly long _cacheTicks;

    public StreamDirectory(ClusterRedis redis, IOptions<ClusterOptions> options, TimeProvider time, ILogger<StreamDirectory> logger)
    {
        _redis = redis;
        _options = options.Value;
        _time = time;
        _logger = logger;
        Self = _options.AdvertisedUri;
        _cacheTicks = _options.LookupCacheMilliseconds * time.TimestampFrequency / 1000;
    }

    /// <summary>Whether lookups go to Redis (Redis is configured).</summary>
    public bool Enabled => _redis.Enabled;

    /// <summary>This origin's advertised URL; null: it registers nothing.</summary>
    public Uri? Self { get; }

    /// <summary>Whether this origin registers its streams.</summary>
    public bool Registers => _redis.Enabled && Self is not null;

    /// <summary>The names this origin claimed and has not released.</summary>
    public ICollection<string> Owned => _owned.Keys;

    private RedisKey Key(string name) => _redis.Key("live:" + name);

    /// <summary>This origin now holds <paramref name="name"/> (a publish began): written without waiting, overwriting another owner.</summary>
    public void Claim(string name)
    {
        if (!Registers)
        {
            return;
        }

        _owned[name] = 0;
        _cache.TryRemove(name, out _);
        _ = ClaimAsync(name);
    }

    private async Task ClaimAsync(string name)
    {
        try
        {
            var db = (await _redis.ConnectionAsync().ConfigureAwait(false)).GetDatabase();
            await db.StringSetAsync(Key(name), Self!.AbsoluteUri, TimeSpan.FromSeconds(_options.LeaseSeconds)).ConfigureAwait(false);
            Log.Claimed(_logger, name, _options.Node);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The keeper's next renewal re-takes an absent entry.
            Log.RedisFailed(_logger, "claim", name, e.Message);
        }
    }

    /// <summary>Renews this origin's entry for <paramref name="name"/>; false when another origin has taken it over.</summary>
    public async Task<bool> RenewAsync(string name)
    {
        var db = (await _redis.ConnectionAsync().ConfigureAwait(false)).GetDatabase();
        var result = await db.ScriptEvaluateAsync(RenewScript, [Key(name)], [Self!.AbsoluteUri, _options.LeaseSeconds]).ConfigureAwait(false);
        return (int)result == 1;
    }

    /// <summary>This origin no longer holds <paramref name="name"/>: its entry goes (if still its own).</summary>
    public async Task ReleaseAsync(string name)
    {
        _owned.TryRemove(name, out _);
        try
        {
            var db = (await _redis.ConnectionAsync().ConfigureAwait(false)).GetDatabase();
            await db.ScriptEvaluateAsync(ReleaseScript, [Key(name)], [Self!.AbsoluteUri]).ConfigureAwait(false);
            Log.Released(_logger, name, _options.Node);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The entry expires within the lease anyway.
            Log.RedisFailed(_logger, "release", name, e.Message);
        }
    }

    /// <summary>Forgets a name whose entry another origin took over (its session here is ending).</summary>
    public void Forget(string name) => _owned.TryRemove(name, out _);

    /// <summary>
    /// The origin <paramref name="name"/> is live on, when that is another node: null when the directory is off, the name is
    /// not in it, it is this origin's own, or Redis does not answer (the caller then serves what it holds, or its upstream).
    /// </summary>
    public ValueTask<Uri?> OwnerAsync(string name)
    {
        if (!_redis.Enabled)
        {
            return ValueTask.FromResult<Uri?>(null);
        }

        var now = _time.GetTimestamp();
        if (_cache.TryGetValue(name, out var cached) && now < cached.Until)
        {
            return ValueTask.FromResult(cached.Owner);
        }

        return LookUpAsync(name, now);
    }

    private async ValueTask<Uri?> LookUpAsync(string name, long now)
    {
        Uri? owner = null;
        try
        {
            var db = (await _redis.ConnectionAsync().ConfigureAwait(false)).GetDatabase();
            var value = (string?)await db.StringGetAsync(Key(name)).ConfigureAwait(false);
            if (value is not null && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri != Self)
            {
                // The same URL object for as long as the answer holds: the cached path allocates nothing.
                owner = _cache.TryGetValue(name, out var previous) && previous.Owner == uri ? previous.Owner : uri;
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Log.RedisFailed(_logger, "lookup", name, e.Message);
        }

        if (_cache.Count >= MaxCachedNames)
        {
            _cache.Clear();
        }

        _cache[name] = new Lookup(owner, now + _cacheTicks);
        return owner;
    }

    private readonly record struct Lookup(Uri? Owner, long Until);

    private static partial class Log
    {
        [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "Cluster: stream {Name} registered to node {Node}")]
        public static partial void Claimed(ILogger logger, string name, string node);

        [LoggerMessage(EventId = 7011, Level = LogLevel.Information, Message = "Cluster: stream {Name} released by node {Node}")]
        public static partial void Released(ILogger logger, string name, string node);

        [LoggerMessage(EventId = 7012, Level = LogLevel.Warning, Message = "Cluster: stream directory {Operation} of {Name} failed: {Error}")]
        public static partial void RedisFailed(ILogger logger, string operation, string name, string error);
    }
}
