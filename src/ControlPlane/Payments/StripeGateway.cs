using Microsoft.Extensions.Options;
using Stripe;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>
/// Every call this daemon makes to Stripe, through Stripe.net pointed at <see cref="StripeOptions.ApiBase"/>. Prices are
/// created server-side from configuration (and remembered in <c>billing_prices</c>), so a client never names a price;
/// each creating call carries an idempotency key, so the SDK's retries (two by default) cannot create twice.
/// </summary>
internal sealed class StripeGateway
{
    public const string Processor = "stripe";

    private readonly StripeClient? _client;
    private readonly PaymentOptions _options;
    private readonly Database _database;

    public StripeGateway(IOptions<PaymentOptions> options, Database database)
    {
        _options = options.Value;
        _database = database;
        if (_options.StripeEnabled)
        {
            _client = new StripeClient(new StripeClientOptions { ApiKey = _options.Stripe.SecretKey, ApiBase = _options.Stripe.ApiBase.TrimEnd('/') });
        }
    }

    public bool Enabled => _client is not null;

    private StripeClient Client => _client ?? throw new InvalidOperationException("Stripe is not configured");

    /// <summary>The account's Stripe customer, created once (its id is stored; the idempotency key covers a retried create).</summary>
    public async Task<string> CustomerAsync(string userId, string email, CancellationToken cancellationToken)
    {
        await using (var db = await _database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var known = await db.ScalarAsync<string>("SELECT customer_id FROM billing_customers WHERE user_id = @u AND processor = @p",
                [("u", userId), ("p", Processor)], cancellationToken).ConfigureAwait(false);
            if (known is not null)
            {
                return known;
            }
        }

        var customer = await new CustomerService(Client).CreateAsync(
            new CustomerCreateOptions { Email = email, Metadata = new() { ["user_id"] = userId } },
            new RequestOptions { IdempotencyKey = "customer-" + userId }, cancellationToken).ConfigureAwait(false);
        await using var write = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await write.ExecAsync("INSERT INTO billing_customers (user_id, processor, customer_id) VALUES (@u, @p, @c) ON CONFLICT (user_id, processor) DO NOTHING",
            [("u", userId), ("p", Processor), ("c", customer.Id)], cancellationToken).ConfigureAwait(false);
        return await write.ScalarAsync<string>("SELECT customer_id FROM billing_customers WHERE user_id = @u AND processor = @p",
            [("u", userId), ("p", Processor)], cancellationToken).ConfigureAwait(false) ?? customer.Id;
    }

    /// <summary>A recurring price for <paramref name="key"/> (amount, currency and interval are part of it, so a changed
    /// configuration makes a new price), created at first use.</summary>
    public async Task<string> RecurringPriceAsync(string key, string productName, long amount, string currency, string interval, CancellationToken cancellationToken)
    {
        var priceKey = $"{key}:{interval}:{amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{currency}";
        await using (var db = await _database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var known = await db.ScalarAsync<string>("SELECT price_id FROM billing_prices WHERE processor = @p AND price_key = @k",
                [("p", Processor), ("k", priceKey)], cancellationToken).ConfigureAwait(false);
            if (known is not null)
            {
                return known;
            }
        }

        var price = await new PriceService(Client).CreateAsync(new PriceCreateOptions
        {
            Currency = currency,
            UnitAmount = amount,
            Recurring = new PriceRecurringOptions { Interval = interval },
            ProductData = new PriceProductDataOptions { Name = productName },
            Metadata = new() { ["price_key"] = priceKey },
        }, new RequestOptions { IdempotencyKey = "price-" + priceKey }, cancellationToken).ConfigureAwait(false);
        await using var write = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await write.ExecAsync("INSERT INTO billing_prices (processor, price_key, price_id) VALUES (@p, @k, @id) ON CONFLICT (processor, price_key) DO NOTHING",
            [("p", Processor), ("k", priceKey), ("id", price.Id)], cancellationToken).ConfigureAwait(false);
        return price.Id;
    }

