using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Events;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>A test event: something with an id happened.</summary>
internal sealed record Probe(string Id) : IDomainEvent
{
    public string SubjectId => Id;
}

[JsonSerializable(typeof(Probe))]
internal sealed partial class ProbeJson : JsonSerializerContext;

/// <summary>Which daemon a handler ran in (the fixture's own is "A").</summary>
internal sealed record DaemonTag(string Name);

/// <summary>What the probe handler should do, per probe id: fail its first N runs, or wait at a gate.</summary>
internal sealed class ProbeControl
{
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, (TaskCompletionSource Reached, TaskCompletionSource Released)> Gates { get; } = new(StringComparer.Ordinal);

    /// <summary>Runs of the handler per probe id, whatever their outcome.</summary>
    public ConcurrentDictionary<string, int> Runs { get; } = new(StringComparer.Ordinal);

    /// <summary>Runs of <see cref="ProbeSecondHandler"/> per probe id.</summary>
    public ConcurrentDictionary<string, int> SecondRuns { get; } = new(StringComparer.Ordinal);

    /// <summary>Probe ids whose second handler fails its first run.</summary>
    public ConcurrentDictionary<string, bool> SecondFailsOnce { get; } = new(StringComparer.Ordinal);

    /// <summary>How long every run takes (so that two dispatchers overlap).</summary>
    public TimeSpan Delay { get; set; }

    public void FailFirst(string probeId, int runs) => _failures[probeId] = runs;

    public bool TakeFailure(string probeId) =>
        _failures.TryGetValue(probeId, out var left) && left > 0 && _failures.TryUpdate(probeId, left - 1, left);

    public (TaskCompletionSource Reached, TaskCompletionSource Released) Hold(string probeId) =>
        Gates[probeId] = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>Records its effect as a row of <c>probe_effects</c> (no unique key: a second effect would show as a second row).</summary>
internal sealed class RecordProbe(ProbeControl control, DaemonTag daemon) : IEventHandler<Probe>
{
    public const string Name = "test.record-probe";

    public async Task HandleAsync(DbSession db, Probe @event, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        control.Runs.AddOrUpdate(@event.Id, 1, (_, n) => n + 1);
        if (control.Gates.TryGetValue(@event.Id, out var gate))
        {
            gate.Reached.TrySetResult();
            await gate.Released.Task.WaitAsync(cancellationToken);
        }

        if (control.TakeFailure(@event.Id))
        {
            throw new IOException($"injected failure handling {@event.Id}");
        }

        await db.ExecAsync("INSERT INTO probe_effects (event_id, probe_id, daemon) VALUES (@e, @p, @d)",
            [("e", envelope.EventId), ("p", @event.Id), ("d", daemon.Name)], cancellationToken);
        if (control.Delay > TimeSpan.Zero)
        {
            await Task.Delay(control.Delay, cancellationToken);
        }
    }
}

/// <summary>A second handler of the probe, registered after <see cref="RecordProbe"/>: it can fail while the first succeeded.</summary>
internal sealed class ProbeSecondHandler(ProbeControl control) : IEventHandler<Probe>
{
    public const string Name = "test.second-probe-handler";

    public Task HandleAsync(DbSession db, Probe @event, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        control.SecondRuns.AddOrUpdate(@event.Id, 1, (_, n) => n + 1);
        return control.SecondFailsOnce.TryRemove(@event.Id, out _)
            ? throw new IOException($"injected failure in the second handler of {@event.Id}")
            : Task.CompletedTask;
    }
}

/// <summary>
/// The daemon with a probe event and its handler registered, a fast-polling outbox (small batches, short backoff) and a
/// <c>probe_effects</c> table. For PostgreSQL it can start a second daemon on the same schema.
/// </summary>
public abstract class OutboxApp : ControlPlaneApp, IAsyncLifetime
{
    public const string ProbeType = "test.probe-happened.v1";

    internal ProbeControl Control { get; } = new();

    private readonly List<(WebApplication App, string Data)> _others = [];

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Outbox:PollInterval", "00:00:00.05",
        "--StreamVerse:ControlPlane:Outbox:RetryBaseDelay", "00:00:00.2",
        "--StreamVerse:ControlPlane:Outbox:BatchSize", "5",
        "--StreamVerse:ControlPlane:Outbox:LeaseDuration", "00:00:30",
    ];

