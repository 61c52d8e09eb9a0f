using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamVerse.Functional.Tests.Infrastructure;

/// <summary>The real daemon, started as its own process exactly as README and systemd start it.</summary>
public sealed class Daemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private Daemon(Process process, string dataDir, int httpPort, int rtmpPort)
    {
        _process = process;
        DataDir = dataDir;
        HttpPort = httpPort;
        RtmpPort = rtmpPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string DataDir { get; }
    public int HttpPort { get; }
    public int RtmpPort { get; }
    public HttpClient Http { get; }
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";
    public string RtmpUrl(string key) => $"rtmp://127.0.0.1:{RtmpPort}/live/{key}";
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<Daemon> StartAsync(IEnumerable<string>? extraArgs = null, string? dataDir = null, int? httpPort = null)
    {
        dataDir ??= Directory.CreateTempSubdirectory("sv-data-").FullName;
        httpPort ??= FreePort();
        var rtmpPort = FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Paths.OriginDll);
        foreach (var a in new[] { "--data", dataDir, "--http", $"127.0.0.1:{httpPort}", "--rtmp", $"127.0.0.1:{rtmpPort}" })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in extraArgs ?? [])
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the daemon");
        var daemon = new Daemon(process, dataDir, httpPort.Value, rtmpPort);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                // The parameterless wait also drains the redirected stdout/stderr, so the message is complete.
                process.WaitForExit();
                throw new InvalidOperationException($"daemon exited with {process.ExitCode}:\n{daemon.Output}");
            }

            try
            {
                // Healthy, and this process said it listens (logged once every endpoint is bound): a 200 alone could
                // come from another daemon that took the port first, while this one fails to bind it.
                using var response = await daemon.Http.GetAsync("healthz");
                if (response.StatusCode == HttpStatusCode.OK && daemon.Output.Contains("StreamVerse listening", StringComparison.Ordinal))
                {
                    return daemon;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        await daemon.DisposeAsync();
        throw new TimeoutException($"daemon did not become healthy:\n{daemon.Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>SIGTERM, as systemd stops the service; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            Posix.Kill(_process.Id, Posix.SIGTERM);
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Stops the daemon; a second call does nothing (a test may stop one before its <c>await using</c> ends).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Http.Dispose();
        if (!_process.HasExited)
        {
            try
            {
                await TerminateAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    /// <summary>One sample of a Prometheus counter or gauge from <c>/metrics</c> (0 when absent).</summary>
    public async Task<double> MetricAsync(string name, string labels = "")
    {
        var text = await Http.GetStringAsync("metrics");
        var series = labels.Length == 0 ? name : name + "{" + labels + "}";
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public static int FreePort() => StreamVerse.Tests.Shared.TestProcesses.FreePort();
}

internal static class Posix
{
    public const int SIGTERM = 15;

    public static void Kill(int pid, int sig)
    {
        using var kill = Process.Start("kill", $"-{sig} {pid}");
        kill.WaitForExit();
    }
}