    /// <summary>A Checkout Session for a subscription; <paramref name="metadata"/> rides on the session and the subscription,
    /// so every later event names the account and what it bought.</summary>
    public async Task<Stripe.Checkout.Session> SubscriptionCheckoutAsync(string customer, string userId, string price, Dictionary<string, string> metadata,
        CancellationToken cancellationToken) =>
        await new Stripe.Checkout.SessionService(Client).CreateAsync(new Stripe.Checkout.SessionCreateOptions
        {
            Mode = "subscription",
            Customer = customer,
            ClientReferenceId = userId,
            SuccessUrl = _options.SuccessUrl,
            CancelUrl = _options.CancelUrl,
            LineItems = [new Stripe.Checkout.SessionLineItemOptions { Price = price, Quantity = 1 }],
            Metadata = metadata,
            SubscriptionData = new Stripe.Checkout.SessionSubscriptionDataOptions { Metadata = metadata },
        }, new RequestOptions { IdempotencyKey = "checkout-" + Ids.New() }, cancellationToken).ConfigureAwait(false);

    /// <summary>A Checkout Session for a one-off payment of an amount the server validated (a tip).</summary>
    public async Task<Stripe.Checkout.Session> PaymentCheckoutAsync(string customer, string userId, string name, long amount, string currency,
        Dictionary<string, string> metadata, CancellationToken cancellationToken) =>
        await new Stripe.Checkout.SessionService(Client).CreateAsync(new Stripe.Checkout.SessionCreateOptions
        {
            Mode = "payment",
            Customer = customer,
            ClientReferenceId = userId,
            SuccessUrl = _options.SuccessUrl,
            CancelUrl = _options.CancelUrl,
            LineItems =
            [
                new Stripe.Checkout.SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new Stripe.Checkout.SessionLineItemPriceDataOptions
                    {
                        Currency = currency,
                        UnitAmount = amount,
                        ProductData = new Stripe.Checkout.SessionLineItemPriceDataProductDataOptions { Name = name },
                    },
                },
            ],
            Metadata = metadata,
            PaymentIntentData = new Stripe.Checkout.SessionPaymentIntentDataOptions { Metadata = metadata },
        }, new RequestOptions { IdempotencyKey = "checkout-" + Ids.New() }, cancellationToken).ConfigureAwait(false);

    /// <summary>The customer portal (cancel, change plan, payment methods).</summary>
    public async Task<string> PortalAsync(string customer, CancellationToken cancellationToken) =>
        (await new Stripe.BillingPortal.SessionService(Client).CreateAsync(
            new Stripe.BillingPortal.SessionCreateOptions { Customer = customer, ReturnUrl = _options.PortalReturnUrl }, null, cancellationToken).ConfigureAwait(false)).Url;

    /// <summary>The subscription as Stripe holds it now (what an event older than our state is replaced by).</summary>
    public Task<Subscription> SubscriptionAsync(string id, CancellationToken cancellationToken) =>
        new SubscriptionService(Client).GetAsync(id, null, null, cancellationToken);

    /// <summary>Refunds <paramref name="amount"/> (null: what is left) of a payment; keyed so a retried request refunds once.</summary>
    public Task<Refund> RefundAsync(string paymentIntent, long? amount, string idempotencyKey, CancellationToken cancellationToken) =>
        new RefundService(Client).CreateAsync(new RefundCreateOptions { PaymentIntent = paymentIntent, Amount = amount },
            new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);

    /// <summary>A Connect transfer to a creator's account ("separate charges and transfers"), grouped by <paramref name="transferGroup"/>.</summary>
    public Task<Transfer> TransferAsync(string destination, long amount, string currency, string transferGroup, string idempotencyKey, CancellationToken cancellationToken) =>
        new TransferService(Client).CreateAsync(new TransferCreateOptions { Destination = destination, Amount = amount, Currency = currency, TransferGroup = transferGroup },
            new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);

    /// <summary>Stripe's fee for a payment, as configured (<see cref="StripeOptions.FeeBasisPoints"/> + <see cref="StripeOptions.FeeFixed"/>,
    /// rounded half up), never more than the payment.</summary>
    public long EstimateFee(long gross) =>
        gross <= 0 ? 0 : Math.Min(gross, ((gross * _options.Stripe.FeeBasisPoints) + 5_000) / 10_000 + _options.Stripe.FeeFixed);
}
