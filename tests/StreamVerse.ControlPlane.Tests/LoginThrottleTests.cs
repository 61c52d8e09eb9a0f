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

    [Fact]
    public void Per_account_window_slides()
    {
        var (t, clock) = Create();
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(t.RetryAfter("a@x", "1.1.1.1"));
            t.Failed("a@x", "1.1.1.1");
            clock.Now += TimeSpan.FromMinutes(1);
        }

        // Three failures at t = 0, 1, 2 min; now t = 3 min: blocked until the first ages out at 10 min.
        Assert.Equal(TimeSpan.FromMinutes(7), t.RetryAfter("a@x", "2.2.2.2"));
        Assert.Null(t.RetryAfter("b@x", "2.2.2.2"));
        clock.Now += TimeSpan.FromMinutes(7);
        Assert.Null(t.RetryAfter("a@x", "2.2.2.2"));
    }

    [Fact]
    public void Per_ip_limit_spans_accounts_and_success_resets_only_the_account()
    {
        var (t, _) = Create(perAccount: 100, perIp: 5);
        for (var i = 0; i < 5; i++)
        {
            t.Failed($"user{i}@x", "9.9.9.9");
        }

        Assert.NotNull(t.RetryAfter("fresh@x", "9.9.9.9"));
        Assert.Null(t.RetryAfter("fresh@x", "8.8.8.8"));
        t.Succeeded("user0@x");
        Assert.NotNull(t.RetryAfter("user0@x", "9.9.9.9"));
    }
}
