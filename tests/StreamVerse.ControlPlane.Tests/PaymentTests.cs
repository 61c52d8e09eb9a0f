using CsCheck;
using System.Text.Json.Nodes;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>
/// Payments (issue 22) on both engines, against a fake Stripe: webhooks verified by Stripe.net (nothing unsigned, tampered,
/// stale or duplicated gets in twice), events in any order, the whole buy-play-cancel flow with refunds, disputes, the month
/// close and a statement that adds up.
/// </summary>
public abstract class PaymentTests(PaymentsApp app)
{
    private sealed record Purchase(string Subscription, string Customer, string PaymentIntent, Dictionary<string, string> Meta, string InvoiceEvent = "");

    private async Task<bool> PremiumAsync(Persona who) => (await app.JsonAsync(HttpMethod.Get, "api/v1/me", who.AccessToken)).GetProperty("premium").GetBoolean();

    /// <summary>Checkout through the API, then what Stripe would send once the buyer paid: the completed session and the paid invoice.</summary>
    private async Task<Purchase> BuyPremiumAsync(Persona viewer, long amount = 999)
    {
        var checkout = await app.JsonAsync(HttpMethod.Post, "api/v1/checkout/premium", viewer.AccessToken, new { plan = "monthly" });
        Assert.StartsWith("https://checkout.stripe.test/", checkout.GetProperty("url").GetString());
        var session = app.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("metadata[user_id]") == viewer.Id).Form;
        var meta = new Dictionary<string, string> { ["user_id"] = viewer.Id, ["product"] = "premium" };
        var purchase = new Purchase(app.Stripe.NewId("sub"), session["customer"], app.Stripe.NewId("pi"), meta);
        app.Stripe.PutSubscription(purchase.Subscription, purchase.Customer, meta, "active", app.Clock.GetUtcNow().AddDays(30));
        await app.DeliverAsync("checkout.session.completed", new JsonObject
        {
            ["id"] = checkout.GetProperty("sessionId").GetString(), ["object"] = "checkout.session", ["mode"] = "subscription", ["customer"] = purchase.Customer,
            ["subscription"] = purchase.Subscription, ["status"] = "complete", ["payment_status"] = "paid", ["amount_total"] = amount, ["currency"] = "usd",
            ["client_reference_id"] = viewer.Id, ["metadata"] = PaymentsApp.Meta(meta),
        });
        var paid = await app.DeliverAsync("invoice.paid", FakeStripe.Invoice(app.Stripe.NewId("in"), purchase.Customer, purchase.Subscription, amount, purchase.PaymentIntent, meta));
        return purchase with { InvoiceEvent = paid };
    }

    private async Task<(Persona Owner, string Channel, string Video)> PremiumVideoAsync()
    {
        var owner = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, "premium")).GetProperty("id").GetString()!;
        await using var db = await app.Get<Data.Database>().OpenAsync(CancellationToken.None);
        await db.ExecAsync("UPDATE videos SET duration_seconds = 600, status = 'ready' WHERE id = @id", [("id", video)], CancellationToken.None);
        return (owner, channel, video);
    }

    /// <summary>A token for the video, and the origin's answer to it: 404 admitted (nothing is published), 403 refused.</summary>
    private async Task<HttpStatusCode> PlaysAsync(string video, Persona viewer)
    {
        using var issued = await app.SendAsync(HttpMethod.Post, $"api/v1/videos/{video}/playback-token", viewer.AccessToken, new { });
        if (issued.StatusCode != HttpStatusCode.OK)
        {
            return issued.StatusCode;
        }

        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var r = await app.Http.GetAsync($"vod/t/{token}/{video}/index.m3u8");
        return r.StatusCode;
    }

    /// <summary>What the entry of one event posted to one account (channel: creator accounts).</summary>
    private async Task<long> PostedAsync(string eventId, string account, string? channel = null) =>
        await app.ScalarAsync<long?>(
            "SELECT SUM(l.amount) FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.source_id = @s AND l.account = @a AND (CAST(@ch AS VARCHAR(32)) IS NULL OR l.channel_id = @ch)",
            ("s", "stripe:" + eventId), ("a", account), ("ch", channel)) ?? 0;

    private Task<long?> EventsStoredAsync(string id) => app.ScalarAsync<long?>("SELECT COUNT(*) FROM payment_events WHERE event_id = @id", ("id", id));

    [Fact]
    public async Task Webhooks_accept_nothing_unsigned_tampered_stale_or_foreign_and_store_a_redelivery_once()
    {
        var viewer = await app.NewUserAsync();
        var now = app.Clock.GetUtcNow();
        var sub = app.Stripe.PutSubscription(app.Stripe.NewId("sub"), "cus_none", new Dictionary<string, string> { ["user_id"] = viewer.Id, ["product"] = "premium" },
            "active", now.AddDays(30));
        var id = app.Stripe.NewId("evt");
        var payload = FakeStripe.Event(id, "customer.subscription.created", sub, now);

        var refused = new (string What, string Body, string? Signature)[]
        {
            ("unsigned", payload, null),
            ("empty signature", payload, ""),
            ("signed with another secret", payload, FakeStripe.Sign(payload, now, "whsec_someone_else")),
            ("tampered body", payload.Replace("\"active\"", "\"trialing\"", StringComparison.Ordinal), FakeStripe.Sign(payload, now)),
            ("stale (a replay after the 5 minute tolerance)", payload, FakeStripe.Sign(payload, now.AddSeconds(-301))),
            ("from the future", payload, FakeStripe.Sign(payload, now.AddSeconds(301))),
        };
        foreach (var (what, body, signature) in refused)
        {
            using var r = await app.WebhookAsync(body, signature);
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)r.StatusCode}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(0, await EventsStoredAsync(id));
        Assert.False(await PremiumAsync(viewer));

        // Signed: accepted and applied once; Stripe's redelivery (same event, a new signature) and a replay within the tolerance
        // are acknowledged as duplicates and change nothing.
        using (var r = await app.WebhookAsync(payload, FakeStripe.Sign(payload, now)))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.False((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        }

        foreach (var signature in new[] { FakeStripe.Sign(payload, now.AddSeconds(60)), FakeStripe.Sign(payload, now) })
        {
            using var r = await app.WebhookAsync(payload, signature);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.True((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        }

        Assert.Equal(1, await EventsStoredAsync(id));
        await PaymentsApp.WaitForAsync(() => PremiumAsync(viewer), "premium from the subscription");
    }

    [Fact]
    public async Task An_event_older_than_the_stored_state_is_replaced_by_the_subscription_read_from_stripe()
    {
        var viewer = await app.NewUserAsync();
        var (_, _, video) = await PremiumVideoAsync();
        var purchase = await BuyPremiumAsync(viewer);
        Assert.True(await PremiumAsync(viewer));
        var t = app.Clock.GetUtcNow();

        // Stripe ends the subscription; its "deleted" event (t + 10 s) arrives before an older "updated" one (t + 5 s) that
        // still says active. The older one must not bring access back: Stripe is asked instead, and says canceled.
        var ended = app.Stripe.PutSubscription(purchase.Subscription, purchase.Customer, purchase.Meta, "canceled", t.AddDays(30));
        await app.DeliverAsync("customer.subscription.deleted", ended, t.AddSeconds(10));
        Assert.False(await PremiumAsync(viewer));
        Assert.Equal(HttpStatusCode.Forbidden, await PlaysAsync(video, viewer));

        var stale = (JsonObject)ended.DeepClone();
        stale["status"] = "active";
        var reads = app.Stripe.Requests.Count(r => r.Path == "/v1/subscriptions/" + purchase.Subscription);
        await app.DeliverAsync("customer.subscription.updated", stale, t.AddSeconds(5));
        Assert.False(await PremiumAsync(viewer));
        Assert.Equal(HttpStatusCode.Forbidden, await PlaysAsync(video, viewer));
        Assert.True(app.Stripe.Requests.Count(r => r.Path == "/v1/subscriptions/" + purchase.Subscription) > reads, "the subscription was read again from Stripe");
        Assert.Equal("canceled", await app.ScalarAsync<string>("SELECT status FROM billing_subscriptions WHERE external_id = @id", ("id", purchase.Subscription)));
    }

    [Fact]
    public async Task Buying_premium_plays_premium_videos_until_the_cancelled_period_ends_and_refunds_disputes_and_statements_add_up()
    {
        var (creator, channel, video) = await PremiumVideoAsync();
        var viewer = await app.NewUserAsync();
        var admin = await app.AdminAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await PlaysAsync(video, viewer));

        // Buy: a price created server-side from the configuration (the client named only the plan), then the signed events.
        var purchase = await BuyPremiumAsync(viewer);
        var price = app.Stripe.Requests.Where(r => r.Path == "/v1/prices").Select(r => r.Form).First(f => f["unit_amount"] == "999");
        Assert.Equal(("month", "usd"), (price["recurring[interval]"], price["currency"]));
        var used = app.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("metadata[user_id]") == viewer.Id).Form["line_items[0][price]"];
        Assert.Equal(await app.ScalarAsync<string>("SELECT price_id FROM billing_prices WHERE price_key = 'premium:month:999:usd'"), used);
        Assert.True(await PremiumAsync(viewer));
        Assert.Equal(HttpStatusCode.NotFound, await PlaysAsync(video, viewer));
        var paidMonth = Ledger.RevenueSharing.Month(app.Clock.GetUtcNow());

        // The viewer also tips the creator 5.00.
        var tip = await app.JsonAsync(HttpMethod.Post, "api/v1/checkout/tip", viewer.AccessToken, new { channelId = channel, amount = 500 });
        var tipIntent = app.Stripe.NewId("pi");
        var tipEvent = await app.DeliverAsync("checkout.session.completed", new JsonObject
        {
            ["id"] = tip.GetProperty("sessionId").GetString(), ["object"] = "checkout.session", ["mode"] = "payment", ["customer"] = purchase.Customer,
            ["payment_intent"] = tipIntent, ["status"] = "complete", ["payment_status"] = "paid", ["amount_total"] = 500, ["currency"] = "usd",
            ["metadata"] = PaymentsApp.Meta(new Dictionary<string, string> { ["user_id"] = viewer.Id, ["product"] = "tip", ["channel_id"] = channel }),
        });

        // Cancel in the portal: Stripe keeps the subscription active to the period's end; access stays until then.
        Assert.StartsWith("https://billing.stripe.test/", (await app.JsonAsync(HttpMethod.Post, "api/v1/me/billing-portal", viewer.AccessToken)).GetProperty("url").GetString());
        var cancelled = app.Stripe.PutSubscription(purchase.Subscription, purchase.Customer, purchase.Meta, "active", app.Clock.GetUtcNow().AddDays(30), cancelAtPeriodEnd: true);
        await app.DeliverAsync("customer.subscription.updated", cancelled, app.Clock.GetUtcNow().AddSeconds(1));
        Assert.True(await PremiumAsync(viewer));
        Assert.Equal(HttpStatusCode.NotFound, await PlaysAsync(video, viewer));

        // An admin refunds 3.00 of the Premium payment; Stripe confirms with charge.refunded. The tip is disputed.
        var premiumPayment = (await app.ScalarAsync<string>("SELECT id FROM payments WHERE payment_intent = @pi", ("pi", purchase.PaymentIntent)))!;
        var refund = await app.JsonAsync(HttpMethod.Post, $"api/v1/admin/payments/{premiumPayment}/refund", admin.AccessToken, new { amount = 300 });
        Assert.Equal(300, refund.GetProperty("amount").GetInt64());
        Assert.Equal("300", app.Stripe.Requests.Last(r => r.Path == "/v1/refunds").Form["amount"]);
        var refundEvent = await app.DeliverAsync("charge.refunded", new JsonObject
        {
            ["id"] = app.Stripe.NewId("ch"), ["object"] = "charge", ["amount"] = 999, ["amount_refunded"] = 300, ["currency"] = "usd", ["payment_intent"] = purchase.PaymentIntent,
            ["refunded"] = false, ["paid"] = true, ["status"] = "succeeded",
        });
        var disputeEvent = await app.DeliverAsync("charge.dispute.created", new JsonObject
        {
            ["id"] = app.Stripe.NewId("dp"), ["object"] = "dispute", ["amount"] = 500, ["currency"] = "usd", ["charge"] = app.Stripe.NewId("ch"),
            ["payment_intent"] = tipIntent, ["status"] = "needs_response", ["reason"] = "fraudulent",
        });

        // The ledger: fee = 2.9 % + 30 (rounded half up): 59 on 999, 45 on 500. Premium: 55 % of 940 = 517 into the month's pool.
        // Tip: 80 % of 455 = 364 to the creator, frozen by the dispute. The refund is the platform's; every currency sums to zero.
        Assert.Equal((999L, 59L, -517L, -(999L - 517)), (await PostedAsync(purchase.InvoiceEvent, "clearing:stripe") + await PostedAsync(purchase.InvoiceEvent, "fees:stripe"),
            await PostedAsync(purchase.InvoiceEvent, "fees:stripe"), await PostedAsync(purchase.InvoiceEvent, "platform:premium-pool:" + paidMonth),
            await PostedAsync(purchase.InvoiceEvent, "platform:revenue")));
        Assert.Equal((455L, 45L, -364L, -136L), (await PostedAsync(tipEvent, "clearing:stripe"), await PostedAsync(tipEvent, "fees:stripe"),
            await PostedAsync(tipEvent, "creator:pending", channel), await PostedAsync(tipEvent, "platform:revenue")));
        Assert.Equal((-300L, 300L), (await PostedAsync(refundEvent, "clearing:stripe"), await PostedAsync(refundEvent, "platform:revenue")));
        Assert.Equal((-500L, 500L, 364L, -364L), (await PostedAsync(disputeEvent, "clearing:stripe"), await PostedAsync(disputeEvent, "disputed:stripe"),
            await PostedAsync(disputeEvent, "creator:pending", channel), await PostedAsync(disputeEvent, "creator:frozen", channel)));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM (SELECT currency FROM ledger_lines GROUP BY currency HAVING SUM(amount) <> 0) x"));

        // The period ends: access ends with it (no event needed), and no new token is issued.
        app.Clock.Advance(TimeSpan.FromDays(31));
        (viewer, creator, admin) = (await app.LoginAsync(viewer.Email), await app.LoginAsync(creator.Email), await app.RefreshAdminAsync()); // a month on
        await PaymentsApp.WaitForAsync(async () => !await PremiumAsync(viewer), "premium to end at the period's end");
        Assert.Equal(HttpStatusCode.Forbidden, await PlaysAsync(video, viewer));

        // The month closes: the pool goes to the channels premium viewers watched (here all of it to the creator's).
        app.WatchTime.Seed(paidMonth, (channel, 3600));
        var pool = -(await app.ScalarAsync<long?>("SELECT SUM(amount) FROM ledger_lines WHERE account = @a", ("a", "platform:premium-pool:" + paidMonth)) ?? 0);
        Assert.True(pool >= 517, $"pool {pool}");
        var close = await app.JsonAsync(HttpMethod.Post, $"api/v1/admin/ledger/months/{paidMonth}/close", admin.AccessToken);
        Assert.Equal(1, close.GetProperty("poolsClosed").GetInt32());
        Assert.Equal(0, (await app.JsonAsync(HttpMethod.Post, $"api/v1/admin/ledger/months/{paidMonth}/close", admin.AccessToken)).GetProperty("poolsClosed").GetInt32());
        var closedMonth = Ledger.RevenueSharing.Month(app.Clock.GetUtcNow());

        // Statements add up: the paid month (tip earned, then frozen) and the month of the close (the pool).
        var paid = Single(await app.JsonAsync(HttpMethod.Get, $"api/v1/me/statements/{paidMonth}", creator.AccessToken), channel);
        Assert.Equal((0L, 364L, 0L, 0L, 364L, 0L), (paid.Opening, paid.Earnings, paid.PremiumPool, paid.Refunds, paid.Disputes, paid.Closing));
        var later = Single(await app.JsonAsync(HttpMethod.Get, $"api/v1/me/statements/{closedMonth}", creator.AccessToken), channel);
        Assert.Equal((0L, pool, pool), (later.Opening, later.PremiumPool, later.Closing));
        Assert.Equal(0, await app.ScalarAsync<long?>("SELECT SUM(amount) FROM ledger_lines WHERE account = @a", ("a", "platform:premium-pool:" + paidMonth)));
        foreach (var s in new[] { paid, later })
        {
            Assert.Equal(s.Closing, s.Opening + s.Earnings + s.PremiumPool - s.Refunds - s.Disputes - s.Payouts);
            Assert.Equal(s.Closing, s.Pending + s.Available);
        }

        var csv = await (await app.SendAsync(HttpMethod.Get, $"api/v1/me/statements/{closedMonth}?format=csv", creator.AccessToken)).Content.ReadAsStringAsync();
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("channel_id,channel,currency,opening,earnings,premium_pool,refunds,disputes,payouts,closing,pending,available", lines[0]);
        Assert.Contains(lines, l => l.StartsWith(channel + ",", StringComparison.Ordinal) && l.Split(',')[9] == pool.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var html = await app.SendAsync(HttpMethod.Get, $"api/v1/me/statements/{closedMonth}?format=html", creator.AccessToken);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"<td>{pool}</td>", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another account's statement does not show this channel; the admin report's trial balance is zero.
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/me/statements/{paidMonth}", viewer.AccessToken)).GetProperty("channels").EnumerateArray());
        var report = await app.JsonAsync(HttpMethod.Get, $"api/v1/admin/ledger/reports/{paidMonth}", admin.AccessToken);
        Assert.All(report.GetProperty("trialBalance").EnumerateArray(), t => Assert.Equal(0, t.GetProperty("amount").GetInt64()));
        Assert.Contains(report.GetProperty("accounts").EnumerateArray(), a => a.GetProperty("account").GetString() == "fees:stripe" && a.GetProperty("amount").GetInt64() >= 104);
    }

    private sealed record Line(long Opening, long Earnings, long PremiumPool, long Refunds, long Disputes, long Payouts, long Closing, long Pending, long Available);

    private static Line Single(JsonElement statement, string channel)
    {
        var c = statement.GetProperty("channels").EnumerateArray().Single(ch => ch.GetProperty("channelId").GetString() == channel).GetProperty("currencies")
            .EnumerateArray().Single();
        long L(string n) => c.GetProperty(n).GetInt64();
        return new Line(L("opening"), L("earnings"), L("premiumPool"), L("refunds"), L("disputes"), L("payouts"), L("closing"), L("pending"), L("available"));
    }

    [Fact]
    public async Task A_membership_makes_a_member_of_that_channel_only_and_its_share_is_paid_out_after_the_hold()
    {
        var creator = await app.NewUserAsync("creator");
        var channel = await app.NewChannelAsync(creator);
        var other = await app.NewChannelAsync(creator);
        var viewer = await app.NewUserAsync();
        var tier = await app.JsonAsync(HttpMethod.Post, $"api/v1/channels/{channel}/membership-tiers", creator.AccessToken,
            new { name = "Gold", amount = 500, perks = "badge" }, HttpStatusCode.Created);
        Assert.Equal("usd", tier.GetProperty("currency").GetString());
        Assert.Single((await app.JsonAsync(HttpMethod.Get, $"api/v1/channels/{channel}/membership-tiers")).GetProperty("items").EnumerateArray());

        var checkout = await app.JsonAsync(HttpMethod.Post, "api/v1/checkout/membership", viewer.AccessToken, new { tierId = tier.GetProperty("id").GetString() });
        var session = app.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("metadata[user_id]") == viewer.Id).Form;
        Assert.Equal((channel, "membership"), (session["metadata[channel_id]"], session["metadata[product]"]));
        var price = app.Stripe.Requests.Last(r => r.Path == "/v1/prices").Form; // a new tier: a new price, made now
        Assert.Equal(("500", "month"), (price["unit_amount"], price["recurring[interval]"]));

        var meta = new Dictionary<string, string> { ["user_id"] = viewer.Id, ["product"] = "membership", ["channel_id"] = channel, ["tier_id"] = tier.GetProperty("id").GetString()! };
        var sub = app.Stripe.NewId("sub");
        app.Stripe.PutSubscription(sub, session["customer"], meta, "active", app.Clock.GetUtcNow().AddDays(30));
        await app.DeliverAsync("checkout.session.completed", new JsonObject
        {
            ["id"] = checkout.GetProperty("sessionId").GetString(), ["object"] = "checkout.session", ["mode"] = "subscription", ["customer"] = session["customer"],
            ["subscription"] = sub, ["status"] = "complete", ["payment_status"] = "paid", ["metadata"] = PaymentsApp.Meta(meta),
        });
        var paid = await app.DeliverAsync("invoice.paid", FakeStripe.Invoice(app.Stripe.NewId("in"), session["customer"], sub, 500, app.Stripe.NewId("pi"), meta));

        var entitlements = app.Get<Payments.IEntitlements>();
        Assert.True(await entitlements.IsMemberAsync(viewer.Id, channel, CancellationToken.None));
        Assert.False(await entitlements.IsMemberAsync(viewer.Id, other, CancellationToken.None));
        Assert.False(await entitlements.IsPremiumAsync(viewer.Id, CancellationToken.None));
        Assert.Equal(-364, await PostedAsync(paid, "creator:pending", channel)); // 80 % of 500 - (15 + 30)

        // After the hold the share is available; a payout transfers it to the channel's Connect account and books it once.
        await app.JsonAsync(HttpMethod.Put, $"api/v1/channels/{channel}/payout-account", creator.AccessToken, new { accountId = "acct_creator" });
        app.Clock.Advance(TimeSpan.FromDays(15));
        await PaymentsApp.WaitForAsync(async () => await app.ScalarAsync<long?>(
            "SELECT SUM(amount) FROM ledger_lines WHERE account = 'creator:available' AND channel_id = @ch", ("ch", channel)) == -364, "the hold to end");
        var admin = await app.RefreshAdminAsync();
        var payouts = await app.JsonAsync(HttpMethod.Post, "api/v1/admin/ledger/payouts", admin.AccessToken);
        var mine = payouts.GetProperty("paid").EnumerateArray().Single(p => p.GetProperty("channelId").GetString() == channel);
        Assert.Equal(364, mine.GetProperty("amount").GetInt64());
        var transfer = app.Stripe.Requests.Last(r => r.Path == "/v1/transfers" && r.Form["destination"] == "acct_creator").Form;
        Assert.Equal("364", transfer["amount"]);
        Assert.StartsWith("payout-" + channel, transfer["transfer_group"], StringComparison.Ordinal);
        Assert.Equal(0, await app.ScalarAsync<long?>("SELECT SUM(amount) FROM ledger_lines WHERE account = 'creator:available' AND channel_id = @ch", ("ch", channel)));
        Assert.DoesNotContain((await app.JsonAsync(HttpMethod.Post, "api/v1/admin/ledger/payouts", admin.AccessToken)).GetProperty("paid").EnumerateArray(),
            p => p.GetProperty("channelId").GetString() == channel);
    }

    [Fact]
    public async Task A_dispute_holds_the_access_the_payment_bought()
    {
        var (_, _, video) = await PremiumVideoAsync();
        var viewer = await app.NewUserAsync();
        var purchase = await BuyPremiumAsync(viewer);
        Assert.Equal(HttpStatusCode.NotFound, await PlaysAsync(video, viewer));
        await app.DeliverAsync("charge.dispute.created", new JsonObject
        {
            ["id"] = app.Stripe.NewId("dp"), ["object"] = "dispute", ["amount"] = 999, ["currency"] = "usd", ["charge"] = app.Stripe.NewId("ch"),
            ["payment_intent"] = purchase.PaymentIntent, ["status"] = "needs_response", ["reason"] = "fraudulent",
        });
        Assert.False(await PremiumAsync(viewer));
        Assert.Equal(HttpStatusCode.Forbidden, await PlaysAsync(video, viewer));
    }

    [Fact]
    public async Task The_admin_grant_or_a_subscription_makes_an_account_premium_and_revoking_the_grant_leaves_a_subscriber_premium()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{viewer.Id}/premium", admin.AccessToken, new { premium = true });
        Assert.True(await PremiumAsync(viewer));
        await BuyPremiumAsync(viewer);
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{viewer.Id}/premium", admin.AccessToken, new { premium = false });
        Assert.True(await PremiumAsync(viewer));

        var granted = await app.NewUserAsync();
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{granted.Id}/premium", admin.AccessToken, new { premium = true });
        await app.JsonAsync(HttpMethod.Put, $"api/v1/users/{granted.Id}/premium", admin.AccessToken, new { premium = false });
        Assert.False(await PremiumAsync(granted));
    }

    [Fact]
    public async Task Checkout_refuses_a_bad_plan_or_tip_naming_the_field_and_never_takes_a_price_from_the_client()
    {
        var viewer = await app.NewUserAsync();
        var channel = await app.NewChannelAsync(await app.NewUserAsync("creator"));
        async Task<JsonElement> BadAsync(string path, object body)
        {
            using var r = await app.SendAsync(HttpMethod.Post, path, viewer.AccessToken, body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        }

        Assert.True((await BadAsync("api/v1/checkout/premium", new { plan = "weekly" })).TryGetProperty("plan", out _));
        Assert.True((await BadAsync("api/v1/checkout/tip", new { channelId = channel, amount = 99 })).TryGetProperty("amount", out _));
        Assert.True((await BadAsync("api/v1/checkout/tip", new { channelId = channel, amount = 50_001 })).TryGetProperty("amount", out _));
        Assert.True((await BadAsync("api/v1/checkout/tip", new { channelId = channel })).TryGetProperty("amount", out _));
        Assert.True((await BadAsync("api/v1/checkout/premium", new { plan = "monthly", price = "price_cheap" })).TryGetProperty("price", out _));
        Assert.True((await BadAsync("api/v1/checkout/premium", new { plan = "monthly", amount = 1 })).TryGetProperty("amount", out _));
    }

    [Fact]
    public async Task Replaying_any_set_of_money_events_into_the_database_changes_nothing_and_it_always_balances()
    {
        var database = app.Get<Data.Database>();
        var rules = new Ledger.SharingRules(8000, 5500, TimeSpan.FromDays(14));
        var gen = Gen.Select(Gen.OneOfConst("premium", "membership", "tip"), Gen.Long[1, 1_000_000], Gen.Long[0, 1_000_000])
            .Array[1, 8];
        // This run's lines only: the payment worker releases other tests' earnings meanwhile.
        async Task<long> LinesAsync(string run) => await app.ScalarAsync<long>(
            "SELECT COUNT(*) FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.source_id LIKE @p", ("p", $"prop:{run}:%"));
        var samples = new System.Collections.Concurrent.ConcurrentBag<(string Product, long Gross, long Refund)[]>();
        gen.Sample(e => { samples.Add(e); }, iter: 5);
        foreach (var events in samples)
        {
            var run = Data.Ids.New();
            var entries = new List<Ledger.JournalEntry>();
            foreach (var ((product, gross, refund), i) in events.Select((e, i) => ((e.Product, e.Gross, e.Refund), i)))
            {
                var (sale, share) = Ledger.RevenueSharing.Sale($"prop:{run}:s{i}", "stripe", product, "ch" + run, "usd", gross, gross / 30, app.Clock.GetUtcNow(), rules);
                entries.Add(sale);
                if (Math.Min(refund, gross) > 0)
                {
                    entries.Add(Ledger.RevenueSharing.Refund($"prop:{run}:r{i}", "stripe", product, "ch" + run, "usd", gross, product == "premium" ? 0 : share,
                        Math.Min(refund, gross), app.Clock.GetUtcNow()));
                }
            }

            for (var round = 0; round < 2; round++)
            {
                var before = await LinesAsync(run);
                await using var db = await database.OpenAsync(CancellationToken.None);
                await db.BeginAsync(CancellationToken.None);
                var posted = 0;
                foreach (var entry in entries)
                {
                    posted += await Ledger.LedgerStore.PostInAsync(db, entry, app.Clock.GetUtcNow(), CancellationToken.None) ? 1 : 0;
                }

                await db.CommitAsync(CancellationToken.None);
                Assert.Equal(round == 0 ? entries.Count : 0, posted);
                Assert.Equal(round == 0 ? before + entries.Sum(e => e.Lines.Count) : before, await LinesAsync(run));
                Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM (SELECT currency FROM ledger_lines GROUP BY currency HAVING SUM(amount) <> 0) x"));
            }
        }
    }

    [Fact]
    public async Task The_database_refuses_an_unbalanced_or_rewritten_ledger_entry()
    {
        var database = app.Get<Data.Database>();
        async Task RefusedAsync(Func<Data.DbSession, Task> write)
        {
            await using var db = await database.OpenAsync(CancellationToken.None);
            await db.BeginAsync(CancellationToken.None);
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => write(db)); // disposed uncommitted: rolled back
        }

        var id = Data.Ids.New();
        var now = app.Clock.GetUtcNow();
        await RefusedAsync(async db =>
        {
            await db.ExecAsync("INSERT INTO ledger_lines (entry_id, account, currency, amount, posted_at) VALUES (@e, 'clearing:stripe', 'usd', 100, @t)", [("e", id), ("t", now)], default);
            await db.ExecAsync("INSERT INTO ledger_lines (entry_id, account, currency, amount, posted_at) VALUES (@e, 'platform:revenue', 'usd', -99, @t)", [("e", id), ("t", now)], default);
            await db.ExecAsync("INSERT INTO ledger_entries (id, source_id, kind, posted_at) VALUES (@e, @e, 'sale', @t)", [("e", id), ("t", now)], default);
        });

        // A balanced one goes in, once; then it can be neither changed, removed nor extended.
        var balanced = new Ledger.JournalEntry("test:" + id, "sale", "test", [new("clearing:stripe", null, "usd", 100), new("platform:revenue", null, "usd", -100)]);
        await using (var db = await database.OpenAsync(CancellationToken.None))
        {
            await db.BeginAsync(CancellationToken.None);
            Assert.True(await Ledger.LedgerStore.PostInAsync(db, balanced, now, CancellationToken.None));
            Assert.False(await Ledger.LedgerStore.PostInAsync(db, balanced, now, CancellationToken.None));
            await db.CommitAsync(CancellationToken.None);

            // The code refuses an unbalanced entry before the database sees it.
            await db.BeginAsync(CancellationToken.None);
            await Assert.ThrowsAsync<InvalidOperationException>(() => Ledger.LedgerStore.PostInAsync(db, new Ledger.JournalEntry("test:x" + id, "sale", "test",
                [new("clearing:stripe", null, "usd", 100), new("platform:revenue", null, "usd", -99)]), now, CancellationToken.None));
        }

        var entry = (await app.ScalarAsync<string>("SELECT id FROM ledger_entries WHERE source_id = @s", ("s", "test:" + id)))!;
        await RefusedAsync(db => db.ExecAsync("UPDATE ledger_lines SET amount = 1 WHERE entry_id = @e", [("e", entry)], default));
        await RefusedAsync(db => db.ExecAsync("DELETE FROM ledger_lines WHERE entry_id = @e", [("e", entry)], default));
        await RefusedAsync(db => db.ExecAsync("DELETE FROM ledger_entries WHERE id = @e", [("e", entry)], default));
        await RefusedAsync(db => db.ExecAsync("INSERT INTO ledger_lines (entry_id, account, currency, amount, posted_at) VALUES (@e, 'clearing:stripe', 'usd', 0, @t)",
            [("e", entry), ("t", now)], default));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT COUNT(*) FROM ledger_lines WHERE entry_id = @e", ("e", entry)));
    }
}

public sealed class PaymentTestsSqlite(PaymentsSqliteApp app) : PaymentTests(app), IClassFixture<PaymentsSqliteApp>;

public sealed class PaymentTestsPostgres(PaymentsPostgresApp app) : PaymentTests(app), IClassFixture<PaymentsPostgresApp>;
