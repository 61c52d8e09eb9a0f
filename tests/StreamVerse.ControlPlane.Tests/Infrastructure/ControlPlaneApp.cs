using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StreamVerse.ControlPlane.Jobs;
using Npgsql;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The real daemon (the Origin's host: Kestrel, RTMP, delivery and the control plane) started in-process on free
/// 127.0.0.1 ports over a fresh data directory, and for PostgreSQL over a fresh schema that is dropped afterwards.
/// </summary>
public abstract class ControlPlaneApp : IAsyncLifetime
{
    public const string AdminEmail = "root-admin@test.invalid";
    public const string Password = "correct horse battery staple";

    private WebApplication? _app;
    private Persona? _admin;
    private string[] _args = [];

    public abstract string Provider { get; }

    public string DataDir { get; } = Directory.CreateTempSubdirectory("sv-cp-").FullName;

    public int HttpPort { get; } = FreePort();

    /// <summary>A small stand-in for src/Web's export (<see cref="TestWebExport"/>), so the daemon's web app serving is
    /// the same whether or not the real app was built in this checkout.</summary>
    public string WebRoot { get; } = TestWebExport.Write(Directory.CreateTempSubdirectory("sv-web-").FullName);

    public int RtmpPort { get; } = FreePort();

    /// <summary>The SRT ingest's UDP port (SrtIngestTests); its listener thread is idle otherwise.</summary>
    public int SrtPort { get; } = FreeUdpPort();

    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

    public string? Schema { get; private set; }

    public string? ConnectionString { get; private set; }

    public HttpClient Http { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    /// <summary>Extra configuration for a subclass (e.g. a tight rate limit).</summary>
    protected virtual IEnumerable<string> ExtraArgs => [];

    /// <summary>What finished uploads handed to the transcoding queue (when the recording queue is the one registered).</summary>
    public RecordingJobQueue Jobs { get; } = new();

    /// <summary>
    /// Runs after the daemon's own registrations. By default the recording job queue stands in only where no real
    /// <c>IVideoJobQueue</c> is registered; a subclass may replace collaborators outright.
    /// </summary>
    protected virtual void ConfigureServices(IServiceCollection services) => services.TryAddSingleton<IVideoJobQueue>(Jobs);

    public async Task InitializeAsync()
    {
        var args = new List<string>
        {
            "--data", DataDir, "--http", $"127.0.0.1:{HttpPort}", "--rtmp", $"127.0.0.1:{RtmpPort}", "--srt", $"127.0.0.1:{SrtPort}",
            "--StreamVerse:ControlPlane:BootstrapAdminEmail", AdminEmail,
            "--StreamVerse:ControlPlane:CorsOrigins:0", "https://app.test.invalid",
            "--StreamVerse:ControlPlane:CacheRefreshInterval", "00:00:00.5",
            "--StreamVerse:Web:Root", WebRoot,

            // The tests register hundreds of accounts from 127.0.0.1; RegistrationTests checks the limit itself.
            "--StreamVerse:ControlPlane:RegistrationsPerAddress", "1000000",

            // Likewise chat's send limits (ChatLimitTests checks them on a daemon of its own).
            "--StreamVerse:ControlPlane:Chat:AccountMessagesPerWindow", "10000",
            "--StreamVerse:ControlPlane:Chat:AddressMessagesPerWindow", "100000",
            // The shared callers file many reports (the authorization matrix); ModerationRateLimitTests checks the limit itself.
            "--StreamVerse:ControlPlane:Moderation:ReportsPerHour", "10000",
            "--Logging:LogLevel:Default", "Warning",
            "--Logging:LogLevel:StreamVerse", "Information",

            // Mail to the real SMTP server on loopback (MailTests read what it received). Publishing without a verified
            // e-mail stays allowed here, as every other test's creators publish unverified; MailGateTests checks the
            // rule on a daemon of its own. The tests send many requests from 127.0.0.1, so only the per-e-mail limit bites.
            "--StreamVerse:ControlPlane:Mail:RequireVerifiedEmailToPublish", "false",
            "--StreamVerse:ControlPlane:Mail:RequestsPerAddress", "0",
        };
        args.AddRange(TestSmtpServer.DaemonArgs());
        if (Provider == "postgres")
        {
            Schema = "t_" + Guid.NewGuid().ToString("N")[..16];
            await using (var conn = new NpgsqlConnection(TestPostgres.ConnectionString))
            {
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {Schema}", conn);
                await cmd.ExecuteNonQueryAsync();
            }

            // A bounded pool, as a deployment sizes it within the server's max_connections: the test server is shared by
            // every fixture (and every concurrent test run), and a burst of 200 requests must queue on the pool rather
            // than open connections the server refuses (53300).
            ConnectionString = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = Schema, MaxPoolSize = 20 }.ToString();
            args.AddRange(["--StreamVerse:ControlPlane:Database:Provider", "postgres", "--StreamVerse:ControlPlane:Database:ConnectionString", ConnectionString]);
        }

        args.AddRange(ExtraArgs);
        _args = [.. args];
        await StartAppAsync();
    }

    private async Task StartAppAsync()
    {
        _app = OriginHost.Build(_args, ConfigureServices);
        await _app.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>
    /// Stops the daemon (gracefully), runs <paramref name="whileStopped"/> (e.g. to make the database look like
    /// the process had crashed), and starts a new daemon on the same ports, data directory and database.
    /// </summary>
    public async Task RestartAsync(Func<Task>? whileStopped = null)
    {
        Http.Dispose();
        await _app!.StopAsync();
        await _app.DisposeAsync();
        _app = null;
        if (whileStopped is not null)
        {
            await whileStopped();
        }

        await StartAppAsync();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Schema is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(TestPostgres.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP SCHEMA {Schema} CASCADE", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        await AfterDisposeAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
            Directory.Delete(WebRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>After the daemon stopped: a subclass ends what it started beside it (a fake payment processor).</summary>
    protected virtual Task AfterDisposeAsync() => Task.CompletedTask;

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    // ---- HTTP helpers -------------------------------------------------------------------------------------

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, object? body = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (content is not null)
        {
            request.Content = content;
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await Http.SendAsync(request);
    }

    public async Task<JsonElement> JsonAsync(HttpMethod method, string path, string? token = null, object? body = null, HttpStatusCode expect = HttpStatusCode.OK)
    {
        using var response = await SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"{method} {path}: expected {(int)expect}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string NewEmail() => $"u{Guid.NewGuid():N}@test.invalid";

    public static string NewHandle() => "h" + Guid.NewGuid().ToString("N")[..20];

    public async Task<Persona> LoginAsync(string email, string password = Password)
    {
        var pair = await JsonAsync(HttpMethod.Post, "api/v1/auth/login", body: new { email, password });
        return new Persona(
            await IdOf(pair.GetProperty("accessToken").GetString()!), email, password,
            pair.GetProperty("accessToken").GetString()!, pair.GetProperty("refreshToken").GetString()!, pair.GetProperty("sessionId").GetString()!);

        async Task<string> IdOf(string token) => (await JsonAsync(HttpMethod.Get, "api/v1/me", token)).GetProperty("id").GetString()!;
    }

    /// <summary>A freshly registered account with <paramref name="role"/> (set by the admin) and a token that carries it.</summary>
    public async Task<Persona> NewUserAsync(string role = "user", bool premium = false)
    {
        var email = NewEmail();
        await JsonAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email, password = Password, handle = NewHandle() }, expect: HttpStatusCode.Accepted);
        var user = await LoginAsync(email);
        if (role != "user" || premium)
        {
            var admin = await AdminAsync();
            if (role != "user")
            {
                await JsonAsync(HttpMethod.Put, $"api/v1/users/{user.Id}/role", admin.AccessToken, new { role });
            }

            if (premium)
            {
                await JsonAsync(HttpMethod.Put, $"api/v1/users/{user.Id}/premium", admin.AccessToken, new { premium = true });
            }

            user = await LoginAsync(email);
        }

        return user;
    }

    /// <summary>Signs the bootstrap admin in again (after a test moved the daemon's clock past its access token's lifetime).</summary>
    public async Task<Persona> RefreshAdminAsync() => _admin = await LoginAsync(AdminEmail);

    public async Task<Persona> AdminAsync()
    {
        if (_admin is null)
        {
            using (var r = await SendAsync(HttpMethod.Post, "api/v1/auth/register", body: new { email = AdminEmail, password = Password, handle = "rootadmin" }))
            {
                Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
            }

            _admin = await LoginAsync(AdminEmail);
        }

        return _admin;
    }

    public async Task<string> NewChannelAsync(Persona owner) =>
        (await JsonAsync(HttpMethod.Post, "api/v1/channels", owner.AccessToken, new { name = "ch " + Guid.NewGuid().ToString("N")[..6] }, HttpStatusCode.Created)).GetProperty("id").GetString()!;

    /// <summary>A new video; <paramref name="playable"/> marks it as a finished transcode would (ready, with a presentation), so viewers' lists show it.</summary>
    public async Task<JsonElement> NewVideoAsync(Persona owner, string channelId, string visibility = "public", string? title = null, string[]? tags = null,
        long? categoryId = null, bool playable = false)
    {
        var video = await JsonAsync(HttpMethod.Post, "api/v1/videos", owner.AccessToken,
            new { channelId, title = title ?? "video " + Guid.NewGuid().ToString("N")[..6], visibility, tags, categoryId }, HttpStatusCode.Created);
        if (!playable)
        {
            return video;
        }

        var id = video.GetProperty("id").GetString()!;
        await using (var db = await Get<StreamVerse.ControlPlane.Data.Database>().OpenAsync(default))
        {
            await db.ExecAsync("UPDATE videos SET status = 'ready', vod_prefix = @p WHERE id = @id", [("p", $"vod/{id}/test"), ("id", id)], default);
        }

        return await JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken);
    }

    private static int FreePort() => StreamVerse.Tests.Shared.TestProcesses.FreePort();

    /// <summary>A TCP-free port (below the ephemeral range) that is also free for UDP.</summary>
    private static int FreeUdpPort()
    {
        while (true)
        {
            var port = FreePort();
            try
            {
                using var udp = new UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }
}

public sealed record Persona(string Id, string Email, string Password, string AccessToken, string RefreshToken, string SessionId);

public sealed class SqliteApp : ControlPlaneApp
{
    public override string Provider => "sqlite";

    /// <summary>The shared daemon's owners leave many uploads unfinished (the authorization matrix makes one per cell): no
    /// per-account count here. UploadQuotaTests holds the quotas to account on a daemon of their own.</summary>
    protected override IEnumerable<string> ExtraArgs => ["--StreamVerse:ControlPlane:Uploads:MaxConcurrentPerAccount", "0"];
}

public sealed class PostgresApp : ControlPlaneApp
{
    public override string Provider => "postgres";

    /// <summary>The shared daemon's owners leave many uploads unfinished (the authorization matrix makes one per cell): no
    /// per-account count here. UploadQuotaTests holds the quotas to account on a daemon of their own.</summary>
    protected override IEnumerable<string> ExtraArgs => ["--StreamVerse:ControlPlane:Uploads:MaxConcurrentPerAccount", "0"];
}

[CollectionDefinition("sqlite")]
public sealed class SqliteCollection : ICollectionFixture<SqliteApp>;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresApp>;

/// <summary>The test PostgreSQL that <c>./setup.sh</c> starts: <c>$STREAMVERSE_TEST_PG</c> or the file setup.sh wrote.</summary>
public static class TestPostgres
{
    public const string EnvFile = "/var/lib/streamverse-test/pg.env";

    public static string ConnectionString { get; } = Find();

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("STREAMVERSE_TEST_PG");
        if (!string.IsNullOrEmpty(env))
        {
            return env;
        }

        if (File.Exists(EnvFile))
        {
            foreach (var line in File.ReadAllLines(EnvFile))
            {
                if (line.StartsWith("STREAMVERSE_TEST_PG=", StringComparison.Ordinal))
                {
                    return line["STREAMVERSE_TEST_PG=".Length..].Trim().Trim('\'', '"');
                }
            }
        }

        throw new InvalidOperationException($"No test PostgreSQL: set STREAMVERSE_TEST_PG or run ./setup.sh deps (writes {EnvFile}).");
    }
}
