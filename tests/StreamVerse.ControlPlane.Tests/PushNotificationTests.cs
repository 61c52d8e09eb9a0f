using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Web Push end to end: a device registered through the API receives a notification that an implementation nobody here
/// wrote decrypts (RFC 8291 aes128gcm, the <c>http_ece</c> package) with a VAPID JWT it verifies (RFC 8292); 410 removes
/// the device; 429 is retried no sooner than Retry-After; bad subscriptions are refused by field.
/// </summary>
public abstract class PushNotificationTests(NotificationsApp app)
{
    private async Task<string> RegisterAsync(Persona who, PushReceiver receiver, string name) =>
        (await app.JsonAsync(HttpMethod.Post, "api/v1/me/push-subscriptions", who.AccessToken,
            new { endpoint = receiver.Endpoint(name), expirationTime = (long?)null, keys = new { p256dh = receiver.P256dh, auth = receiver.Auth } }, HttpStatusCode.Created))
        .GetProperty("id").GetString()!;

    /// <summary>A fan subscribed to a new channel, with a device at <c>/push/{name}</c>; then a video published there.</summary>
    private async Task<(Persona Fan, string Video, string Subscription)> PublishToDeviceAsync(PushReceiver receiver, string name)
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var fan = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/subscription", fan.AccessToken);
        var subscription = await RegisterAsync(fan, receiver, name);
        var video = await NotificationTests.PublishAsync(app, owner, channel, "Pushed <video> “one”");
        return (fan, video, subscription);
    }

    private async Task<long> CountAsync(string sql, string id)
    {
        await using var db = await app.Get<Database>().OpenAsync(default);
        return await db.ScalarAsync<long>(sql, [("id", id)], default);
    }

    [Fact]
    public async Task A_push_is_decrypted_and_its_VAPID_signature_verified_by_an_independent_implementation()
    {
        using var receiver = await PushReceiver.StartAsync();
        var vapid = (await app.JsonAsync(HttpMethod.Get, "api/v1/push/vapid-public-key")).GetProperty("publicKey").GetString()!;
        Assert.Equal(65, Convert.FromBase64String(vapid.Replace('-', '+').Replace('_', '/') + "=").Length);
        Assert.True(File.Exists(Path.Combine(app.DataDir, "keys", "vapid.key")));

        var name = "ok-" + Guid.NewGuid().ToString("N")[..8];
        var (_, video, _) = await PublishToDeviceAsync(receiver, name);
        var push = Assert.Single(await receiver.WaitForAsync(name));
        Assert.Equal(201, push.GetProperty("status").GetInt32());
        Assert.Equal(("aes128gcm", "86400", "normal"), (push.GetProperty("encoding").GetString(), push.GetProperty("ttl").GetString(), push.GetProperty("urgency").GetString()));
        var jwt = push.GetProperty("vapid");
        Assert.True(jwt.GetProperty("valid").GetBoolean(), jwt.GetRawText());
        Assert.Equal((vapid, $"http://127.0.0.1:{receiver.Port}", "mailto:ops@test.invalid"),
            (jwt.GetProperty("k").GetString(), jwt.GetProperty("aud").GetString(), jwt.GetProperty("sub").GetString()));
        var payload = push.GetProperty("payload");
        Assert.Equal(("new-video", video, "Pushed <video> “one”"),
            (payload.GetProperty("kind").GetString(), payload.GetProperty("videoId").GetString(), payload.GetProperty("title").GetString()));
    }

    [Fact]
    public async Task A_gone_subscription_is_deleted_and_a_throttled_one_waits_for_Retry_After()
    {
        using var receiver = await PushReceiver.StartAsync();
        var gone = "gone-" + Guid.NewGuid().ToString("N")[..8];
        var (_, _, goneId) = await PublishToDeviceAsync(receiver, gone);
        await receiver.WaitForAsync(gone);
        for (var i = 0; await CountAsync("SELECT COUNT(*) FROM push_subscriptions WHERE id = @id", goneId) > 0; i++)
        {
            Assert.True(i < 600, "the subscription the push service called gone is still there");
            await Task.Delay(50);
        }

        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM push_deliveries WHERE subscription_id = @id", goneId));

        var busy = "busy-" + Guid.NewGuid().ToString("N")[..8];
        var (_, video, busyId) = await PublishToDeviceAsync(receiver, busy);
        var both = await receiver.WaitForAsync(busy, 2);
        Assert.Equal((429, 201), (both[0].GetProperty("status").GetInt32(), both[1].GetProperty("status").GetInt32()));
        Assert.True(both[1].GetProperty("at").GetInt64() - both[0].GetProperty("at").GetInt64() >= 2000, "retried before Retry-After: 2 had passed");
        Assert.Equal(video, both[1].GetProperty("payload").GetProperty("videoId").GetString());
        for (var i = 0; await CountAsync("SELECT COUNT(*) FROM push_deliveries WHERE subscription_id = @id", busyId) > 0; i++)
        {
            Assert.True(i < 600, "the delivered push is still pending");
            await Task.Delay(50);
        }

        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM push_subscriptions WHERE id = @id", busyId));
        Assert.Equal(2, receiver.To(busy).Count);
    }

    [Fact]
    public async Task Bad_push_subscriptions_are_refused_by_field_and_delete_is_idempotent()
    {
        var who = await app.NewUserAsync();
        var p256dh = Convert.ToBase64String(System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256)
            .ExportParameters(false) is var p ? [0x04, .. p.Q.X!, .. p.Q.Y!] : []).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var auth = "AAAAAAAAAAAAAAAAAAAAAA";
        async Task<JsonElement> Refused(object body) =>
            (await app.JsonAsync(HttpMethod.Post, "api/v1/me/push-subscriptions", who.AccessToken, body, HttpStatusCode.BadRequest)).GetProperty("errors");

        Assert.True((await Refused(new { endpoint = "http://push.example.com/x", keys = new { p256dh, auth } })).TryGetProperty("endpoint", out _));
        Assert.True((await Refused(new { endpoint = "https://user:pw@push.example.com/x", keys = new { p256dh, auth } })).TryGetProperty("endpoint", out _));
        Assert.True((await Refused(new { endpoint = "not a url", keys = new { p256dh, auth } })).TryGetProperty("endpoint", out _));
        var errors = await Refused(new { endpoint = "https://push.example.com/x", keys = new { p256dh = "BAAA", auth = "short" } });
        Assert.True(errors.TryGetProperty("keys.p256dh", out _) && errors.TryGetProperty("keys.auth", out _));
        // 65 bytes starting 0x04 but not a point on P-256.
        var offCurve = Convert.ToBase64String([0x04, .. new byte[64]]).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.True((await Refused(new { endpoint = "https://push.example.com/x", keys = new { p256dh = offCurve, auth } })).TryGetProperty("keys.p256dh", out _));

        var endpoint = "https://push.example.com/send/" + Guid.NewGuid().ToString("N");
        var created = await app.JsonAsync(HttpMethod.Post, "api/v1/me/push-subscriptions", who.AccessToken, new { endpoint, keys = new { p256dh, auth } }, HttpStatusCode.Created);
        Assert.Equal(endpoint, created.GetProperty("endpoint").GetString());
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me/push-subscriptions?endpoint=" + Uri.EscapeDataString(endpoint), who.AccessToken, expect: HttpStatusCode.NoContent);
        await app.JsonAsync(HttpMethod.Delete, "api/v1/me/push-subscriptions?endpoint=" + Uri.EscapeDataString(endpoint), who.AccessToken, expect: HttpStatusCode.NoContent);
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM push_subscriptions WHERE endpoint = @id", endpoint));
        Assert.True((await app.JsonAsync(HttpMethod.Delete, "api/v1/me/push-subscriptions", who.AccessToken, expect: HttpStatusCode.BadRequest))
            .GetProperty("errors").TryGetProperty("endpoint", out _));
    }
}

[Collection("notifications-sqlite")]
public sealed class PushNotificationTestsSqlite(NotificationsSqliteApp app) : PushNotificationTests(app);

[Collection("notifications-postgres")]
public sealed class PushNotificationTestsPostgres(NotificationsPostgresApp app) : PushNotificationTests(app);
