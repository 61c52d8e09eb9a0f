using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Events;

/// <summary>Config section <c>StreamVerse:ControlPlane:Outbox</c>: delivery of domain events.</summary>
internal sealed class OutboxOptions
{
    public const string Section = "StreamVerse:ControlPlane:Outbox";

    /// <summary>Events claimed per round trip.</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>How long a claimed batch stays this process's; then another process may deliver it (handlers that ran are skipped).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the outbox is read when no commit in this process wakes the dispatcher (events of other processes, retries).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait before the first retry of a failed event; doubles with each further attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long delivered events (and their handled marks) are kept before they are deleted.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions o)
    {
        const string S = OutboxOptions.Section + ":";
        var errors = new List<string>();
        if (o.BatchSize is < 1 or > 1000)
        {
            errors.Add(S + "BatchSize must be between 1 and 1000");
        }

        if (o.LeaseDuration < TimeSpan.FromSeconds(1) || o.LeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add(S + "LeaseDuration must be between 00:00:01 and 01:00:00");
        }

        if (o.PollInterval < TimeSpan.FromMilliseconds(10) || o.PollInterval > TimeSpan.FromMinutes(5))
        {
            errors.Add(S + "PollInterval must be between 00:00:00.01 and 00:05:00");
        }

        if (o.RetryBaseDelay < TimeSpan.FromMilliseconds(10) || o.RetryBaseDelay > o.MaxRetryDelay)
        {
            errors.Add(S + "RetryBaseDelay must be at least 00:00:00.01 and at most MaxRetryDelay");
        }

        if (o.MaxRetryDelay > TimeSpan.FromDays(1))
        {
            errors.Add(S + "MaxRetryDelay must be at most 1.00:00:00");
        }

        if (o.Retention < TimeSpan.FromHours(1))
        {
            errors.Add(S + "Retention must be at least 01:00:00");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class EventServices
{
    /// <summary>
    /// The outbox, its dispatcher and the in-process transport (the embedded default), and the events of features that
    /// have no registration of their own (a video's first publication, a channel going live). Call after the
    /// refresher's registration: the dispatcher needs the migrations its start applies.
    /// </summary>
    public static IServiceCollection AddEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OutboxOptions>().Bind(configuration.GetSection(OutboxOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        services.AddSingleton<EventTypes>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<EventHandlers>();
        services.TryAddSingleton<IEventTransport, InProcessEventTransport>();
        services.AddHostedService<OutboxDispatcher>();

        services.AddEvent<Videos.VideoPublished>("videos.video-published.v1");
        services.AddEvent<Channels.ChannelWentLive>("channels.channel-went-live.v1");
        services.AddEvent<Jobs.VideoTranscodeFinished>("jobs.video-transcode-finished.v1");
        services.AddEvent<Jobs.VideoTranscodeFailed>("jobs.video-transcode-failed.v1");
        services.AddSingleton<Videos.VideoPublication>();
        return services;
    }

    /// <summary>Registers <typeparamref name="T"/> under its stable wire name; its JSON comes from <see cref="ControlPlaneJsonContext"/> unless given.</summary>
    public static IServiceCollection AddEvent<T>(this IServiceCollection services, string name, JsonTypeInfo<T>? typeInfo = null)
        where T : class, IDomainEvent
    {
        var info = (JsonTypeInfo?)typeInfo ?? ControlPlaneJsonContext.Default.GetTypeInfo(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is missing from ControlPlaneJsonContext");
        services.AddSingleton(new EventRegistration(typeof(T), name, info));
        return services;
    }

    /// <summary>Runs <typeparamref name="THandler"/> for every <typeparamref name="TEvent"/>; <paramref name="name"/> is its
    /// stable key in <c>outbox_handled</c> (name it for its effect: <c>"notifications.notify-subscribers-of-live"</c>).</summary>
    public static IServiceCollection AddEventHandler<TEvent, THandler>(this IServiceCollection services, string name)
        where TEvent : class, IDomainEvent
        where THandler : class, IEventHandler<TEvent>
    {
        services.TryAddSingleton<THandler>();
        services.AddSingleton(new HandlerRegistration(typeof(TEvent), name,
            (sp, db, e, envelope, ct) => sp.GetRequiredService<THandler>().HandleAsync(db, (TEvent)e, envelope, ct)));
        return services;
    }
}
