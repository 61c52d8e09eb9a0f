using System.Collections.Concurrent;
using System.Diagnostics;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// tests/browser/push-receiver.mjs: a push service and user agent on loopback that decrypts with the <c>http_ece</c>
/// package and checks VAPID with Node's crypto (code that is not ours). Holds the subscription keys it made and every
/// request it reported.
/// </summary>
public sealed class PushReceiver : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<JsonElement> _received = new();

    private PushReceiver(Process process, JsonElement hello)
    {
        _process = process;
        Port = hello.GetProperty("port").GetInt32();
        P256dh = hello.GetProperty("p256dh").GetString()!;
        Auth = hello.GetProperty("auth").GetString()!;
    }

    public int Port { get; }

    public string P256dh { get; }

    public string Auth { get; }

    public string Endpoint(string name) => $"http://127.0.0.1:{Port}/push/{name}";

    public static async Task<PushReceiver> StartAsync()
    {
        var start = new ProcessStartInfo("node", Path.Combine(TestProcesses.RepoRoot, "tests", "browser", "push-receiver.mjs"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
            ?? throw new InvalidOperationException("push-receiver.mjs ended: " + await process.StandardError.ReadToEndAsync());
        var receiver = new PushReceiver(process, JsonDocument.Parse(first).RootElement.Clone());
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                receiver._received.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
            }
        });
        return receiver;
    }

    /// <summary>Every request to <c>/push/{name}</c> so far.</summary>
    public List<JsonElement> To(string name) => [.. _received.Where(r => r.GetProperty("name").GetString() == name)];

    /// <summary>Waits (up to a minute) until <paramref name="count"/> requests reached <c>/push/{name}</c>.</summary>
    public async Task<List<JsonElement>> WaitForAsync(string name, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var got = To(name);
            if (got.Count >= count)
            {
                return got;
            }

            Assert.True(DateTime.UtcNow < deadline, $"push endpoint {name} received {got.Count} of {count} requests");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
