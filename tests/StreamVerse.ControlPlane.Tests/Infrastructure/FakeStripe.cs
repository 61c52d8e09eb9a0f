using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// A tiny Stripe on loopback for exactly the endpoints the daemon calls, in Stripe's documented wire format: requests are
/// <c>application/x-www-form-urlencoded</c> with bracketed keys (<c>line_items[0][price]</c>), answers are JSON objects with
/// an <c>object</c> field, errors are <c>{"error":{...}}</c>, and an <c>Idempotency-Key</c> replays the first answer.
/// Subscriptions are the tests' to set (<see cref="PutSubscription"/>); GET answers the current one, as Stripe does for an
/// event that turns out older than the state. Events are built and signed the way Stripe signs them
/// (<c>Stripe-Signature: t=..,v1=HMAC-SHA256(secret, "t.payload")</c>), for Stripe.net to verify in the daemon.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    public const string SecretKey = "sk_test_fake";
    public const string WebhookSecret = "whsec_test_fake_secret";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _idempotent = new();
    private readonly ConcurrentDictionary<string, JsonObject> _subscriptions = new();
    private int _counter;

    private FakeStripe(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Every request: (method, path, form fields).</summary>
    public ConcurrentQueue<(string Method, string Path, Dictionary<string, string> Form)> Requests { get; } = new();

    public static FakeStripe Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeStripe(app);
        app.Run(fake.HandleAsync);
        app.StartAsync().GetAwaiter().GetResult();
        fake.BaseUrl = app.Urls.First();
        return fake;
    }

    public string NewId(string prefix) => $"{prefix}_{Interlocked.Increment(ref _counter):D6}{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The subscription Stripe now holds (what GET /v1/subscriptions/{id} answers).</summary>
    public JsonObject PutSubscription(string id, string customer, IReadOnlyDictionary<string, string> metadata, string status, DateTimeOffset periodEnd,
        bool cancelAtPeriodEnd = false)
    {
        var meta = new JsonObject();
        foreach (var (k, v) in metadata)
        {
            meta[k] = v;
        }

        var sub = new JsonObject
        {
            ["id"] = id, ["object"] = "subscription", ["customer"] = customer, ["status"] = status, ["cancel_at_period_end"] = cancelAtPeriodEnd,
            ["created"] = periodEnd.AddDays(-30).ToUnixTimeSeconds(), ["currency"] = "usd", ["livemode"] = false, ["metadata"] = meta,
            ["items"] = new JsonObject
            {
                ["object"] = "list", ["has_more"] = false, ["url"] = "/v1/subscription_items?subscription=" + id,
                ["data"] = new JsonArray(new JsonObject
                {
                    ["id"] = "si_" + id, ["object"] = "subscription_item", ["current_period_start"] = periodEnd.AddDays(-30).ToUnixTimeSeconds(),
                    ["current_period_end"] = periodEnd.ToUnixTimeSeconds(), ["quantity"] = 1,
                }),
            },
        };
        _subscriptions[id] = sub;
        return (JsonObject)sub.DeepClone();
    }

    /// <summary>An event as Stripe sends it, with the SDK's API version (Stripe.net refuses a mismatch by default).</summary>
    public static string Event(string id, string type, JsonObject dataObject, DateTimeOffset created) => new JsonObject
    {
        ["id"] = id, ["object"] = "event", ["api_version"] = Stripe.StripeConfiguration.ApiVersion, ["created"] = created.ToUnixTimeSeconds(), ["livemode"] = false,
        ["pending_webhooks"] = 1, ["type"] = type, ["request"] = new JsonObject { ["id"] = null, ["idempotency_key"] = null },
        ["data"] = new JsonObject { ["object"] = dataObject.DeepClone() },
    }.ToJsonString();

    /// <summary>Stripe's signature scheme: <c>t=timestamp,v1=hex(HMAC-SHA256(secret, "{t}.{payload}"))</c>.</summary>
    public static string Sign(string payload, DateTimeOffset at, string secret = WebhookSecret)
    {
        var t = at.ToUnixTimeSeconds();
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{payload}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public static JsonObject Invoice(string id, string customer, string subscription, long amountPaid, string paymentIntent, IReadOnlyDictionary<string, string> metadata)
    {
        var meta = new JsonObject();
        foreach (var (k, v) in metadata)
        {
            meta[k] = v;
        }

        return new JsonObject
        {
            ["id"] = id, ["object"] = "invoice", ["customer"] = customer, ["amount_paid"] = amountPaid, ["amount_due"] = amountPaid, ["currency"] = "usd",
            ["status"] = "paid", ["livemode"] = false,
            ["parent"] = new JsonObject
            {
                ["type"] = "subscription_details", ["subscription_details"] = new JsonObject { ["subscription"] = subscription, ["metadata"] = meta },
            },
            ["payments"] = new JsonObject
            {
                ["object"] = "list", ["has_more"] = false, ["url"] = "/v1/invoice_payments",
                ["data"] = new JsonArray(new JsonObject
                {
                    ["id"] = "inpay_" + id, ["object"] = "invoice_payment", ["amount_paid"] = amountPaid, ["currency"] = "usd", ["status"] = "paid",
                    ["payment"] = new JsonObject { ["type"] = "payment_intent", ["payment_intent"] = paymentIntent },
                }),
            },
        };
    }

    private async Task HandleAsync(HttpContext context)
    {
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        if (context.Request.HasFormContentType)
        {
            foreach (var (k, v) in await context.Request.ReadFormAsync())
            {
                form[k] = v.ToString();
            }
        }

        var path = context.Request.Path.Value ?? "";
        Requests.Enqueue((context.Request.Method, path, form));
        if (context.Request.Headers.Authorization.ToString() != "Bearer " + SecretKey)
        {
            await ErrorAsync(context, 401, "authentication_error", "Invalid API Key provided.");
            return;
        }

        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 0 && _idempotent.TryGetValue(context.Request.Method + path + key, out var replay))
        {
            await WriteAsync(context, replay);
            return;
        }

        JsonObject? answer = (context.Request.Method, path) switch
        {
            ("POST", "/v1/customers") => new JsonObject { ["id"] = NewId("cus"), ["object"] = "customer", ["email"] = form.GetValueOrDefault("email"), ["livemode"] = false },
            ("POST", "/v1/prices") => new JsonObject
            {
                ["id"] = NewId("price"), ["object"] = "price", ["currency"] = form.GetValueOrDefault("currency"), ["unit_amount"] = long.Parse(form["unit_amount"]),
                ["type"] = "recurring", ["active"] = true, ["livemode"] = false,
                ["recurring"] = new JsonObject { ["interval"] = form.GetValueOrDefault("recurring[interval]"), ["interval_count"] = 1 },
            },
            ("POST", "/v1/checkout/sessions") => Session(form),
            ("POST", "/v1/billing_portal/sessions") => new JsonObject
            {
                ["id"] = NewId("bps"), ["object"] = "billing_portal.session", ["customer"] = form.GetValueOrDefault("customer"),
                ["url"] = "https://billing.stripe.test/p/session/" + NewId("x"), ["return_url"] = form.GetValueOrDefault("return_url"), ["livemode"] = false,
            },
            ("POST", "/v1/refunds") => new JsonObject
            {
                ["id"] = NewId("re"), ["object"] = "refund", ["amount"] = long.Parse(form["amount"]), ["currency"] = "usd", ["status"] = "succeeded",
                ["payment_intent"] = form.GetValueOrDefault("payment_intent"),
            },
            ("POST", "/v1/transfers") => new JsonObject
            {
                ["id"] = NewId("tr"), ["object"] = "transfer", ["amount"] = long.Parse(form["amount"]), ["currency"] = form.GetValueOrDefault("currency"),
                ["destination"] = form.GetValueOrDefault("destination"), ["transfer_group"] = form.GetValueOrDefault("transfer_group"), ["livemode"] = false,
            },
            ("GET", var p) when p.StartsWith("/v1/subscriptions/", StringComparison.Ordinal) && _subscriptions.TryGetValue(p["/v1/subscriptions/".Length..], out var sub) =>
                (JsonObject)sub.DeepClone(),
            _ => null,
        };
        if (answer is null)
        {
            await ErrorAsync(context, 404, "invalid_request_error", $"Unrecognized request URL ({context.Request.Method}: {path}).");
            return;
        }

        var json = answer.ToJsonString();
        if (key.Length > 0)
        {
            _idempotent[context.Request.Method + path + key] = json;
        }

        await WriteAsync(context, json);
    }

    private JsonObject Session(Dictionary<string, string> form)
    {
        var meta = new JsonObject();
        foreach (var (k, v) in form.Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal)))
        {
            meta[k["metadata[".Length..^1]] = v;
        }

        var id = NewId("cs_test");
        return new JsonObject
        {
            ["id"] = id, ["object"] = "checkout.session", ["mode"] = form.GetValueOrDefault("mode"), ["customer"] = form.GetValueOrDefault("customer"),
            ["client_reference_id"] = form.GetValueOrDefault("client_reference_id"), ["status"] = "open", ["payment_status"] = "unpaid",
            ["url"] = "https://checkout.stripe.test/c/pay/" + id, ["success_url"] = form.GetValueOrDefault("success_url"), ["metadata"] = meta, ["livemode"] = false,
        };
    }

    private static async Task ErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        await WriteAsync(context, new JsonObject { ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }.ToJsonString());
    }

    private static async Task WriteAsync(HttpContext context, string json)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
