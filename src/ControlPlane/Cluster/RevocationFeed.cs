using System.Globalization;
using StackExchange.Redis;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane.Cluster;

/// <summary>
/// Revocations pushed between the daemons of a cluster over Redis pub/sub, so a session signed out on node A stops on node B
/// at once rather than at B's next <see cref="ControlPlaneCacheRefresher"/> pass (which stays: it is the record, and makes good
/// any message lost while Redis was away). Messages are <c>s {sessionId}</c> (a session revoked), <c>v {videoId} {unixMs}</c>
/// and <c>u {viewerId} {unixMs}</c> (playback tokens issued before that instant are void). They carry ids only, never a token.
/// </summary>
/// <remarks>
/// A message is sent when the revoking process applies it to its own memory, which is before its transaction commits (the
/// same order as the local apply, <see cref="Sessions"/>): a revocation whose transaction then rolls back refuses a token
/// early on every node (its client refreshes), never lets a revoked one through.
/// </remarks>
internal sealed partial class RevocationFeed(
    ClusterRedis redis,
    SessionRevocations sessions,
    PlaybackRevocations playback,
    AccessTokens accessTokens,
    TimeProvider time,
    ILogger<RevocationFeed> logger) : BackgroundService
{
    public const string Channel = "revocations";

    public static string SessionMessage(string sessionId) => "s " + sessionId;

    public static string PlaybackMessage(bool video, string subjectId, long unixMilliseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{(video ? 'v' : 'u')} {subjectId} {unixMilliseconds}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!redis.Enabled)
        {
            return;
        }

        // The multiplexer restores the subscription itself after a reconnect; only the first one may need retrying.
        for (var delay = TimeSpan.FromSeconds(1); !stoppingToken.IsCancellationRequested; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerMinute)))
        {
            try
            {
                var connection = await redis.ConnectionAsync().ConfigureAwait(false);
                await connection.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Channel), (_, message) => Apply(message)).ConfigureAwait(false);
                Log.Subscribed(logger);
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Log.SubscribeFailed(logger, e.Message);
            }

            try
            {
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal void Apply(RedisValue message)
    {
        var text = (string?)message;
        if (text is null || text.Length < 3 || text[1] != ' ')
        {
            return;
        }

        var rest = text.AsSpan(2);
        if (text[0] == 's')
        {
            sessions.Revoke(rest.ToString(), time.GetUtcNow() + accessTokens.Lifetime + TimeSpan.FromMinutes(1));
            return;
        }

        var space = rest.LastIndexOf(' ');
        if (text[0] is 'v' or 'u' && space > 0
            && long.TryParse(rest[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var at))
        {
            playback.Apply(video: text[0] == 'v', rest[..space].ToString(), at);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Cluster: revocations are pushed over Redis")]
        public static partial void Subscribed(ILogger logger);

        [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Cluster: subscribing to revocations on Redis failed ({Error}); the database poll still applies them; retrying")]
        public static partial void SubscribeFailed(ILogger logger, string error);
    }
}
