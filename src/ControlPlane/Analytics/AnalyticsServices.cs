using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;

namespace StreamVerse.ControlPlane.Analytics;

internal static class AnalyticsServices
{
    /// <summary>
    /// Analytics: options, the store (<see cref="AnalyticsOptions.Store"/>), the buffer that is also the media path's
    /// <see cref="IDeliveryObservations"/>, the writer, and the erasure of a deleted account's rows. Call after the
    /// refresher's registration (its start applies the migrations the writer reads).
    /// </summary>
    public static IServiceCollection AddAnalytics(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.Section))
            .Configure(o =>
            {
                if (o.DuckDbPath.Length == 0)
                {
                    o.DuckDbPath = Path.Combine(configuration["StreamVerse:Data"] ?? "data", "analytics.duckdb");
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AnalyticsOptions>, AnalyticsOptionsValidator>();
        services.AddSingleton<AnalyticsBuffer>();
        services.AddSingleton<IDeliveryObservations>(sp => sp.GetRequiredService<AnalyticsBuffer>());
        services.AddSingleton<ViewerKeys>();
        services.AddHttpClient(nameof(ClickHouseAnalyticsStore), c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<IAnalyticsStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AnalyticsOptions>>().Value;
            return o.IsClickHouse
                ? new ClickHouseAnalyticsStore(sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(ClickHouseAnalyticsStore)), o.ClickHouse)
                : new DuckDbAnalyticsStore(o.DuckDbPath);
        });
        services.AddSingleton<AnalyticsWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AnalyticsWriter>());
        services.AddEvent<AccountDeleted>("accounts.account-deleted.v1");
        services.AddEventHandler<AccountDeleted, ForgetDeletedAccountAnalytics>(ForgetDeletedAccountAnalytics.Name);
        return services;
    }
}

/// <summary>
/// A deleted account's analytics rows go: its viewer key is recomputed from the id (the raw id was never stored) and every
/// row under it is deleted (DuckDB at once; ClickHouse as a mutation it applies in the background). Idempotent, so the
/// outbox's at-least-once delivery may repeat it.
/// </summary>
internal sealed class ForgetDeletedAccountAnalytics(IAnalyticsStore store, AnalyticsWriter writer, ViewerKeys keys) : IEventHandler<AccountDeleted>
{
    public const string Name = "analytics.forget-deleted-account";

    public async Task HandleAsync(DbSession db, AccountDeleted @event, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        await writer.Ready.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        // The outbox's transaction holds SQLite's write lock: the salt is read through it, not through a second connection.
        var viewer = await keys.AccountAsync(@event.AccountId, db, cancellationToken).ConfigureAwait(false);
        foreach (var sql in AnalyticsQueries.ForgetViewer(store.Dialect, viewer))
        {
            await store.ExecAsync(sql, cancellationToken).ConfigureAwait(false);
        }
    }
}
