using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>A daemon whose per-address login limit is tight (per-account limit out of the way).</summary>
public sealed class TightIpLimitApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:LoginMaxFailuresPerIp", "3",
        "--StreamVerse:ControlPlane:LoginMaxFailuresPerAccount", "1000",
    ];
}

/// <summary>
/// The per-address login limit through the real HTTP stack. The whole of 127.0.0.0/8 is loopback on Linux, so
/// clients that bind their sockets to 127.0.0.2 and 127.0.0.3 reach the daemon on 127.0.0.1 as two different
/// remote addresses: what two guessing hosts look like to the server, without leaving the machine.
/// </summary>
public sealed class LoginThrottleByAddressTests(TightIpLimitApp app) : IClassFixture<TightIpLimitApp>
{
    private HttpClient ClientFrom(string source) => ClientFrom(app, source);

    internal static HttpClient ClientFrom(ControlPlaneApp app, string source)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(app.BaseUrl + "/") };
    }

    internal static async Task<HttpResponseMessage> LoginAsync(HttpClient client, string email, string password, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/auth/login") { Content = JsonContent.Create(new { email, password }) };
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Guessing_from_one_address_is_stopped_without_locking_out_other_addresses()
    {
        var victim = await app.NewUserAsync();
        using var guesser = ClientFrom("127.0.0.2");
        using var other = ClientFrom("127.0.0.3");

        // Three wrong passwords for three different accounts: the per-account limit (1000) is not what stops it.
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await LoginAsync(guesser, i == 0 ? victim.Email : ControlPlaneApp.NewEmail(), "not the password " + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        // The fourth attempt from that address is refused before the password is checked, even with the right one.
        using (var blocked = await LoginAsync(guesser, victim.Email, victim.Password))
        {
            Assert.Equal((HttpStatusCode)429, blocked.StatusCode);
            Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without a Retry-After delay");
            Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
        }

        // Another address logs in to the same account at once.
        using var fine = await LoginAsync(other, victim.Email, victim.Password);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Fact]
    public async Task Concurrent_guesses_from_one_address_get_no_more_verifications_than_its_limit()
    {
        // Thirty accounts at once from one address: each passes its own account's check, so only taking the
        // address's place before verifying keeps them to three.
        var hasher = app.Get<StreamVerse.ControlPlane.Accounts.PasswordHasher>();
        using var guesser = ClientFrom("127.0.0.4");
        var before = hasher.Computations;
        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            using var r = await LoginAsync(guesser, ControlPlaneApp.NewEmail(), "not the password " + i);
            return (r.StatusCode, r.Headers.RetryAfter?.Delta);
        }));

        Assert.Equal(3, hasher.Computations - before);
        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Unauthorized), a =>
        {
            Assert.Equal((HttpStatusCode)429, a.StatusCode);
            Assert.True(a.Delta > TimeSpan.Zero, "429 without a Retry-After delay");
        });
    }
}

/// <summary>A daemon behind a proxy on 127.0.0.1 (StreamVerse:TrustedProxies), with the tight per-address login limit.</summary>
public sealed class ProxiedApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:TrustedProxies:0", "127.0.0.1",
        "--StreamVerse:ControlPlane:LoginMaxFailuresPerIp", "3",
        "--StreamVerse:ControlPlane:LoginMaxFailuresPerAccount", "1000",
    ];
}

/// <summary>
/// Behind a load balancer every request comes from the balancer: the per-address limit must follow the client it
/// names in X-Forwarded-For, and only when the balancer (a trusted peer) says so.
/// </summary>
public sealed class TrustedProxyTests(ProxiedApp app) : IClassFixture<ProxiedApp>
{
    [Fact]
    public async Task The_address_limit_follows_the_forwarded_client_and_only_a_trusted_proxy_can_name_it()
    {
        using var proxy = LoginThrottleByAddressTests.ClientFrom(app, "127.0.0.1");
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await LoginThrottleByAddressTests.LoginAsync(proxy, ControlPlaneApp.NewEmail(), "nope " + i, "203.0.113.5");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var blocked = await LoginThrottleByAddressTests.LoginAsync(proxy, ControlPlaneApp.NewEmail(), "nope", "203.0.113.5"))
        {
            Assert.Equal((HttpStatusCode)429, blocked.StatusCode);
        }

        // Another viewer behind the same proxy is not locked out by the first one's guesses.
        using (var other = await LoginThrottleByAddressTests.LoginAsync(proxy, ControlPlaneApp.NewEmail(), "nope", "198.51.100.7"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        }

        // A peer that is not a trusted proxy cannot escape its own limit by naming a new address each time.
        using var direct = LoginThrottleByAddressTests.ClientFrom(app, "127.0.0.2");
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await LoginThrottleByAddressTests.LoginAsync(direct, ControlPlaneApp.NewEmail(), "nope " + i, $"192.0.2.{i + 1}");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var refused = await LoginThrottleByAddressTests.LoginAsync(direct, ControlPlaneApp.NewEmail(), "nope", "192.0.2.99");
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
    }
}
