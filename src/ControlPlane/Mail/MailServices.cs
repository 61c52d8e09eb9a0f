using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>
/// The mail feature: options (<c>StreamVerse:ControlPlane:Mail</c>), the account tokens, the durable queue and its
/// sender. Event ids 5600-5699. Call after the cache refresher's registration: its start applies the migrations the
/// sender reads (and the sender's loop outlives a missing table anyway).
/// </summary>
internal static class MailServices
{
    public static IServiceCollection AddMail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MailOptions>().Bind(configuration.GetSection(MailOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsValidator>();
        services.AddSingleton<AccountTokens>();
        services.AddSingleton<MailQueue>();
        services.AddSingleton<MailTemplates>();
        services.AddSingleton<MailThrottle>();
        services.AddSingleton<RegistrationMail>();
        services.AddSingleton<Unsubscribes>();
        services.AddHostedService<MailWorker>();
        return services;
    }
}
