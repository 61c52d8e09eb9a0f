using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// Keeps the edge's cache in step with the origin's refusals: polls the origin's invalidation feed
/// (<see cref="EdgeInvalidations"/>, every <see cref="EdgeOptions.InvalidationPollSeconds"/>) and drops every object
/// cached for each video it lists, holding the video for the feed's <c>holdSeconds</c> so that an origin which has not
/// yet learned the change cannot refill the cache. Pull, from a cursor kept in memory: an edge that could not reach the
/// feed for a while applies what it missed when it can again; one the feed no longer covers, or a restarted one (whose
/// cache starts empty anyway), is told to reset and drops everything.
/// </summary>
internal sealed partial class EdgeInvalidationFeed : BackgroundService
{
    private const string KeyName = "StreamVerse:ControlPlane:Playback:SigningKey";

    private readonly EdgeCache _cache;
    private readonly EdgeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EdgeInvalidationFeed> _log;
    private readonly string? _authorization;
    private readonly Uri _feed;
    private readonly HttpClient _http;
    private long? _cursor;
    private string? _failing;

    public EdgeInvalidationFeed(EdgeCache cache, IOptions<EdgeOptions> options, IConfiguration configuration, TimeProvider time, ILogger<EdgeInvalidationFeed> log)
    {
        _cache = cache;
        _options = options.Value;
        _time = time;
        _log = log;
        var key = configuration[KeyName];
        _authorization = string.IsNullOrEmpty(key)
            ? null
            : EdgeInvalidations.Scheme + " " + EdgeInvalidations.Credential(KeyMaterial.LoadOrCreate(key, KeyName, path: ""));
        _feed = _options.InvalidationFeedUri;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
        })
        {
            Timeout = TimeSpan.FromSeconds(Math.Max(5, _options.UpstreamTimeoutSeconds)),
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_authorization is null)
        {
            Log.NoKey(_log, KeyName);
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.InvalidationPollSeconds), _time);
        do
        {
            try
            {
                // Pages follow one another at once; then wait for the next tick.
                while (await PollAsync(stoppingToken).ConfigureAwait(false))
                {
                }

                if (_failing is not null)
                {
                    _failing = null;
                    Log.FeedBack(_log, _feed);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var problem = e is FeedRefused refused ? refused.Message : e.GetType().Name + ": " + e.Message;
                EdgeMetrics.FeedPolled(e is FeedRefused ? "refused" : "error");
                if (_failing != problem)
                {
                    // Logged when the failure changes, not on every poll.
                    _failing = problem;
                    Log.FeedFailed(_log, _feed, problem);
                }
            }
        }
        while (await TickAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async ValueTask<bool> TickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One page of the feed, applied; true if another page follows at once.</summary>
    private async Task<bool> PollAsync(CancellationToken cancellationToken)
    {
        var uri = _cursor is { } after ? new Uri(_feed + "?after=" + after.ToString(CultureInfo.InvariantCulture)) : _feed;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.TryAddWithoutValidation("Authorization", _authorization);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized)
        {
            throw new FeedRefused($"the origin refused this edge's credential: {KeyName} must be the origin's");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new FeedRefused(string.Create(CultureInfo.InvariantCulture, $"the origin answered {(int)response.StatusCode}"));
        }

        var page = await response.Content.ReadFromJsonAsync(ControlPlaneJsonContext.Default.EdgeInvalidationPage, cancellationToken).ConfigureAwait(false)
            ?? throw new FeedRefused("the origin's feed page was empty");
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var holdMs = Math.Clamp(page.HoldSeconds, 0, 3600) * 1000L;
        if (page.Reset)
        {
            var dropped = _cache.PurgeAll(now);
            EdgeMetrics.PurgedObjects(dropped);
            Log.Reset(_log, _cursor?.ToString(CultureInfo.InvariantCulture) ?? "none", page.Last, dropped);
        }

        foreach (var item in page.Items)
        {
            var dropped = _cache.Purge(item.VideoId, now, holdMs);
            EdgeMetrics.PurgedObjects(dropped);
            Log.Purged(_log, item.VideoId, dropped, item.Seq);
        }

        EdgeMetrics.FeedPolled(page.Reset ? "reset" : "ok");
        _cursor = page.Last;
        return page.More;
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private sealed class FeedRefused(string message) : Exception(message);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1620, Level = LogLevel.Warning,
            Message = "Edge: no {KeyName}: this edge cannot read its origin's invalidations, so a video made private or deleted leaves its cache only when its objects expire (StreamVerse:Delivery:PublicMediaMaxAgeSeconds at the origin)")]
        public static partial void NoKey(ILogger logger, string keyName);

        [LoggerMessage(EventId = 1621, Level = LogLevel.Warning, Message = "Edge: invalidation feed {Feed} failed: {Problem}; retrying")]
        public static partial void FeedFailed(ILogger logger, Uri feed, string problem);

        [LoggerMessage(EventId = 1622, Level = LogLevel.Information, Message = "Edge: invalidation feed {Feed} answers again")]
        public static partial void FeedBack(ILogger logger, Uri feed);

        [LoggerMessage(EventId = 1623, Level = LogLevel.Information, Message = "Edge: invalidation feed reset (cursor {Cursor}, feed at {Last}): dropped all {Count} cached objects")]
        public static partial void Reset(ILogger logger, string cursor, long last, int count);

        [LoggerMessage(EventId = 1624, Level = LogLevel.Information, Message = "Edge: video {VideoId} invalidated (feed {Seq}): dropped {Count} cached objects")]
        public static partial void Purged(ILogger logger, string videoId, int count, long seq);
    }
}
