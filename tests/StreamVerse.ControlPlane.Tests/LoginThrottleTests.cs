using System.Net;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Accounts;

namespace StreamVerse.ControlPlane.Tests;

public sealed class LoginThrottleTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (LoginThrottle, Clock) Create(int perAccount = 3, int perIp = 5)
    {
        var clock = new Clock();
        var options = Options.Create(new ControlPlaneOptions
        {
            LoginMaxFailuresPerAccount = perAccount,
            LoginMaxFailuresPerIp = perIp,
            LoginFailureWindow = TimeSpan.FromMinutes(10),
        });
        return (new LoginThrottle(options, clock), clock);
    }

    private static async Task<TimeSpan?> FailAsync(LoginThrottle t, string account, string ip)
    {
        using var attempt = await t.BeginAsync(account, IPAddress.Parse(ip), default);
        attempt.Failed();
        return attempt.RetryAfter;
    }

    private static async Task<TimeSpan?> RefusalAsync(LoginThrottle t, string account, string ip)
    {
        using var attempt = await t.BeginAsync(account, IPAddress.Parse(ip), default);
        return attempt.RetryAfter;
    }

    [Fact]
    public async Task Per_account_window_slides()
    {
        var (t, clock) = Create();
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await FailAsync(t, "a@x", "1.1.1.1"));
            clock.Now += TimeSpan.FromMinutes(1);
        }

        // Three failures at t = 0, 1, 2 min; now t = 3 min: blocked until the first ages out at 10 min.
        Assert.Equal(TimeSpan.FromMinutes(7), await RefusalAsync(t, "a@x", "2.2.2.2"));
        Assert.Null(await RefusalAsync(t, "b@x", "2.2.2.2"));
        clock.Now += TimeSpan.FromMinutes(7);
        Assert.Null(await RefusalAsync(t, "a@x", "2.2.2.2"));
    }

    [Fact]
    public async Task Per_ip_limit_spans_accounts_and_success_resets_only_the_account()
    {
        var (t, _) = Create(perAccount: 100, perIp: 5);
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await FailAsync(t, $"user{i}@x", "9.9.9.9"));
        }

        Assert.NotNull(await RefusalAsync(t, "fresh@x", "9.9.9.9"));
        using (var elsewhere = await t.BeginAsync("user0@x", IPAddress.Parse("8.8.8.8"), default))
        {
            Assert.Null(elsewhere.RetryAfter);
            elsewhere.Succeeded();
        }

        Assert.NotNull(await RefusalAsync(t, "user0@x", "9.9.9.9"));
    }

    [Fact]
    public async Task Running_attempts_hold_their_places_and_the_next_waits_for_their_outcome()
    {
        var (t, _) = Create(perAccount: 2, perIp: 100);
        using var first = await t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        using var second = await t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        var third = t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        Assert.False(third.IsCompleted);

        // One failure and one still running: still no place.
        first.Failed();
        await Task.Delay(50);
        Assert.False(third.IsCompleted);

        // Two failures fill the window: refused, not admitted.
        second.Failed();
        using var refused = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromMinutes(10), refused.RetryAfter);
    }

    [Fact]
    public async Task A_success_or_a_release_gives_the_place_to_a_waiting_attempt()
    {
        var (t, _) = Create(perAccount: 2, perIp: 100);
        Assert.Null(await FailAsync(t, "a@x", "1.1.1.1"));
        using var running = await t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        var waiting = t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        Assert.False(waiting.IsCompleted);

        // The success forgives the failure too: two places free, one taken by the waiter.
        running.Succeeded();
        using var admitted = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(admitted.RetryAfter);
        using var another = await t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        Assert.Null(another.RetryAfter);

        var last = t.BeginAsync("a@x", IPAddress.Parse("1.1.1.1"), default);
        Assert.False(last.IsCompleted);
        admitted.Dispose();
        using var released = await last.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(released.RetryAfter);
    }

    [Fact]
    public async Task An_attempt_cancelled_while_waiting_for_the_address_gives_back_its_account_place()
    {
        var (t, _) = Create(perAccount: 1, perIp: 1);
        using var holder = await t.BeginAsync("a@x", IPAddress.Parse("9.9.9.9"), default);
        using var cts = new CancellationTokenSource();
        var waiting = t.BeginAsync("b@x", IPAddress.Parse("9.9.9.9"), cts.Token);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // b@x's only place is free again: from another address it is admitted at once.
        var again = t.BeginAsync("b@x", IPAddress.Parse("8.8.8.8"), default);
        Assert.True(again.IsCompletedSuccessfully);
        using var admitted = await again;
        Assert.Null(admitted.RetryAfter);
    }

    [Fact]
    public async Task An_attempt_the_address_limit_refuses_leaves_no_window_for_its_account()
    {
        var (t, _) = Create(perAccount: 100, perIp: 1);
        Assert.Null(await FailAsync(t, "first@x", "9.9.9.9"));
        Assert.Equal(2, t.TrackedKeys);

        // Fifty accounts more from the address that is out of attempts: all refused, none remembered.
        for (var i = 0; i < 50; i++)
        {
            Assert.NotNull(await RefusalAsync(t, $"new{i}@x", "9.9.9.9"));
        }

        Assert.Equal(2, t.TrackedKeys);
    }

    [Fact]
    public async Task An_attempt_the_account_limit_refuses_leaves_no_window_for_its_address()
    {
        var (t, _) = Create(perAccount: 1, perIp: 100);
        Assert.Null(await FailAsync(t, "victim@x", "9.9.9.9"));
        for (var i = 0; i < 50; i++)
        {
            Assert.NotNull(await RefusalAsync(t, "victim@x", $"10.0.0.{i}"));
        }

        Assert.Equal(2, t.TrackedKeys);
    }

    [Fact]
    public async Task The_addresses_of_one_IPv6_64_share_a_window()
    {
        var (t, _) = Create(perAccount: 100, perIp: 2);
        Assert.Null(await FailAsync(t, "a@x", "2001:db8:1:2::1"));
        Assert.Null(await FailAsync(t, "b@x", "2001:db8:1:2:ffff::9"));
        Assert.NotNull(await RefusalAsync(t, "c@x", "2001:db8:1:2::77"));
        Assert.Null(await RefusalAsync(t, "c@x", "2001:db8:1:3::1"));
    }
}

