using StreamVerse.ControlPlane.Events;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The outbox and its dispatcher on a daemon of their own (a probe event and a handler that records its effect).</summary>
public abstract class OutboxTests(OutboxApp app)
{
    [Fact]
    public async Task An_event_is_written_only_inside_the_transaction_of_its_change()
    {
        var outbox = app.Get<Outbox>();
        var probe = "outside-" + Guid.NewGuid().ToString("N");
        await using (var db = await app.Db.OpenAsync(default))
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => outbox.AddAsync(db, new Probe(probe), default));
            Assert.Contains("transaction", e.Message);

            // Rolled back (disposed without a commit): the event goes with the change.
            await db.BeginAsync(default);
            await outbox.AddAsync(db, new Probe(probe), default);
        }

        await using (var db = await app.Db.OpenAsync(default))
        {
            Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE subject_id = @s", [("s", probe)], default));
        }
    }

    [Fact]
    public async Task A_handler_that_fails_is_retried_until_it_succeeds_and_its_effect_lands_once()
    {
        var probe = "flaky-" + Guid.NewGuid().ToString("N");
        app.Control.FailFirst(probe, 2);
        var eventId = (await app.EmitAsync(probe)).Single();
        await app.WaitForProbesDoneAsync();

        Assert.Equal(3, app.Control.Runs[probe]);
        Assert.Equal(1L, (await app.EffectsAsync())[probe]);
        await using var db = await app.Db.OpenAsync(default);
        var (attempts, error, leased) = (await db.SingleAsync("SELECT attempts, error, lease_owner FROM outbox WHERE event_id = @e", [("e", eventId)],
            (r, _) => Tuple.Create(Convert.ToInt32(r.GetValue(0)), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)), default))!;
        Assert.Equal(3, attempts);
        Assert.Null(error);
        Assert.Null(leased);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox_handled WHERE event_id = @e AND handler = @h",
            [("e", eventId), ("h", RecordProbe.Name)], default));
    }

    [Fact]
    public async Task When_one_handler_fails_only_that_one_runs_again()
    {
        var probe = "second-" + Guid.NewGuid().ToString("N");
        app.Control.SecondFailsOnce[probe] = true;
        await app.EmitAsync(probe);
        await app.WaitForProbesDoneAsync();

        Assert.Equal(2, app.Control.SecondRuns[probe]);
        Assert.Equal(1, app.Control.Runs[probe]);
        Assert.Equal(1L, (await app.EffectsAsync())[probe]);
    }

    [Fact]
    public async Task Every_event_of_a_batch_is_handled_once()
    {
        var probes = Enumerable.Range(0, 23).Select(i => $"batch{i}-" + Guid.NewGuid().ToString("N")).ToArray();
        await app.EmitAsync(probes);
        await app.WaitForProbesDoneAsync();
        var effects = await app.EffectsAsync();
        Assert.All(probes, p => Assert.Equal(1L, effects[p]));
    }
}

public sealed class OutboxTestsSqlite(OutboxSqliteApp app) : OutboxTests(app), IClassFixture<OutboxSqliteApp>;

public sealed class OutboxTestsPostgres(OutboxPostgresApp app) : OutboxTests(app), IClassFixture<OutboxPostgresApp>;

