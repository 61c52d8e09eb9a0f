using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Ledger;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>Payments, memberships and the ledger. Logging event ids 6800-6899.</summary>
internal static class PaymentServices
{
    public static IServiceCollection AddPayments(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PaymentOptions>().Bind(configuration.GetSection(PaymentOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PaymentOptions>, PaymentOptionsValidator>();
        services.AddSingleton<StripeGateway>();
        services.AddSingleton<PaymentWake>();
        services.AddSingleton<PaymentEventQueue>();
        services.AddSingleton<StripeEventHandler>();
        services.AddSingleton<Entitlements>();
        services.AddSingleton<IEntitlements>(sp => sp.GetRequiredService<Entitlements>());
        services.AddSingleton<LedgerStore>();
        services.TryAddSingleton<IPremiumWatchTime, NoPremiumWatchTime>();

        // After the cache refresher (whose start applies the migrations): hosted services start in registration order.
        services.AddSingleton<PaymentWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<PaymentWorker>());
        return services;
    }

    public static IEndpointRouteBuilder MapPayments(this IEndpointRouteBuilder api)
    {
        PaymentEndpoints.MapPayments(api);
        Memberships.MembershipEndpoints.MapMemberships(api);
        LedgerEndpoints.MapLedger(api);
        return api;
    }
}