/// <summary>
/// What the throttle keeps is independent of what the client sent. Alone in its collection: it reads the process's
/// heap, which the other tests (daemons in the same process) would otherwise move while it measures.
/// </summary>
[Collection(nameof(ProcessWideStateCollection))]
public sealed class LoginThrottleMemoryTests
{
    [Fact]
    public async Task Windows_keep_a_fixed_size_key_not_the_e_mail_they_count()
    {
        var throttle = new LoginThrottle(Options.Create(new ControlPlaneOptions
        {
            LoginMaxFailuresPerAccount = 5,
            LoginMaxFailuresPerIp = 100_000,
            LoginFailureWindow = TimeSpan.FromMinutes(10),
        }), TimeProvider.System);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        // Fifty failed attempts for fifty 2 MB "e-mails" (the throttle itself does not bound its input; the
        // endpoints do): a throttle that kept its keys as text would hold 100 MB after them.
        for (var i = 0; i < 50; i++)
        {
            using var attempt = await throttle.BeginAsync(new string('x', 1 << 20) + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@x", IPAddress.Loopback, default);
            Assert.Null(attempt.RetryAfter);
            attempt.Failed();
        }

        Assert.Equal(51, throttle.TrackedKeys);
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(throttle);
        Assert.True(retained < 10 << 20, $"the throttle's 51 windows hold {retained} bytes");
    }
}

/// <summary>Tests that read or set state of the whole process (the heap, the umask): they run alone.</summary>
[CollectionDefinition(nameof(ProcessWideStateCollection), DisableParallelization = true)]
public sealed class ProcessWideStateCollection;

