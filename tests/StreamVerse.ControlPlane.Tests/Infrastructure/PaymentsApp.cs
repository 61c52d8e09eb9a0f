using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using StreamVerse.ControlPlane.Ledger;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The daemon with Stripe pointed at a <see cref="FakeStripe"/> on loopback, a clock the tests move forward, a fast payment
/// worker poll, and premium watch time the tests seed (standing in for analytics).
/// </summary>
public abstract class PaymentsApp : ControlPlaneApp
{
    public FakeStripe Stripe { get; } = FakeStripe.Start();

    internal ShiftableTime Clock { get; } = new();

    internal SeededWatchTime WatchTime { get; } = new();

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Payments:Stripe:SecretKey", FakeStripe.SecretKey,
        "--StreamVerse:ControlPlane:Payments:Stripe:WebhookSecret", FakeStripe.WebhookSecret,
        "--StreamVerse:ControlPlane:Payments:Stripe:ApiBase", Stripe.BaseUrl,
        "--StreamVerse:ControlPlane:Payments:PollInterval", "00:00:00.2",
        "--StreamVerse:ControlPlane:Payments:PayoutMinimum", "300",
    ];

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton<IPremiumWatchTime>(WatchTime);
    }

    protected override async Task AfterDisposeAsync() => await Stripe.DisposeAsync();

    /// <summary>Posts a webhook body with an optional Stripe-Signature header, as Stripe does.</summary>
    public async Task<HttpResponseMessage> WebhookAsync(string payload, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/webhooks/stripe") { Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>Signs (now, by the daemon's clock) and delivers an event; returns its id once the worker applied it.</summary>
    public async Task<string> DeliverAsync(string type, JsonObject dataObject, DateTimeOffset? created = null)
    {
        var id = Stripe.NewId("evt");
        var payload = FakeStripe.Event(id, type, dataObject, created ?? Clock.GetUtcNow());
        using (var r = await WebhookAsync(payload, FakeStripe.Sign(payload, Clock.GetUtcNow())))
        {
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{type}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }

        await WaitForAsync(async () => await ScalarAsync<long?>("SELECT 1 FROM payment_events WHERE event_id = @id AND done_at IS NOT NULL", ("id", id)) is not null,
            $"event {type} applied");
        return id;
    }

    public async Task<T?> ScalarAsync<T>(string sql, params (string, object?)[] args)
    {
        await using var db = await Get<Data.Database>().OpenAsync(CancellationToken.None);
        return await db.ScalarAsync<T>(sql, args, CancellationToken.None);
    }

    public static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    public static JsonObject Meta(IReadOnlyDictionary<string, string> metadata)
    {
        var o = new JsonObject();
        foreach (var (k, v) in metadata)
        {
            o[k] = v;
        }

        return o;
    }
}

public sealed class PaymentsSqliteApp : PaymentsApp
{
    public override string Provider => "sqlite";
}

public sealed class PaymentsPostgresApp : PaymentsApp
{
    public override string Provider => "postgres";
}

/// <summary>Premium watch time the tests seed per month (analytics' table stands behind the real one).</summary>
internal sealed class SeededWatchTime : IPremiumWatchTime
{
    private readonly ConcurrentDictionary<string, List<(string, long)>> _months = new();

    public void Seed(string month, params (string ChannelId, long Seconds)[] rows) => _months[month] = [.. rows];

    public Task<IReadOnlyList<(string ChannelId, long Seconds)>> ForMonthAsync(DateTimeOffset monthStart, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<(string, long)>>(_months.TryGetValue(RevenueSharing.Month(monthStart), out var rows) ? rows : []);
}
