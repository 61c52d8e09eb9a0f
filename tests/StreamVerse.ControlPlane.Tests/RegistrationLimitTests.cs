using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>A daemon that takes three registrations per address and lets no registration wait for an Argon2id run.</summary>
public sealed class TightRegistrationApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:RegistrationsPerAddress", "3",
        "--StreamVerse:ControlPlane:Argon2RegistrationQueueLimit", "0",
    ];
}

/// <summary>What registrations may cost: a per-address limit before the hash, and a bounded place in the Argon2id queue.</summary>
public sealed class RegistrationLimitTests(TightRegistrationApp app) : IClassFixture<TightRegistrationApp>
{
    private static async Task<HttpResponseMessage> RegisterAsync(HttpClient client, string? email = null, string? handle = null) =>
        await client.PostAsJsonAsync("api/v1/auth/register", new { email = email ?? ControlPlaneApp.NewEmail(), password = ControlPlaneApp.Password, handle = handle ?? ControlPlaneApp.NewHandle() });

    [Fact]
    public async Task Registrations_from_one_address_are_limited_and_a_refused_one_costs_nothing()
    {
        using var flooder = LoginThrottleByAddressTests.ClientFrom(app, "127.0.0.5");
        using var other = LoginThrottleByAddressTests.ClientFrom(app, "127.0.0.6");
        var hasher = app.Get<PasswordHasher>();

        // Bad input is answered before the limit is asked: it neither counts nor is refused as "too many".
        for (var i = 0; i < 5; i++)
        {
            using var bad = await RegisterAsync(flooder, email: "not an e-mail");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        // Three registrations (a taken handle too: it was hashed, so it counts).
        var email = ControlPlaneApp.NewEmail();
        var handle = ControlPlaneApp.NewHandle();
        using (var r = await RegisterAsync(flooder, email, handle))
        {
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        }

        using (var r = await RegisterAsync(flooder, handle: handle))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        }

        using (var r = await RegisterAsync(flooder))
        {
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        }

        var before = hasher.Computations;
        using (var refused = await RegisterAsync(flooder))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without a Retry-After delay");
        }

        Assert.Equal(before, hasher.Computations);

        // Another address registers; the limited one still logs in.
        using (var r = await RegisterAsync(other))
        {
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        }

        using var login = await LoginThrottleByAddressTests.LoginAsync(flooder, email, ControlPlaneApp.Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task With_every_core_hashing_a_registration_over_its_queue_limit_is_a_503_and_a_login_still_waits_its_turn()
    {
        var gate = app.Get<PasswordHasher>().Gate;
        var held = 0;
        try
        {
            for (; held < Environment.ProcessorCount; held++)
            {
                Assert.True(await gate.EnterAsync(HashPriority.SignIn, default));
            }

            using (var busy = await RegisterAsync(LoginThrottleByAddressTests.ClientFrom(app, "127.0.0.7")))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
                Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
                Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
            }

            // A login queues (its queue has room) and is answered once a run ends.
            var login = app.Http.PostAsJsonAsync("api/v1/auth/login", new { email = ControlPlaneApp.NewEmail(), password = "whatever password" });
            while (gate.State.SignInsWaiting == 0)
            {
                await Task.Delay(10);
            }

            gate.Release(HashPriority.SignIn);
            held--;
            using var answer = await login;
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        }
        finally
        {
            for (; held > 0; held--)
            {
                gate.Release(HashPriority.SignIn);
            }
        }
    }
}

public sealed class Argon2GateTests
{
    [Fact]
    public async Task Registrations_never_take_the_last_slot()
    {
        var gate = new Argon2Gate(slots: 2, signInQueueLimit: 10, registrationQueueLimit: 10);
        Assert.True(await gate.EnterAsync(HashPriority.Registration, default));
        var second = gate.EnterAsync(HashPriority.Registration, default).AsTask();
        Assert.False(second.IsCompleted);
        Assert.True(await gate.EnterAsync(HashPriority.SignIn, default).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((2, 0, 1), gate.State);

        gate.Release(HashPriority.Registration);
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_free_slot_goes_to_a_waiting_sign_in_before_an_earlier_registration()
    {
        var gate = new Argon2Gate(slots: 1, signInQueueLimit: 10, registrationQueueLimit: 10);
        Assert.True(await gate.EnterAsync(HashPriority.SignIn, default));
        var registration = gate.EnterAsync(HashPriority.Registration, default).AsTask();
        var signIn = gate.EnterAsync(HashPriority.SignIn, default).AsTask();
        Assert.Equal((1, 1, 1), gate.State);

        gate.Release(HashPriority.SignIn);
        Assert.True(await signIn.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(registration.IsCompleted);

        gate.Release(HashPriority.SignIn);
        Assert.True(await registration.WaitAsync(TimeSpan.FromSeconds(10)));
        gate.Release(HashPriority.Registration);
        Assert.Equal((0, 0, 0), gate.State);
    }

    [Fact]
    public async Task Each_queue_is_bounded_on_its_own()
    {
        var gate = new Argon2Gate(slots: 1, signInQueueLimit: 2, registrationQueueLimit: 1);
        Assert.True(await gate.EnterAsync(HashPriority.SignIn, default));
        var waiting = gate.EnterAsync(HashPriority.Registration, default).AsTask();
        Assert.False(await gate.EnterAsync(HashPriority.Registration, default));

        // The registrations' full queue does not refuse sign-ins, which have their own.
        var first = gate.EnterAsync(HashPriority.SignIn, default).AsTask();
        var second = gate.EnterAsync(HashPriority.SignIn, default).AsTask();
        Assert.False(await gate.EnterAsync(HashPriority.SignIn, default));
        Assert.Equal((1, 2, 1), gate.State);
        Assert.False(waiting.IsCompleted || first.IsCompleted || second.IsCompleted);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue_and_holds_no_slot()
    {
        var gate = new Argon2Gate(slots: 1, signInQueueLimit: 10, registrationQueueLimit: 10);
        Assert.True(await gate.EnterAsync(HashPriority.SignIn, default));
        using var cts = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(HashPriority.SignIn, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal((1, 0, 0), gate.State);

        gate.Release(HashPriority.SignIn);
        Assert.Equal((0, 0, 0), gate.State);
        Assert.True(await gate.EnterAsync(HashPriority.Registration, default));
    }
}
