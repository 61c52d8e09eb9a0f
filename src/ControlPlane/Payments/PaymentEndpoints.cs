using System.Text;
using Microsoft.Extensions.Options;
using Stripe;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Api;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>
/// Checkout (Premium, memberships, tips), the billing portal, admin refunds and the Stripe webhook. The client never sends a
/// price: Premium and memberships use prices the server created from configuration and the creator's tier; a tip is the one
/// amount a client names, validated against <c>TipMin</c>/<c>TipMax</c>.
/// </summary>
internal static partial class PaymentEndpoints
{
    /// <summary>Stripe's events are a few KiB; 256 KiB leaves room for the largest object with its lines.</summary>
    private const long WebhookBodyLimit = 256 * 1024;

    public static void MapPayments(IEndpointRouteBuilder api)
    {
        var checkout = api.MapGroup("/checkout").WithTags("Payments").RequireAuthorization(Policies.User).WithBodyLimit(BodyLimit.Account);
        checkout.MapPost("/premium", PremiumAsync).Produces<CheckoutResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        checkout.MapPost("/membership", MembershipAsync).Produces<CheckoutResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        checkout.MapPost("/tip", TipAsync).Produces<CheckoutResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/me/billing-portal", PortalAsync).WithTags("Payments").RequireAuthorization(Policies.User).Produces<PortalResponse>()
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/admin/payments/{id}/refund", RefundAsync).WithTags("Payments").RequireAuthorization(Policies.Admin).WithBodyLimit(BodyLimit.Account)
            .Produces<RefundResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/webhooks/stripe", StripeWebhookAsync).WithTags("Payments").AllowAnonymous().WithBodyLimit(WebhookBodyLimit)
            .Produces<WebhookReceipt>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static IResult NotConfigured() => Problems.Conflict("Payments are not configured on this server.");

    private static async Task<IResult> PremiumAsync(PremiumCheckoutRequest request, HttpContext context, StripeGateway stripe, Database database,
        IOptions<PaymentOptions> options, CancellationToken cancellationToken)
    {
        if (request.Plan is not (Plans.Monthly or Plans.Yearly))
        {
            return new Validation().Add("plan", "must be monthly or yearly").Result();
        }

        if (!stripe.Enabled)
        {
            return NotConfigured();
        }

        var caller = Caller.Require(context.User);
        var o = options.Value;
        var (configured, interval, amount) = request.Plan == Plans.Monthly
            ? (o.Stripe.PremiumMonthlyPrice, "month", o.PremiumMonthlyAmount)
            : (o.Stripe.PremiumYearlyPrice, "year", o.PremiumYearlyAmount);
        var customer = await CustomerAsync(caller, database, stripe, cancellationToken).ConfigureAwait(false);
        if (customer is null)
        {
            return Problems.NotFound("user");
        }

        var price = configured ?? await stripe.RecurringPriceAsync("premium", "StreamVerse Premium", amount, o.Currency, interval, cancellationToken).ConfigureAwait(false);
        var session = await stripe.SubscriptionCheckoutAsync(customer, caller.Id, price,
            new() { ["user_id"] = caller.Id, ["product"] = Ledger.Product.Premium }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CheckoutResponse(session.Id, session.Url));
    }

    private static async Task<IResult> MembershipAsync(MembershipCheckoutRequest request, HttpContext context, StripeGateway stripe, Database database,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.TierId))
        {
            return new Validation().Add("tierId", "is required").Result();
        }

        if (!stripe.Enabled)
        {
            return NotConfigured();
        }

