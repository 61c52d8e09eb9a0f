using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using StreamVerse.ControlPlane.Chat;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>The test Redis that <c>./setup.sh</c> starts: <c>$STREAMVERSE_TEST_REDIS</c> or the file setup.sh wrote.</summary>
public static class TestRedis
{
    public const string EnvFile = "/var/lib/streamverse-test/redis.env";

    public static string Configuration => TestEnvFile.Reader(EnvFile, "Redis")("STREAMVERSE_TEST_REDIS");
}

/// <summary>A media path's answer that the test sets per video (what the segmenter says of a live presentation).</summary>
public sealed class TestMediaClock : ILiveMediaClock
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan> _times = new(StringComparer.Ordinal);

    public void Set(string videoId, TimeSpan mediaTime) => _times[videoId] = mediaTime;

    public TimeSpan? CurrentMediaTime(string videoId) => _times.TryGetValue(videoId, out var t) ? t : null;
}

/// <summary>A daemon (SQLite) with tight chat limits and a small frame cap, for <see cref="ChatLimitTests"/>.</summary>
public sealed class ChatLimitsApp : ControlPlaneApp
{
    public const int AccountLimit = 3;
    public const int AddressLimit = 8;
    public const int FrameLimit = 4096;

    public override string Provider => "sqlite";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Chat:AccountMessagesPerWindow", AccountLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--StreamVerse:ControlPlane:Chat:AddressMessagesPerWindow", AddressLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--StreamVerse:ControlPlane:Chat:RateWindow", "01:00:00",
        "--StreamVerse:ControlPlane:Realtime:MaximumReceiveMessageSize", FrameLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];

}

[CollectionDefinition("chat-limits")]
public sealed class ChatLimitsCollection : ICollectionFixture<ChatLimitsApp>;

/// <summary>
/// Two daemons sharing one PostgreSQL schema and one Redis: A in this process (the usual fixture, with the Redis backplane),
/// B a separate process (<c>dotnet StreamVerse.Origin.dll</c>) on its own ports and data directory. The Redis channel prefix is
/// this fixture's own, so concurrent test runs on the shared Redis do not hear each other. A's media path is a settable clock.
/// </summary>
public class TwoDaemonsApp : ControlPlaneApp, IAsyncLifetime
{
    private readonly string _prefix = "sv-test-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _dataB = Directory.CreateTempSubdirectory("sv-cp-b-").FullName;
    private readonly System.Text.StringBuilder _outputB = new();
    private Process? _b;

    public override string Provider => "postgres";

    public int HttpPortB { get; } = TestProcesses.FreePort();

    public string BaseUrlB => $"http://127.0.0.1:{HttpPortB}";

    public HttpClient HttpB { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    private IEnumerable<string> RedisArgs =>
    [
        "--StreamVerse:ControlPlane:Redis:Configuration", TestRedis.Configuration,
        "--StreamVerse:ControlPlane:Redis:ChannelPrefix", _prefix,
    ];

    protected override IEnumerable<string> ExtraArgs => RedisArgs;

    /// <summary>Arguments daemon B adds to the shared ones (its own tuning in a derived fixture).</summary>
    protected virtual IEnumerable<string> ExtraArgsB => [];

    /// <summary>Daemon A's media path (B has none: its messages count from the broadcast's start).</summary>
    public TestMediaClock Clock { get; } = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<ILiveMediaClock>(Clock);
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var dll = Path.Combine(AppContext.BaseDirectory, "StreamVerse.Origin.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (IEnumerable<string>)
            [
                dll, "--data", _dataB, "--http", BaseUrlB[7..], "--rtmp", $"127.0.0.1:{TestProcesses.FreePort()}",
                "--StreamVerse:ControlPlane:Database:Provider", "postgres", "--StreamVerse:ControlPlane:Database:ConnectionString", ConnectionString!,
                "--StreamVerse:ControlPlane:Mail:RequireVerifiedEmailToPublish", "false",
                "--Logging:LogLevel:Default", "Warning", .. RedisArgs, .. ExtraArgsB,
            ])
        {
            psi.ArgumentList.Add(a);
        }

        _b = Process.Start(psi)!;
        _b.OutputDataReceived += (_, e) => Keep(e.Data);
        _b.ErrorDataReceived += (_, e) => Keep(e.Data);
        _b.BeginOutputReadLine();
        _b.BeginErrorReadLine();
        for (var i = 0; i < 600; i++)
        {
            if (_b.HasExited)
            {
                throw new InvalidOperationException($"daemon B exited with {_b.ExitCode}: {OutputB}");
            }

            try
            {
                using var r = await HttpB.GetAsync(BaseUrlB + "/healthz");
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("daemon B did not answer /healthz: " + OutputB);
    }

    public string OutputB
    {
        get
        {
            lock (_outputB)
            {
                return _outputB.ToString();
            }
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputB)
        {
            if (_outputB.Length < 64 * 1024)
            {
                _outputB.AppendLine(line);
            }
        }
    }

    public new async Task DisposeAsync()
    {
        if (_b is { HasExited: false })
        {
            _b.Kill(entireProcessTree: true);
            await _b.WaitForExitAsync();
        }

        _b?.Dispose();
        HttpB.Dispose();
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_dataB, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition("chat-daemons")]
public sealed class TwoDaemonsCollection : ICollectionFixture<TwoDaemonsApp>;
