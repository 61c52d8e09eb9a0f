using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>
/// Sends the pending Web Push deliveries (RFC 8030 §5): an encrypted body (<see cref="WebPushEncryption"/>), VAPID
/// authorization, <c>TTL</c> and <c>Urgency</c>. The push service's answer decides (RFC 8030 §5-6, RFC 8292):
/// 2xx sent; 404/410 the subscription is gone and is deleted; 429 wait as long as <c>Retry-After</c> says (every
/// delivery to that device); another 4xx is permanent (dropped, logged); 5xx or a network error is retried with a
/// doubling backoff up to <see cref="NotificationOptions.PushMaxAttempts"/>. Endpoints are never logged (they are
/// bearer capabilities). Event ids 6120-6139.
/// </summary>
internal sealed partial class PushSender : BackgroundService
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(1);

    private readonly PushSubscriptionStore _store;
    private readonly VapidKeys _keys;
    private readonly NotificationWake _wake;
    private readonly NotificationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly string _owner = "push:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public PushSender(PushSubscriptionStore store, VapidKeys keys, NotificationWake wake, IOptions<NotificationOptions> options, TimeProvider time, ILogger<PushSender> logger)
    {
        (_store, _keys, _wake, _options, _time, _logger) = (store, keys, wake, options.Value, time, logger);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                var batch = await _store.ClaimAsync(_owner, 20, TimeSpan.FromMinutes(2), stoppingToken).ConfigureAwait(false);
                foreach (var delivery in batch)
                {
                    await SendAsync(delivery, stoppingToken).ConfigureAwait(false);
                }

                full = batch.Count == 20;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(_logger, e.Message);
            }

            if (full)
            {
                continue;
            }

            try
            {
                await _wake.Push.WaitAsync(_options.PollInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task SendAsync(PushDelivery delivery, CancellationToken cancellationToken)
    {
        var endpoint = new Uri(delivery.Endpoint);
        HttpStatusCode status;
        RetryConditionHeaderValue? retryAfter;
        try
        {
            var plaintext = JsonSerializer.SerializeToUtf8Bytes(delivery.Payload, ControlPlaneJsonContext.Default.PushPayload);
            var body = WebPushEncryption.Encrypt(plaintext, Base64Url.DecodeFromChars(delivery.P256dh), Base64Url.DecodeFromChars(delivery.Auth));
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Content.Headers.ContentEncoding.Add("aes128gcm");
            request.Headers.TryAddWithoutValidation("TTL", ((long)_options.PushTtl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("Urgency", delivery.Payload.Kind is NotificationKind.ChannelLive ? "high" : "normal");
            request.Headers.TryAddWithoutValidation("Authorization", _keys.Authorization(endpoint, _options.VapidSubject, _time.GetUtcNow()));
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            (status, retryAfter) = (response.StatusCode, response.Headers.RetryAfter);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            await RetryAsync(delivery, "network: " + e.GetType().Name, cancellationToken).ConfigureAwait(false);
            return;
        }

        var code = (int)status;
        if (code is >= 200 and < 300)
        {
            await _store.DoneAsync(delivery.Id, cancellationToken).ConfigureAwait(false);
            Log.Sent(_logger, delivery.Id, delivery.SubscriptionId);
        }
        else if (status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            await _store.ForgetAsync(delivery.SubscriptionId, cancellationToken).ConfigureAwait(false);
            Log.Gone(_logger, delivery.SubscriptionId, code);
        }
        else if (status == HttpStatusCode.TooManyRequests)
        {
            var now = _time.GetUtcNow();
            var wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - now : DefaultRetryAfter);
            wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxRetryAfter ? MaxRetryAfter : wait;
            await _store.LaterAsync(delivery, now + wait, "429 Too Many Requests", wholeDevice: true, cancellationToken).ConfigureAwait(false);
            Log.Throttled(_logger, delivery.SubscriptionId, wait);
        }
        else if (code is >= 400 and < 500)
        {
            await _store.DoneAsync(delivery.Id, cancellationToken).ConfigureAwait(false);
            Log.Refused(_logger, delivery.Id, delivery.SubscriptionId, code);
        }
        else
        {
            await RetryAsync(delivery, "HTTP " + code.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RetryAsync(PushDelivery delivery, string error, CancellationToken cancellationToken)
    {
        if (delivery.Attempts >= _options.PushMaxAttempts)
        {
            await _store.DoneAsync(delivery.Id, cancellationToken).ConfigureAwait(false);
            Log.GaveUp(_logger, delivery.Id, delivery.SubscriptionId, delivery.Attempts, error);
            return;
        }

        var delay = TimeSpan.FromSeconds(Math.Min(3600, 30 * (1L << Math.Clamp(delivery.Attempts - 1, 0, 20))));
        await _store.LaterAsync(delivery, _time.GetUtcNow() + delay, error, wholeDevice: false, cancellationToken).ConfigureAwait(false);
        Log.Retry(_logger, delivery.Id, delivery.SubscriptionId, delivery.Attempts, error);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6120, Level = LogLevel.Debug, Message = "Push delivery {Id} to subscription {SubscriptionId} accepted")]
        public static partial void Sent(ILogger logger, long id, string subscriptionId);

        [LoggerMessage(EventId = 6121, Level = LogLevel.Information, Message = "Push subscription {SubscriptionId} is gone (HTTP {Status}); deleted")]
        public static partial void Gone(ILogger logger, string subscriptionId, int status);

        [LoggerMessage(EventId = 6122, Level = LogLevel.Information, Message = "Push service throttles subscription {SubscriptionId}: waiting {Wait} (Retry-After)")]
        public static partial void Throttled(ILogger logger, string subscriptionId, TimeSpan wait);

        [LoggerMessage(EventId = 6123, Level = LogLevel.Warning, Message = "Push delivery {Id} to subscription {SubscriptionId} refused (HTTP {Status}); dropped")]
        public static partial void Refused(ILogger logger, long id, string subscriptionId, int status);

        [LoggerMessage(EventId = 6124, Level = LogLevel.Warning, Message = "Push delivery {Id} to subscription {SubscriptionId} given up after attempt {Attempt}: {Error}")]
        public static partial void GaveUp(ILogger logger, long id, string subscriptionId, int attempt, string error);

        [LoggerMessage(EventId = 6125, Level = LogLevel.Information, Message = "Push delivery {Id} to subscription {SubscriptionId} attempt {Attempt} failed, will retry: {Error}")]
        public static partial void Retry(ILogger logger, long id, string subscriptionId, int attempt, string error);

        [LoggerMessage(EventId = 6126, Level = LogLevel.Warning, Message = "Push sender failed (retrying): {Error}")]
        public static partial void Error(ILogger logger, string error);
    }
}