        var caller = Caller.Require(context.User);
        Memberships.TierRow? tier;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            tier = await Memberships.MembershipStore.FindTierAsync(db, request.TierId, cancellationToken).ConfigureAwait(false);
        }

        if (tier is null)
        {
            return Problems.NotFound("tier");
        }

        var customer = await CustomerAsync(caller, database, stripe, cancellationToken).ConfigureAwait(false);
        if (customer is null)
        {
            return Problems.NotFound("user");
        }

        var price = await stripe.RecurringPriceAsync("tier:" + tier.Id, "Membership: " + tier.Name, tier.Amount, tier.Currency, "month", cancellationToken).ConfigureAwait(false);
        var session = await stripe.SubscriptionCheckoutAsync(customer, caller.Id, price,
            new() { ["user_id"] = caller.Id, ["product"] = Ledger.Product.Membership, ["channel_id"] = tier.ChannelId, ["tier_id"] = tier.Id }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CheckoutResponse(session.Id, session.Url));
    }

    private static async Task<IResult> TipAsync(TipCheckoutRequest request, HttpContext context, StripeGateway stripe, Database database, IOptions<PaymentOptions> options,
        CancellationToken cancellationToken)
    {
        var o = options.Value;
        var v = new Validation();
        if (string.IsNullOrWhiteSpace(request.ChannelId))
        {
            v.Add("channelId", "is required");
        }

        if (request.Amount is null)
        {
            v.Add("amount", "is required");
        }
        else if (request.Amount < o.TipMin || request.Amount > o.TipMax)
        {
            v.Add("amount", $"must be between {o.TipMin} and {o.TipMax} (minor units of {o.Currency})");
        }

        if (!v.IsValid)
        {
            return v.Result();
        }

        if (!stripe.Enabled)
        {
            return NotConfigured();
        }

        var caller = Caller.Require(context.User);
        string? channelName;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            channelName = await db.ScalarAsync<string>("SELECT name FROM channels WHERE id = @id", [("id", request.ChannelId)], cancellationToken).ConfigureAwait(false);
        }

        if (channelName is null)
        {
            return Problems.NotFound("channel");
        }

        var customer = await CustomerAsync(caller, database, stripe, cancellationToken).ConfigureAwait(false);
        if (customer is null)
        {
            return Problems.NotFound("user");
        }

        var session = await stripe.PaymentCheckoutAsync(customer, caller.Id, "Tip for " + channelName, request.Amount!.Value, o.Currency,
            new() { ["user_id"] = caller.Id, ["product"] = Ledger.Product.Tip, ["channel_id"] = request.ChannelId! }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CheckoutResponse(session.Id, session.Url));
    }

    private static async Task<IResult> PortalAsync(HttpContext context, StripeGateway stripe, Database database, CancellationToken cancellationToken)
    {
        if (!stripe.Enabled)
        {
            return NotConfigured();
        }

        var customer = await CustomerAsync(Caller.Require(context.User), database, stripe, cancellationToken).ConfigureAwait(false);
        return customer is null ? Problems.NotFound("user") : TypedResults.Ok(new PortalResponse(await stripe.PortalAsync(customer, cancellationToken).ConfigureAwait(false)));
    }

    private static async Task<string?> CustomerAsync(Caller caller, Database database, StripeGateway stripe, CancellationToken cancellationToken)
    {
        string? email;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            email = (await MeEndpoints.FindAsync(db, caller.Id, cancellationToken).ConfigureAwait(false))?.Email;
        }

        return email is null ? null : await stripe.CustomerAsync(caller.Id, email, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An admin refunds (part of) a payment; the ledger moves when Stripe's <c>charge.refunded</c> arrives.</summary>
    private static async Task<IResult> RefundAsync(string id, RefundRequest? request, StripeGateway stripe, Database database, CancellationToken cancellationToken)
    {
        if (request?.Amount is <= 0)
        {
            return new Validation().Add("amount", "must be at least 1").Result();
        }

        if (!stripe.Enabled)
        {
            return NotConfigured();
        }

        (string? Intent, long Left)? payment;
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            payment = (await db.QueryAsync("SELECT payment_intent, gross - refunded FROM payments WHERE id = @id AND processor = @p", [("id", id), ("p", StripeGateway.Processor)],
                (r, _) => (r.IsDBNull(0) ? null : r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false)).Cast<(string?, long)?>().FirstOrDefault();
        }

        if (payment is null)
        {
            return Problems.NotFound("payment");
        }

        if (payment.Value.Intent is null || payment.Value.Left <= 0)
        {
            return Problems.Conflict("This payment has nothing left to refund.");
        }

        if (request?.Amount > payment.Value.Left)
        {
            return new Validation().Add("amount", $"must be at most {payment.Value.Left}").Result();
        }

        var amount = request?.Amount ?? payment.Value.Left;
        var refund = await stripe.RefundAsync(payment.Value.Intent, amount, $"refund-{id}-{payment.Value.Left}-{amount}", cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new RefundResponse(id, refund.Id, refund.Amount, refund.Status));
    }

    /// <summary>
    /// Stripe's webhook. The signature is checked by Stripe.net itself (<see cref="EventUtility.ConstructEvent(string, string, string, long, long, bool)"/>)
    /// over the raw body, with the configured tolerance against replays; anything unsigned, tampered or stale is a 400 and
    /// stores nothing. A verified event is stored (its id unique: a duplicate is acknowledged and ignored) and answered at
    /// once; the payment worker applies it.
    /// </summary>
    private static async Task<IResult> StripeWebhookAsync(HttpContext context, PaymentEventQueue queue, IOptions<PaymentOptions> options, TimeProvider time,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.StripeEnabled)
        {
            return Problems.NotFound("webhook");
        }

        string body;
        using (var reader = new StreamReader(context.Request.Body, new UTF8Encoding(false, throwOnInvalidBytes: true)))
        {
            try
            {
                body = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DecoderFallbackException)
            {
                return BadSignature();
            }
        }

        var now = time.GetUtcNow();
        Event stripeEvent;
        try
        {
            stripeEvent = EventUtility.ConstructEvent(body, context.Request.Headers["Stripe-Signature"].ToString(), o.Stripe.WebhookSecret!, o.Stripe.ToleranceSeconds,
                now.ToUnixTimeSeconds(), throwOnApiVersionMismatch: true);
        }
        catch (StripeException e)
        {
            Log.Refused(loggers.CreateLogger(typeof(PaymentEndpoints).FullName!), e.Message.Length > 200 ? e.Message[..200] : e.Message);
            return BadSignature();
        }

        var created = new DateTimeOffset(DateTime.SpecifyKind(stripeEvent.Created, DateTimeKind.Utc));
        var stored = await queue.EnqueueAsync(StripeGateway.Processor, stripeEvent.Id, stripeEvent.Type, created, body, now, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new WebhookReceipt(true, !stored));
    }

    private static IResult BadSignature() =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad signature", detail: "The Stripe-Signature header does not verify this body.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 6800, Level = LogLevel.Warning, Message = "Stripe webhook refused: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}
