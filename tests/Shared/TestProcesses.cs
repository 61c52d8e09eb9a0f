using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StreamVerse.Tests.Shared;

/// <summary>What a finished external tool printed.</summary>
internal sealed record ToolResult(int ExitCode, string StdOut, string StdErr);

/// <summary>
/// Test support linked into every test project (tests/Shared): running a real tool to completion, and picking a
/// port for a daemon under test.
/// </summary>
internal static class TestProcesses
{
    /// <summary>The repository root (the folder holding StreamVerse.sln), found upwards from the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StreamVerse.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("StreamVerse.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a tool; on timeout it is killed and the result has exit code -1 and whatever it printed.</summary>
    public static ToolResult Run(TimeSpan timeout, string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ToolResult(-1, stdout.Result, "timed out\n" + stderr.Result);
        }

        return new ToolResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// A port that is free now, chosen below Linux's ephemeral range (32768-60999): a port the kernel hands out
    /// for bind(0) can be taken a moment later as the local port of any outgoing connection (another test's
    /// HttpClient, an edge's upstream pool), and then the daemon fails to bind it.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port between 20000 and 32000");
    }
}
