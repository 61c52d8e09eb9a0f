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
        using var attempt = await t.BeginAsync(account, ip, default);
        attempt.Failed();
        return attempt.RetryAfter;
    }

    private static async Task<TimeSpan?> RefusalAsync(LoginThrottle t, string account, string ip)
    {
        using var attempt = await t.BeginAsync(account, ip, default);
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
        using (var elsewhere = await t.BeginAsync("user0@x", "8.8.8.8", default))
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
        using var first = await t.BeginAsync("a@x", "1.1.1.1", default);
        using var second = await t.BeginAsync("a@x", "1.1.1.1", default);
        var third = t.BeginAsync("a@x", "1.1.1.1", default);
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
        using var running = await t.BeginAsync("a@x", "1.1.1.1", default);
        var waiting = t.BeginAsync("a@x", "1.1.1.1", default);
        Assert.False(waiting.IsCompleted);

        // The success forgives the failure too: two places free, one taken by the waiter.
        running.Succeeded();
        using var admitted = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(admitted.RetryAfter);
        using var another = await t.BeginAsync("a@x", "1.1.1.1", default);
        Assert.Null(another.RetryAfter);

        var last = t.BeginAsync("a@x", "1.1.1.1", default);
        Assert.False(last.IsCompleted);
        admitted.Dispose();
        using var released = await last.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(released.RetryAfter);
    }

    [Fact]
    public async Task An_attempt_cancelled_while_waiting_for_the_address_gives_back_its_account_place()
    {
        var (t, _) = Create(perAccount: 1, perIp: 1);
        using var holder = await t.BeginAsync("a@x", "9.9.9.9", default);
        using var cts = new CancellationTokenSource();
        var waiting = t.BeginAsync("b@x", "9.9.9.9", cts.Token);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // b@x's only place is free again: from another address it is admitted at once.
        var again = t.BeginAsync("b@x", "8.8.8.8", default);
        Assert.True(again.IsCompletedSuccessfully);
        using var admitted = await again;
        Assert.Null(admitted.RetryAfter);
    }
}
