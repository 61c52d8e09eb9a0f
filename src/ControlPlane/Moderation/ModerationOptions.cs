using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Moderation;

/// <summary>Config section <c>StreamVerse:ControlPlane:Moderation</c>.</summary>
internal sealed class ModerationOptions
{
    public const string Section = "StreamVerse:ControlPlane:Moderation";

    /// <summary>Reports one account may file per hour (0-10000; 0 turns reporting off). Default 20.</summary>
    public int ReportsPerHour { get; set; } = 20;

    /// <summary>How long a moderator's claim on a case holds (00:00:10 to 1.00:00:00). Default 30 minutes.</summary>
    public TimeSpan ClaimDuration { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long after a removal or strike the affected account may appeal; a removed video's stored
    /// presentation is deleted only after it (00:01:00 to 365.00:00:00). Default 30 days.</summary>
    public TimeSpan AppealWindow { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the worker looks for removed videos whose appeal window has passed (00:00:00.1 to 1.00:00:00). Default 1 hour.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Comments with a link (<c>http://</c>, <c>https://</c> or <c>www.</c>) from accounts younger than this are held for
    /// review (00:00:00 turns it off, up to 365.00:00:00). Default 1 day.</summary>
    public TimeSpan LinkHoldAccountAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Entries of the instance-wide word list (1-10000). Default 1000.</summary>
    public int MaxWords { get; set; } = 1000;
}

/// <summary>Start-up validation: a bad key stops the daemon with a message that names it.</summary>
internal sealed class ModerationOptionsValidator : IValidateOptions<ModerationOptions>
{
    public ValidateOptionsResult Validate(string? name, ModerationOptions o)
    {
        var errors = new List<string>();
        if (o.ReportsPerHour is < 0 or > 10_000)
        {
            errors.Add(ModerationOptions.Section + ":ReportsPerHour must be between 0 and 10000");
        }

        if (o.ClaimDuration < TimeSpan.FromSeconds(10) || o.ClaimDuration > TimeSpan.FromDays(1))
        {
            errors.Add(ModerationOptions.Section + ":ClaimDuration must be between 00:00:10 and 1.00:00:00");
        }

        if (o.AppealWindow < TimeSpan.FromMinutes(1) || o.AppealWindow > TimeSpan.FromDays(365))
        {
            errors.Add(ModerationOptions.Section + ":AppealWindow must be between 00:01:00 and 365.00:00:00");
        }

        if (o.PurgeInterval < TimeSpan.FromMilliseconds(100) || o.PurgeInterval > TimeSpan.FromDays(1))
        {
            errors.Add(ModerationOptions.Section + ":PurgeInterval must be between 00:00:00.1 and 1.00:00:00");
        }

        if (o.LinkHoldAccountAge < TimeSpan.Zero || o.LinkHoldAccountAge > TimeSpan.FromDays(365))
        {
            errors.Add(ModerationOptions.Section + ":LinkHoldAccountAge must be between 00:00:00 and 365.00:00:00");
        }

        if (o.MaxWords is < 1 or > 10_000)
        {
            errors.Add(ModerationOptions.Section + ":MaxWords must be between 1 and 10000");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class ModerationServices
{
    /// <summary>Trust and safety: options, stores, the purge worker; endpoints by <see cref="ModerationEndpoints.MapModeration"/>.</summary>
    public static IServiceCollection AddModeration(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModerationOptions>().Bind(configuration.GetSection(ModerationOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModerationOptions>, ModerationOptionsValidator>();
        services.AddSingleton<ReportStore>();
        services.AddSingleton<ActionStore>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<WordList>();
        services.AddSingleton<Blocks.BlockStore>();
        services.AddHostedService<RemovedVideoPurger>();
        return services;
    }
}
