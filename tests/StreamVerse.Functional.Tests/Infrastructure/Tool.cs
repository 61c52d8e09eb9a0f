using System.Diagnostics;
using System.Text;

namespace StreamVerse.Functional.Tests.Infrastructure;

/// <summary>Runs an external client (ffmpeg, ffprobe, gst-launch-1.0, node, promtool) and captures its output.</summary>
public sealed class Tool : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private Tool(Process process)
    {
        _process = process;
    }

    public static Tool Start(string file, params string[] args) => StartIn(null, file, args);

    public static Tool StartIn(string? workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var tool = new Tool(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (tool._stdout) { tool._stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (tool._stderr) { tool._stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tool;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, TimeSpan timeout, params string[] args)
    {
        using var tool = Start(file, args);
        var code = await tool.WaitAsync(timeout);
        return (code, tool.Stdout, tool.Stderr);
    }

    public async Task StandardInputWriteAndCloseAsync(string text)
    {
        await _process.StandardInput.WriteAsync(text);
        _process.StandardInput.Close();
    }

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }
    public bool HasExited => _process.HasExited;

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{_process.StartInfo.FileName} did not finish in {timeout}: {Stderr}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    private bool _disposed;

    /// <summary>Kills the tool if it still runs; idempotent (a test may end a publisher before its <c>using</c> does).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
