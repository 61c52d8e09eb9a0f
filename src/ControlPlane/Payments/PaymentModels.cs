namespace StreamVerse.ControlPlane.Payments;

/// <param name="Plan"><c>monthly</c> or <c>yearly</c>.</param>
internal sealed record PremiumCheckoutRequest(string? Plan);

internal sealed record MembershipCheckoutRequest(string? TierId);

/// <param name="Amount">Minor units of the configured currency, between <c>Payments:TipMin</c> and <c>Payments:TipMax</c>.</param>
internal sealed record TipCheckoutRequest(string? ChannelId, long? Amount);

/// <param name="Url">Stripe Checkout's page: send the buyer there.</param>
internal sealed record CheckoutResponse(string SessionId, string Url);

internal sealed record PortalResponse(string Url);

/// <param name="Amount">Minor units to refund; omitted: what is left of the payment.</param>
internal sealed record RefundRequest(long? Amount);

internal sealed record RefundResponse(string PaymentId, string RefundId, long Amount, string Status);

/// <summary>The webhook's answer: received (queued, or a duplicate already stored).</summary>
internal sealed record WebhookReceipt(bool Received, bool Duplicate);

internal static class Plans
{
    public const string Monthly = "monthly";
    public const string Yearly = "yearly";
}
