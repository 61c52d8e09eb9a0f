using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>
/// Config section <c>StreamVerse:ControlPlane:Payments</c>. Money is always integer minor units of an ISO 4217 currency
/// (cents for USD/EUR). Payments are off until <see cref="StripeOptions.SecretKey"/> is set: the checkout endpoints then
/// answer 409 and the webhook refuses everything.
/// </summary>
internal sealed class PaymentOptions
{
    public const string Section = "StreamVerse:ControlPlane:Payments";

    /// <summary>The currency of Premium, tips and the ledger's reports (lower-case ISO 4217, e.g. <c>usd</c>). Default <c>usd</c>.</summary>
    public string Currency { get; set; } = "usd";

    /// <summary>Premium monthly price, minor units. Default 999.</summary>
    public long PremiumMonthlyAmount { get; set; } = 999;

    /// <summary>Premium yearly price, minor units. Default 9999.</summary>
    public long PremiumYearlyAmount { get; set; } = 9999;

    /// <summary>Smallest tip, minor units. Default 100.</summary>
    public long TipMin { get; set; } = 100;

    /// <summary>Largest tip, minor units. Default 50000.</summary>
    public long TipMax { get; set; } = 50_000;

    /// <summary>After a failed renewal (<c>invoice.payment_failed</c>) access lasts this long, then ends unless a payment succeeds. Default 3 days.</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Where Checkout sends the buyer after paying; <c>{CHECKOUT_SESSION_ID}</c> is filled in by Stripe.</summary>
    public string SuccessUrl { get; set; } = "http://localhost/billing/success?session={CHECKOUT_SESSION_ID}";

    /// <summary>Where Checkout sends a buyer who gives up.</summary>
    public string CancelUrl { get; set; } = "http://localhost/billing/cancelled";

    /// <summary>Where the billing portal returns to.</summary>
    public string PortalReturnUrl { get; set; } = "http://localhost/settings/billing";

    /// <summary>Creators' share of memberships and tips, after the processor's fee, in basis points (0-10000). Default 8000 (80 %).</summary>
    public int CreatorShareBasisPoints { get; set; } = 8000;

    /// <summary>Share of Premium revenue (after the processor's fee) that goes into the monthly pool split among creators by
    /// premium watch time, in basis points (0-10000). Default 5500 (55 %).</summary>
    public int PremiumPoolBasisPoints { get; set; } = 5500;

    /// <summary>Creator earnings stay pending this long before they can be paid out (refunds and disputes come early). Default 14 days.</summary>
    public TimeSpan HoldPeriod { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Smallest available balance paid out, minor units. Default 1000.</summary>
    public long PayoutMinimum { get; set; } = 1000;

    /// <summary>How often the payment worker looks for events written by other processes and for access that ended. Default 5 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    public StripeOptions Stripe { get; set; } = new();

    public bool StripeEnabled => !string.IsNullOrEmpty(Stripe.SecretKey) && !string.IsNullOrEmpty(Stripe.WebhookSecret);
}

/// <summary>Config section <c>StreamVerse:ControlPlane:Payments:Stripe</c>. The keys are secrets: never logged.</summary>
internal sealed class StripeOptions
{
    /// <summary>The secret API key (<c>sk_...</c>). Unset: Stripe is off.</summary>
    public string? SecretKey { get; set; }

    /// <summary>The webhook endpoint's signing secret (<c>whsec_...</c>).</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>The API's base URL; tests point it at a local fake. Default <c>https://api.stripe.com</c>.</summary>
    public string ApiBase { get; set; } = "https://api.stripe.com";

    /// <summary>The Premium monthly price (<c>price_...</c>); unset: created at first use from <see cref="PaymentOptions.PremiumMonthlyAmount"/>.</summary>
    public string? PremiumMonthlyPrice { get; set; }

    /// <summary>The Premium yearly price; unset: created at first use from <see cref="PaymentOptions.PremiumYearlyAmount"/>.</summary>
    public string? PremiumYearlyPrice { get; set; }

    /// <summary>Signed webhook payloads older (or newer) than this are refused (replays). Default 300 s, as Stripe's libraries.</summary>
    public int ToleranceSeconds { get; set; } = 300;

    /// <summary>Stripe's fee estimate for a payment until the balance transaction is known: basis points of the amount. Default 290.</summary>
    public int FeeBasisPoints { get; set; } = 290;

    /// <summary>Stripe's fixed fee per payment, minor units. Default 30.</summary>
    public long FeeFixed { get; set; } = 30;
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class PaymentOptionsValidator : IValidateOptions<PaymentOptions>
{
    public ValidateOptionsResult Validate(string? name, PaymentOptions o)
    {
        var errors = new List<string>();
        const string S = PaymentOptions.Section;
        if (!Money.IsCurrency(o.Currency))
        {
            errors.Add(S + ":Currency must be a lower-case ISO 4217 code such as usd");
        }

        if (o.PremiumMonthlyAmount < 1 || o.PremiumYearlyAmount < 1)
        {
            errors.Add(S + (o.PremiumMonthlyAmount < 1 ? ":PremiumMonthlyAmount" : ":PremiumYearlyAmount") + " must be at least 1");
        }

        if (o.TipMin < 1 || o.TipMax < o.TipMin)
        {
            errors.Add(S + (o.TipMin < 1 ? ":TipMin must be at least 1" : ":TipMax must be at least TipMin"));
        }

        if (o.GracePeriod < TimeSpan.Zero)
        {
            errors.Add(S + ":GracePeriod must not be negative");
        }

        if (o.CreatorShareBasisPoints is < 0 or > 10_000)
        {
            errors.Add(S + ":CreatorShareBasisPoints must be between 0 and 10000");
        }

        if (o.PremiumPoolBasisPoints is < 0 or > 10_000)
        {
            errors.Add(S + ":PremiumPoolBasisPoints must be between 0 and 10000");
        }

        if (o.HoldPeriod < TimeSpan.Zero)
        {
            errors.Add(S + ":HoldPeriod must not be negative");
        }

        if (o.PayoutMinimum < 1)
        {
            errors.Add(S + ":PayoutMinimum must be at least 1");
        }

        if (o.PollInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add(S + ":PollInterval must be at least 00:00:00.1");
        }

        if (o.Stripe.ToleranceSeconds is < 1 or > 3600)
        {
            errors.Add(S + ":Stripe:ToleranceSeconds must be between 1 and 3600");
        }

        if (o.Stripe.FeeBasisPoints is < 0 or > 10_000)
        {
            errors.Add(S + ":Stripe:FeeBasisPoints must be between 0 and 10000");
        }

        if (o.Stripe.FeeFixed < 0)
        {
            errors.Add(S + ":Stripe:FeeFixed must not be negative");
        }

        if (!Uri.TryCreate(o.Stripe.ApiBase, UriKind.Absolute, out var api) || api.Scheme is not ("https" or "http"))
        {
            errors.Add(S + ":Stripe:ApiBase must be an absolute http(s) URL");
        }

        if (string.IsNullOrEmpty(o.Stripe.SecretKey) != string.IsNullOrEmpty(o.Stripe.WebhookSecret))
        {
            errors.Add(S + ":Stripe:SecretKey and " + S + ":Stripe:WebhookSecret must be set together");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Money: integer minor units and a lower-case ISO 4217 code, always.</summary>
internal static class Money
{
    public static bool IsCurrency(string? c) => c is { Length: 3 } && c.All(ch => ch is >= 'a' and <= 'z');
}
