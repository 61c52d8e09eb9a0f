using Microsoft.Extensions.Options;
using Stripe;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Ledger;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>
/// Applies one verified Stripe event. Every effect (subscription state, the premium flag, payments, ledger entries) commits
/// in one transaction together with the event's "done" mark, so a crash or a redelivery never applies it twice. Events come
/// in any order: a subscription event no newer than the state already stored (Stripe's <c>created</c> is in whole seconds,
/// so an equal second counts as older) is not trusted, and the subscription is read again from Stripe instead.
/// </summary>
internal sealed partial class StripeEventHandler(Database database, StripeGateway stripe, Entitlements entitlements, IOptions<PaymentOptions> options,
    TimeProvider time, ILogger<StripeEventHandler> logger)
{
    private const string P = StripeGateway.Processor;

    private SharingRules Rules => new(options.Value.CreatorShareBasisPoints, options.Value.PremiumPoolBasisPoints, options.Value.HoldPeriod);

    /// <summary>Applies the event and marks it done; false when another worker had done it.</summary>
    public async Task<bool> ApplyAsync(QueuedPaymentEvent queued, string owner, CancellationToken cancellationToken)
    {
        var stripeEvent = EventUtility.ParseEvent(queued.Payload, throwOnApiVersionMismatch: false);
        var createdAt = new DateTimeOffset(DateTime.SpecifyKind(stripeEvent.Created, DateTimeKind.Utc)).ToUnixTimeSeconds();

        // Reads from Stripe happen before the transaction (no database lock is held across an HTTP call).
        Subscription? subscription = null;
        switch (stripeEvent.Data.Object)
        {
            case Subscription s:
                subscription = await NewerOrReadAsync(s, createdAt, cancellationToken).ConfigureAwait(false);
                break;
            case Stripe.Checkout.Session { Mode: "subscription", SubscriptionId: { } sid }:
                subscription = await stripe.SubscriptionAsync(sid, cancellationToken).ConfigureAwait(false);
                break;
            case Invoice invoice when SubscriptionOf(invoice) is { } sid:
                subscription = await stripe.SubscriptionAsync(sid, cancellationToken).ConfigureAwait(false);
                break;
        }

        var now = time.GetUtcNow();
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await db.BeginAsync(cancellationToken).ConfigureAwait(false);
        var users = new HashSet<string>(StringComparer.Ordinal);
        switch (stripeEvent.Data.Object)
        {
            case Stripe.Checkout.Session { Mode: "payment" } session:
                await RecordCheckoutPaymentAsync(db, stripeEvent.Id, session, now, users, cancellationToken).ConfigureAwait(false);
                break;
            case Invoice invoice when stripeEvent.Type == EventTypes.InvoicePaid:
                await RecordInvoicePaymentAsync(db, stripeEvent.Id, invoice, queued.Payload, now, users, cancellationToken).ConfigureAwait(false);
                break;
            case Invoice invoice when stripeEvent.Type == EventTypes.InvoicePaymentFailed && SubscriptionOf(invoice) is { } failed:
                // The first failure starts the grace period; later retries do not extend it.
                await db.ExecAsync("UPDATE billing_subscriptions SET grace_until = @g WHERE processor = @p AND external_id = @id AND grace_until IS NULL",
                    [("g", now + options.Value.GracePeriod), ("p", P), ("id", failed)], cancellationToken).ConfigureAwait(false);
                break;
            case Charge charge when stripeEvent.Type == EventTypes.ChargeRefunded:
                await RecordRefundAsync(db, stripeEvent.Id, charge, now, cancellationToken).ConfigureAwait(false);
                break;
            case Dispute dispute when stripeEvent.Type == EventTypes.ChargeDisputeCreated:
                await RecordDisputeAsync(db, stripeEvent.Id, dispute, now, users, cancellationToken).ConfigureAwait(false);
                break;
        }

        if (subscription is not null && await UpsertSubscriptionAsync(db, subscription, createdAt, stripeEvent.Type == EventTypes.InvoicePaid, now, cancellationToken)
            .ConfigureAwait(false) is { } subscriber)
        {
            users.Add(subscriber);
        }

        foreach (var user in users)
        {
            await entitlements.RecomputeInAsync(db, user, cancellationToken).ConfigureAwait(false);
        }

        if (!await PaymentEventQueue.CompleteInAsync(db, queued.Seq, owner, now, cancellationToken).ConfigureAwait(false))
        {
            return false; // disposed without commit: rolled back
        }

        await db.CommitAsync(cancellationToken).ConfigureAwait(false);
        Log.Applied(logger, stripeEvent.Id, stripeEvent.Type);
        return true;
    }

    /// <summary>The event's subscription when it is newer than what is stored, else Stripe's current one.</summary>
    private async Task<Subscription> NewerOrReadAsync(Subscription s, long createdAt, CancellationToken cancellationToken)
    {
        await using var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var stored = await db.ScalarAsync<long?>("SELECT state_at FROM billing_subscriptions WHERE processor = @p AND external_id = @id", [("p", P), ("id", s.Id)],
            cancellationToken).ConfigureAwait(false);
        if (stored is null || createdAt > stored)
        {
            return s;
        }

        Log.Stale(logger, s.Id);
        return await stripe.SubscriptionAsync(s.Id, cancellationToken).ConfigureAwait(false);
    }

    private static string? SubscriptionOf(Invoice invoice) => invoice.Parent?.SubscriptionDetails?.SubscriptionId;

    /// <summary>Stores the subscription's state (the newest <c>state_at</c> is kept); returns its account, or null when none is known.</summary>
    private async Task<string?> UpsertSubscriptionAsync(DbSession db, Subscription s, long createdAt, bool paid, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var userId = s.Metadata?.GetValueOrDefault("user_id")
            ?? await db.ScalarAsync<string>("SELECT user_id FROM billing_customers WHERE processor = @p AND customer_id = @c", [("p", P), ("c", s.CustomerId)],
                cancellationToken).ConfigureAwait(false);
        if (userId is null || await db.ScalarAsync<long?>("SELECT 1 FROM users WHERE id = @id", [("id", userId)], cancellationToken).ConfigureAwait(false) is null)
        {
            Log.UnknownAccount(logger, s.Id);
            return null;
        }

        var product = s.Metadata?.GetValueOrDefault("product") == Ledger.Product.Membership ? Ledger.Product.Membership : Ledger.Product.Premium;
        DateTimeOffset? periodEnd = s.Items?.Data?.FirstOrDefault()?.CurrentPeriodEnd is { } end && end != default
            ? new DateTimeOffset(DateTime.SpecifyKind(end, DateTimeKind.Utc)) : null;
        await db.ExecAsync(
            """
            INSERT INTO billing_subscriptions (processor, external_id, user_id, product, channel_id, tier_id, status, current_period_end, cancel_at_period_end,
                grace_until, state_at, updated_at)
            VALUES (@p, @id, @u, @product, @ch, @tier, @status, @end, @cancel, CASE WHEN @status = 'past_due' THEN @grace ELSE NULL END, @state, @now)
            ON CONFLICT (processor, external_id) DO UPDATE SET
                status = excluded.status, current_period_end = excluded.current_period_end, cancel_at_period_end = excluded.cancel_at_period_end,
                grace_until = CASE WHEN excluded.status = 'past_due' AND NOT @paid THEN COALESCE(billing_subscriptions.grace_until, @grace) ELSE NULL END,
                state_at = CASE WHEN excluded.state_at > billing_subscriptions.state_at THEN excluded.state_at ELSE billing_subscriptions.state_at END,
                updated_at = excluded.updated_at
            """,
            [("p", P), ("id", s.Id), ("u", userId), ("product", product), ("ch", s.Metadata?.GetValueOrDefault("channel_id")), ("tier", s.Metadata?.GetValueOrDefault("tier_id")),
             ("status", s.Status), ("end", periodEnd), ("cancel", s.CancelAtPeriodEnd), ("grace", now + options.Value.GracePeriod), ("state", createdAt), ("paid", paid),
             ("now", now)], cancellationToken).ConfigureAwait(false);
        return userId;
    }

    private async Task RecordCheckoutPaymentAsync(DbSession db, string eventId, Stripe.Checkout.Session session, DateTimeOffset now, HashSet<string> users,
        CancellationToken cancellationToken)
    {
        if (session.PaymentStatus != "paid" || session.AmountTotal is not { } gross)
        {
            return;
        }

        var meta = session.Metadata ?? [];
        var product = meta.GetValueOrDefault("product") ?? Ledger.Product.Tip;
        await RecordPaymentAsync(db, eventId, session.PaymentIntentId ?? session.Id, session.PaymentIntentId, meta.GetValueOrDefault("user_id") ?? session.ClientReferenceId,
            product, meta.GetValueOrDefault("channel_id"), null, session.Currency, gross, now, cancellationToken).ConfigureAwait(false);
        if (meta.GetValueOrDefault("user_id") is { } u)
        {
            users.Add(u);
        }
    }

    private async Task RecordInvoicePaymentAsync(DbSession db, string eventId, Invoice invoice, string payload, DateTimeOffset now, HashSet<string> users,
        CancellationToken cancellationToken)
    {
        var subscriptionId = SubscriptionOf(invoice);
        var sub = subscriptionId is null ? null : await db.SingleAsync("SELECT user_id, product, channel_id FROM billing_subscriptions WHERE processor = @p AND external_id = @id",
            [("p", P), ("id", subscriptionId)], (r, _) => new[] { r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2) }, cancellationToken).ConfigureAwait(false);
        var meta = invoice.Parent?.SubscriptionDetails?.Metadata ?? [];
        var userId = sub?[0] ?? meta.GetValueOrDefault("user_id");
        var product = sub?[1] ?? meta.GetValueOrDefault("product") ?? Ledger.Product.Premium;
        var channel = sub?[2] ?? meta.GetValueOrDefault("channel_id");
        if (invoice.AmountPaid > 0)
        {
            await RecordPaymentAsync(db, eventId, invoice.Id, PaymentIntentOf(payload), userId, product, channel, subscriptionId, invoice.Currency, invoice.AmountPaid, now,
                cancellationToken).ConfigureAwait(false);
        }

        if (userId is not null)
        {
            users.Add(userId);
        }
    }

    /// <summary>
    /// The payment intent of an invoice's payment (<c>data.object.payments.data[0].payment.payment_intent</c>): what a later
    /// <c>charge.refunded</c> or dispute names. Read from the raw payload, as the SDK's model of invoice payments varies by API version.
    /// </summary>
    private static string? PaymentIntentOf(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.TryGetProperty("data", out var data) && data.TryGetProperty("object", out var o)
            && o.TryGetProperty("payments", out var payments) && payments.TryGetProperty("data", out var list) && list.ValueKind == JsonValueKind.Array
            && list.GetArrayLength() > 0 && list[0].TryGetProperty("payment", out var payment) && payment.TryGetProperty("payment_intent", out var pi)
            && pi.ValueKind == JsonValueKind.String
            ? pi.GetString() : null;
    }

    private async Task RecordPaymentAsync(DbSession db, string eventId, string externalId, string? paymentIntent, string? userId, string product, string? channelId,
        string? subscriptionId, string currency, long gross, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (product != Ledger.Product.Premium && channelId is null)
        {
            Log.NoChannel(logger, externalId);
            return;
        }

        var fee = stripe.EstimateFee(gross);
        var (entry, share) = RevenueSharing.Sale("stripe:" + eventId, P, product, channelId, currency, gross, fee, now, Rules);
        var n = await db.ExecAsync(
            """
            INSERT INTO payments (id, processor, external_id, payment_intent, user_id, product, channel_id, subscription_id, currency, gross, fee, creator_share, paid_at)
            VALUES (@id, @p, @ext, @pi, @u, @product, @ch, @sub, @cur, @gross, @fee, @share, @now)
            ON CONFLICT (processor, external_id) DO NOTHING
            """,
            [("id", Ids.New()), ("p", P), ("ext", externalId), ("pi", paymentIntent), ("u", userId), ("product", product), ("ch", channelId), ("sub", subscriptionId),
             ("cur", currency), ("gross", gross), ("fee", fee), ("share", product == Ledger.Product.Premium ? 0 : share), ("now", now)], cancellationToken).ConfigureAwait(false);
        if (n == 1)
        {
            await LedgerStore.PostInAsync(db, entry, now, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record PaymentRow(string Id, string Product, string? ChannelId, string? UserId, string? SubscriptionId, string Currency, long Gross, long CreatorShare,
        long Refunded, long Disputed);

    private static Task<PaymentRow?> PaymentByIntentAsync(DbSession db, string? paymentIntent, CancellationToken cancellationToken) =>
        paymentIntent is null ? Task.FromResult<PaymentRow?>(null) : db.SingleAsync(
            "SELECT id, product, channel_id, user_id, subscription_id, currency, gross, creator_share, refunded, disputed FROM payments WHERE processor = @p AND payment_intent = @pi",
            [("p", P), ("pi", paymentIntent)], (r, _) => new PaymentRow(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8), r.GetInt64(9)), cancellationToken);

    /// <summary><c>charge.refunded</c> carries the total refunded so far: what is new since the last one is booked.</summary>
    private async Task RecordRefundAsync(DbSession db, string eventId, Charge charge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var payment = await PaymentByIntentAsync(db, charge.PaymentIntentId, cancellationToken).ConfigureAwait(false);
        var delta = payment is null ? 0 : Math.Min(charge.AmountRefunded, payment.Gross) - payment.Refunded;
        if (payment is null || delta <= 0)
        {
            return;
        }

        await db.ExecAsync("UPDATE payments SET refunded = refunded + @d WHERE id = @id", [("d", delta), ("id", payment.Id)], cancellationToken).ConfigureAwait(false);
        await LedgerStore.PostInAsync(db, RevenueSharing.Refund("stripe:" + eventId, P, payment.Product, payment.ChannelId, payment.Currency, payment.Gross,
            payment.CreatorShare, delta, now), now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A dispute freezes its funds in the ledger and holds the access the payment bought until it ends.</summary>
    private async Task RecordDisputeAsync(DbSession db, string eventId, Dispute dispute, DateTimeOffset now, HashSet<string> users, CancellationToken cancellationToken)
    {
        var payment = await PaymentByIntentAsync(db, dispute.PaymentIntentId, cancellationToken).ConfigureAwait(false);
        if (payment is null)
        {
            return;
        }

        var amount = Math.Min(dispute.Amount, payment.Gross - payment.Disputed);
        if (amount > 0)
        {
            await db.ExecAsync("UPDATE payments SET disputed = disputed + @d WHERE id = @id", [("d", amount), ("id", payment.Id)], cancellationToken).ConfigureAwait(false);
            await LedgerStore.PostInAsync(db, RevenueSharing.Dispute("stripe:" + eventId, P, payment.Product, payment.ChannelId, payment.Currency, payment.Gross,
                payment.CreatorShare, amount), now, cancellationToken).ConfigureAwait(false);
        }

        if (payment.SubscriptionId is not null)
        {
            await db.ExecAsync("UPDATE billing_subscriptions SET disputed = TRUE WHERE processor = @p AND external_id = @id", [("p", P), ("id", payment.SubscriptionId)],
                cancellationToken).ConfigureAwait(false);
        }

        if (payment.UserId is not null)
        {
            users.Add(payment.UserId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6810, Level = LogLevel.Information, Message = "Stripe event {EventId} ({Type}) applied")]
        public static partial void Applied(ILogger logger, string eventId, string type);

        [LoggerMessage(EventId = 6811, Level = LogLevel.Information, Message = "Stripe event for subscription {SubscriptionId} is not newer than the stored state: read it again from Stripe")]
        public static partial void Stale(ILogger logger, string subscriptionId);

        [LoggerMessage(EventId = 6812, Level = LogLevel.Warning, Message = "Stripe subscription {SubscriptionId} names no known account: ignored")]
        public static partial void UnknownAccount(ILogger logger, string subscriptionId);

        [LoggerMessage(EventId = 6813, Level = LogLevel.Warning, Message = "Payment {PaymentId} names no channel: not booked")]
        public static partial void NoChannel(ILogger logger, string paymentId);
    }
}