/// <summary>A daemon of its own that is restarted mid-batch.</summary>
public abstract class OutboxRestartTests(OutboxApp app)
{
    [Fact]
    public async Task Events_interrupted_by_a_stop_or_a_crash_are_handled_once_after_the_restart()
    {
        var stopped = "stopped-" + Guid.NewGuid().ToString("N");
        var crashed = "crashed-" + Guid.NewGuid().ToString("N");
        var doneButUnmarked = "unmarked-" + Guid.NewGuid().ToString("N");
        var gate = app.Control.Hold(stopped);
        var stoppedEvent = (await app.EmitAsync(stopped)).Single();
        await gate.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        app.Control.Gates.TryRemove(stopped, out _); // the next run goes through
        var node = app.Dispatcher.Node;

        await app.RestartAsync(async () =>
        {
            // The stop cancelled the handler mid-run (its transaction rolled back) and handed the event back, uncounted.
            await using var database = app.StandaloneDatabase();
            await using var db = await database.OpenAsync(default);
            var (attempts, owner, done) = (await db.SingleAsync("SELECT attempts, lease_owner, done_at FROM outbox WHERE event_id = @e", [("e", stoppedEvent)],
                (r, _) => Tuple.Create(Convert.ToInt32(r.GetValue(0)), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetValue(2)), default))!;
            Assert.Equal((0, null, null), (attempts, owner, done));
            Assert.Equal(0L, await db.ScalarAsync<long>("SELECT COUNT(*) FROM probe_effects WHERE probe_id = @p", [("p", stopped)], default));

            // Two events as a crash of this node would leave them: one leased to the dead run for another hour; one whose
            // handler had committed (its effect and its handled mark) when the process died before setting done_at.
            var now = DateTimeOffset.UtcNow;
            (string Probe, string Event)[] rows = [(crashed, "ev-" + Guid.NewGuid().ToString("N")[..20]), (doneButUnmarked, "ev-" + Guid.NewGuid().ToString("N")[..20])];
            foreach (var (probe, eventId) in rows)
            {
                await db.ExecAsync(
                    """
                    INSERT INTO outbox (event_id, type, subject_id, payload, occurred_at, run_after, attempts, lease_owner, lease_expires_at)
                    VALUES (@e, @t, @s, @p, @now, @now, 1, @o, @exp)
                    """,
                    [("e", eventId), ("t", OutboxApp.ProbeType), ("s", probe), ("p", JsonSerializer.Serialize(new Probe(probe), ProbeJson.Default.Probe)),
                     ("now", now), ("o", node + ":dead"), ("exp", now.AddHours(1))], default);
            }

            await db.ExecAsync("INSERT INTO outbox_handled (event_id, handler, handled_at) VALUES (@e, @h, @now)", [("e", rows[1].Event), ("h", RecordProbe.Name), ("now", now)], default);
            await db.ExecAsync("INSERT INTO probe_effects (event_id, probe_id, daemon) VALUES (@e, @p, 'A')", [("e", rows[1].Event), ("p", doneButUnmarked)], default);
        });

        await app.WaitForProbesDoneAsync();
        var effects = await app.EffectsAsync();
        Assert.Equal(1L, effects[stopped]);
        Assert.Equal(1L, effects[crashed]);
        Assert.Equal(1L, effects[doneButUnmarked]);
        Assert.False(app.Control.Runs.ContainsKey(doneButUnmarked), "a handler ran again for an event it had handled");
    }
}

[Collection("outbox-restart")]
public sealed class OutboxRestartTestsSqlite(OutboxSqliteApp app) : OutboxRestartTests(app), IClassFixture<OutboxSqliteApp>;

[Collection("outbox-restart")]
public sealed class OutboxRestartTestsPostgres(OutboxPostgresApp app) : OutboxRestartTests(app), IClassFixture<OutboxPostgresApp>;

[CollectionDefinition("outbox-restart")]
public sealed class OutboxRestartCollection;

/// <summary>Two daemons on one PostgreSQL: both dispatch, no handler runs twice for one event.</summary>
public sealed class OutboxTwoDaemonTests(OutboxPostgresApp app) : IClassFixture<OutboxPostgresApp>
{
    [Fact]
    public async Task Two_dispatchers_share_the_events_and_never_handle_one_twice()
    {
        await app.StartAnotherDaemonAsync("B");
        app.Control.Delay = TimeSpan.FromMilliseconds(5);
        var probes = Enumerable.Range(0, 150).Select(i => $"shared{i}-" + Guid.NewGuid().ToString("N")).ToArray();
        for (var i = 0; i < probes.Length; i += 30)
        {
            await app.EmitAsync(probes[i..(i + 30)]);
        }

        await app.WaitForProbesDoneAsync();
        var effects = await app.EffectsAsync();
        Assert.All(probes, p => Assert.Equal(1L, effects[p]));

        // The race was real: both daemons handled some of them.
        await using var db = await app.Db.OpenAsync(default);
        var byDaemon = await db.QueryAsync("SELECT daemon, COUNT(*) FROM probe_effects GROUP BY daemon", [], (r, _) => r.GetString(0), default);
        Assert.True(byDaemon.Count == 2, "only one daemon handled events: " + string.Join(",", byDaemon));
    }
}
