using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Comments;
using StreamVerse.ControlPlane.Events;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Subscriptions;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Notifications;

/// <summary>Config section <c>StreamVerse:ControlPlane:Notifications</c>: fan-out, e-mail digests and Web Push.</summary>
internal sealed class NotificationOptions
{
    public const string Section = "StreamVerse:ControlPlane:Notifications";

    /// <summary>Subscribers told per fan-out transaction (one keyset batch, one cursor step).</summary>
    public int FanoutBatchSize { get; set; } = 1000;

    /// <summary>How long a claimed fan-out task is this process's without a batch committing; then another process continues it.</summary>
    public TimeSpan FanoutLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the fan-out tasks, the mails to queue and the pushes to send are looked for when nothing in this process woke the workers.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The high-volume kinds (<c>video-comment</c>, <c>new-subscriber</c>) are mailed as one digest per account and kind once the oldest waiting one is this old.</summary>
    public TimeSpan DigestPeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The VAPID private key (RFC 8292): the base64 of a P-256 private scalar (32 bytes). Empty: generated once into <c>{data}/keys/vapid.key</c>.</summary>
    public string? VapidPrivateKey { get; set; }

    /// <summary>The VAPID <c>sub</c> claim: a <c>mailto:</c> or <c>https:</c> URI the push services can reach the operator at.</summary>
    public string VapidSubject { get; set; } = "mailto:webmaster@localhost";

    /// <summary>The TTL header of a push (RFC 8030 §5.2): how long the push service keeps it for an offline device.</summary>
    public TimeSpan PushTtl { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A push is tried this many times (network errors, 5xx) before it is dropped.</summary>
    public int PushMaxAttempts { get; set; } = 5;

    /// <summary>
    /// Hosts whose push endpoints may be plain <c>http</c> (only for tests and a push service on loopback); every other
    /// endpoint must be <c>https</c>.
    /// </summary>
    public List<string> PushInsecureHosts { get; set; } = [];
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions o)
    {
        const string S = NotificationOptions.Section + ":";
        var errors = new List<string>();
        if (o.FanoutBatchSize is < 1 or > 10_000)
        {
            errors.Add(S + "FanoutBatchSize must be between 1 and 10000");
        }

        if (o.FanoutLease < TimeSpan.FromSeconds(1) || o.FanoutLease > TimeSpan.FromHours(1))
        {
            errors.Add(S + "FanoutLease must be between 00:00:01 and 01:00:00");
        }

        if (o.PollInterval < TimeSpan.FromMilliseconds(10) || o.PollInterval > TimeSpan.FromMinutes(5))
        {
            errors.Add(S + "PollInterval must be between 00:00:00.01 and 00:05:00");
        }

        if (o.DigestPeriod < TimeSpan.FromSeconds(1) || o.DigestPeriod > TimeSpan.FromDays(31))
        {
            errors.Add(S + "DigestPeriod must be between 00:00:01 and 31.00:00:00");
        }

        if (!string.IsNullOrEmpty(o.VapidPrivateKey) && !VapidKeys.TryImport(o.VapidPrivateKey, out _))
        {
            errors.Add(S + "VapidPrivateKey must be the base64 of a P-256 private key (32 bytes)");
        }

        if (!(o.VapidSubject.StartsWith("mailto:", StringComparison.Ordinal) || o.VapidSubject.StartsWith("https://", StringComparison.Ordinal)) || o.VapidSubject.Length > 200)
        {
            errors.Add(S + "VapidSubject must be a mailto: or https:// URI (at most 200 characters)");
        }

        if (o.PushTtl < TimeSpan.Zero || o.PushTtl > TimeSpan.FromDays(28))
        {
            errors.Add(S + "PushTtl must be between 00:00:00 and 28.00:00:00");
        }

        if (o.PushMaxAttempts is < 1 or > 100)
        {
            errors.Add(S + "PushMaxAttempts must be between 1 and 100");
        }

        if (o.PushInsecureHosts.Any(h => Uri.CheckHostName(h) == UriHostNameType.Unknown))
        {
            errors.Add(S + "PushInsecureHosts must list host names or IP addresses");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Notifications: the rules (outbox handlers), the fan-out worker, the mailer of notification e-mails and digests, and
/// Web Push (VAPID keys, devices, the sender). Event ids 6100-6199. Call after the events' registration.
/// </summary>
internal static class NotificationServices
{
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(NotificationOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>();
        services.AddSingleton<NotificationStore>();
        services.AddSingleton<FanoutStore>();
        services.AddSingleton<FanoutSignal>();
        services.AddSingleton<FanoutProgress>();
        services.AddSingleton<NotificationWake>();
        services.AddSingleton<NotificationRealtime>();
        services.AddSingleton<VapidKeys>();
        services.AddSingleton<PushSubscriptionStore>();
        services.AddSingleton<PushSender>();
        services.AddHostedService<FanoutWorker>();
        services.AddHostedService<NotificationMailer>();
        services.AddHostedService(sp => sp.GetRequiredService<PushSender>());

        services.AddEventHandler<VideoPublished, NotifySubscribersOfNewVideo>(NotifySubscribersOfNewVideo.Name);
        services.AddEventHandler<ChannelWentLive, NotifySubscribersOfLive>(NotifySubscribersOfLive.Name);
        services.AddEventHandler<CommentPosted, NotifyOfComment>(NotifyOfComment.Name);
        services.AddEventHandler<ChannelSubscribed, NotifyOwnerOfSubscriber>(NotifyOwnerOfSubscriber.Name);
        services.AddEventHandler<VideoTranscodeFinished, NotifyOwnerOfUploadFinished>(NotifyOwnerOfUploadFinished.Name);
        services.AddEventHandler<VideoTranscodeFailed, NotifyOwnerOfUploadFailed>(NotifyOwnerOfUploadFailed.Name);
        return services;
    }
}
