using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamVerse.Origin.Rtmp;

namespace StreamVerse.Origin.Tests.Rtmp;

/// <summary>A real Kestrel host on 127.0.0.1:0 with the RTMP handler and a recording publish target.</summary>
internal sealed class RtmpTestServer : IAsyncDisposable
{
    public const string Key = "k3y-cam1-Secret-0";
    public const string StreamName = "cam1";

    private readonly WebApplication _app;

    private RtmpTestServer(WebApplication app, RecordingPublishTarget target, CapturingLoggerProvider logs)
    {
        _app = app;
        Target = target;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
    }

    public RecordingPublishTarget Target { get; }

    public CapturingLoggerProvider Logs { get; }

    public int Port { get; }

    public string Url(string key) => $"rtmp://127.0.0.1:{Port}/live/{key}";

    public IServiceProvider Services => _app.Services;

    public static async Task<RtmpTestServer> StartAsync(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StreamVerse:Streams:" + StreamName] = Key,
            ["StreamVerse:Streams:cam2"] = "another-key-0123456",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFilter(_ => true); // the Origin's appsettings.json (copied beside the tests) must not filter what the tests read

        // The copied appsettings.json sets Default = Information; a rule for this provider wins over it.
        builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Debug);

        var target = new RecordingPublishTarget();
        builder.Services.AddSingleton<ILivePublishTarget>(target);
        services?.Invoke(builder.Services);
        builder.Services.AddRtmp(builder.Configuration);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseConnectionHandler<RtmpConnectionHandler>()));
        var app = builder.Build();
        await app.StartAsync();
        return new RtmpTestServer(app, target, logs);
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception}");
    }
}

internal sealed record ProcessResult(int ExitCode, string StandardError);

internal static class Processes
{
    public static async Task<ProcessResult> RunAsync(string file, string arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout}: {await stderr}");
        }

        await stdout;
        return new ProcessResult(process.ExitCode, await stderr);
    }

    public static string FfmpegPublishArgs(string url, double seconds = 3) =>
        "-hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 " +
        $"-t {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} -c:v libx264 -bf 2 -g 25 -preset ultrafast -c:a aac -f flv {url}";
}
