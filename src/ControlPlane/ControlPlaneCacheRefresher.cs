using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.ControlPlane;

/// <summary>
/// At start, before the server accepts requests: applies the schema migrations and fills the in-memory
/// revocation set, protected-video set and playback-token revocations. Then re-reads them periodically, so revocations and visibility changes
/// made by other processes on a shared PostgreSQL reach this one within <see cref="ControlPlaneOptions.CacheRefreshInterval"/>.
/// </summary>
internal sealed partial class ControlPlaneCacheRefresher(
    Database database,
    SessionRevocations revocations,
    ProtectedVideos protectedVideos,
    PlaybackRevocations playbackRevocations,
    EdgeInvalidations edgeInvalidations,
    AccessTokens accessTokens,
    IOptions<ControlPlaneOptions> options,
    TimeProvider time,
    ILogger<ControlPlaneCacheRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await Migrations.ApplyAsync(database, logger, cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CacheRefreshInterval, time);
        while (await Tick(timer, stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                Log.RefreshFailed(logger, e.Message);
            }
        }
    }

    private static async ValueTask<bool> Tick(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var keep = accessTokens.Lifetime + TimeSpan.FromMinutes(1);
        var now = time.GetUtcNow();
        await using (var db = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var recent = await db.QueryAsync("SELECT id, revoked_at FROM sessions WHERE revoked_at > @since", [("since", now - keep)],
                (r, d) => (r.GetString(0), d.ReadTimestamp(r, 1)), cancellationToken).ConfigureAwait(false);
            foreach (var (id, at) in recent)
            {
                revocations.Revoke(id, at + keep);
            }
        }

        revocations.Prune();
        await protectedVideos.ReloadAsync(cancellationToken).ConfigureAwait(false);
        await playbackRevocations.ReloadAsync(cancellationToken).ConfigureAwait(false);
        await edgeInvalidations.PruneAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Control-plane cache refresh failed: {Error}")]
        public static partial void RefreshFailed(ILogger logger, string error);
    }
}