    protected override void ConfigureServices(IServiceCollection services) => Register(services, "A");

    private void Register(IServiceCollection services, string daemon)
    {
        base.ConfigureServices(services);
        services.AddSingleton(Control);
        services.AddSingleton(new DaemonTag(daemon));
        services.AddEvent(ProbeType, ProbeJson.Default.Probe);
        services.AddEventHandler<Probe, RecordProbe>(RecordProbe.Name);
        services.AddEventHandler<Probe, ProbeSecondHandler>(ProbeSecondHandler.Name);
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = await Db.OpenAsync(default);
        await db.ExecAsync("CREATE TABLE probe_effects (event_id VARCHAR(32) NOT NULL, probe_id VARCHAR(64) NOT NULL, daemon VARCHAR(8) NOT NULL)", [], default);
    }

    internal Database Db => Get<Database>();

    internal OutboxDispatcher Dispatcher => Services.GetServices<IHostedService>().OfType<OutboxDispatcher>().Single();

    /// <summary>A connection factory of its own, usable while the daemon is stopped.</summary>
    internal Database StandaloneDatabase() => new(
        Microsoft.Extensions.Options.Options.Create(new DatabaseOptions { Provider = Provider, ConnectionString = ConnectionString }),
        Microsoft.Extensions.Options.Options.Create(new ControlPlaneOptions { DataPath = DataDir }));

    /// <summary>Writes one probe per id in one transaction; returns their event ids.</summary>
    internal async Task<List<string>> EmitAsync(params string[] probeIds)
    {
        var outbox = Get<Outbox>();
        await using var db = await Db.OpenAsync(default);
        await db.BeginAsync(default);
        var ids = new List<string>();
        foreach (var id in probeIds)
        {
            ids.Add(await outbox.AddAsync(db, new Probe(id), default));
        }

        await db.CommitAsync(default);
        return ids;
    }

    /// <summary>Polls until every probe event is done.</summary>
    internal async Task WaitForProbesDoneAsync(int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            await using (var db = await Db.OpenAsync(default))
            {
                var open = await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE type = @t AND done_at IS NULL", [("t", ProbeType)], default);
                if (open == 0)
                {
                    return;
                }

                Assert.True(DateTime.UtcNow < deadline, $"{open} probe events still not done");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Effects per probe id (a probe handled twice shows 2).</summary>
    internal async Task<Dictionary<string, long>> EffectsAsync()
    {
        await using var db = await Db.OpenAsync(default);
        var rows = await db.QueryAsync("SELECT probe_id, COUNT(*) FROM probe_effects GROUP BY probe_id", [], (r, _) => (r.GetString(0), Convert.ToInt64(r.GetValue(1))), default);
        return rows.ToDictionary(r => r.Item1, r => r.Item2);
    }

    /// <summary>Another daemon process-alike (its own host, data directory and ports) on the same PostgreSQL schema.</summary>
    internal async Task StartAnotherDaemonAsync(string tag)
    {
        Assert.Equal("postgres", Provider);
        var data = Directory.CreateTempSubdirectory("sv-cp-b-").FullName;
        var port = StreamVerse.Tests.Shared.TestProcesses.FreePort();
        var rtmp = StreamVerse.Tests.Shared.TestProcesses.FreePort();
        string[] args =
        [
            "--data", data, "--http", $"127.0.0.1:{port}", "--rtmp", $"127.0.0.1:{rtmp}",
            "--Logging:LogLevel:Default", "Warning",
            "--StreamVerse:ControlPlane:Database:Provider", "postgres", "--StreamVerse:ControlPlane:Database:ConnectionString", ConnectionString!,
            .. ExtraArgs,
        ];
        var app = OriginHost.Build(args, services => Register(services, tag));
        await app.StartAsync();
        _others.Add((app, data));
    }

    public new async Task DisposeAsync()
    {
        foreach (var (app, data) in _others)
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        await base.DisposeAsync();
    }
}

public sealed class OutboxSqliteApp : OutboxApp
{
    public override string Provider => "sqlite";
}

public sealed class OutboxPostgresApp : OutboxApp
{
    public override string Provider => "postgres";
}
