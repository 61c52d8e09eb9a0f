using Microsoft.AspNetCore.SignalR;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// A real SignalR client (Microsoft.AspNetCore.SignalR.Client over WebSockets) on a daemon's <c>/api/v1/realtime</c>, with the
/// events it receives queued per client method. Waits are bounded only as a guard against a hang (30 s), never as a measure.
/// </summary>
public sealed class ChatClient : IAsyncDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, Channel<JsonElement>> _events = new(StringComparer.Ordinal);

    private ChatClient(HubConnection connection)
    {
        Connection = connection;
        foreach (var name in new[] { "chat.message", "chat.deleted", "chat.settings", "notification.created" })
        {
            connection.On<JsonElement>(name, e => Queue(name).Writer.TryWrite(e));
        }
    }

    public HubConnection Connection { get; }

    public static async Task<ChatClient> ConnectAsync(string baseUrl, string? accessToken = null)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(baseUrl + "/api/v1/realtime", o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                if (accessToken is not null)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }
            })
            .Build();
        await connection.StartAsync();
        return new ChatClient(connection);
    }

    private Channel<JsonElement> Queue(string name) => _events.GetOrAdd(name, _ => Channel.CreateUnbounded<JsonElement>());

    /// <summary>The next event of client method <paramref name="name"/> (waits for it).</summary>
    public async Task<JsonElement> NextAsync(string name)
    {
        using var cts = new CancellationTokenSource(Guard);
        return await Queue(name).Reader.ReadAsync(cts.Token);
    }

    /// <summary>Events of <paramref name="name"/> already received, without waiting.</summary>
    public List<JsonElement> Drain(string name)
    {
        var list = new List<JsonElement>();
        while (Queue(name).Reader.TryRead(out var e))
        {
            list.Add(e);
        }

        return list;
    }

    public Task<JsonElement> JoinAsync(string videoId) => Connection.InvokeAsync<JsonElement>("JoinChat", videoId);

    public Task<JsonElement> SendAsync(string videoId, string text) => Connection.InvokeAsync<JsonElement>("SendChat", videoId, text);

    /// <summary>The refusal code of a send that must fail (the HubException message is "code: detail").</summary>
    public async Task<string> RefusedAsync(string videoId, string text)
    {
        var e = await Assert.ThrowsAsync<HubException>(() => SendAsync(videoId, text));
        return e.Message[(e.Message.LastIndexOf("HubException: ", StringComparison.Ordinal) is var i and >= 0 ? i + 14 : 0)..].Split(':')[0];
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    /// <summary>A live broadcast of <paramref name="owner"/>'s (a new video marked live, as the ingest marks it) in a new channel; (video, channel).</summary>
    public static async Task<(string Video, string Channel)> LiveVideoAsync(ControlPlaneApp app, Persona owner, string visibility = "public",
        TimeSpan? startedAgo = null)
    {
        var channel = await app.NewChannelAsync(owner);
        var video = (await app.NewVideoAsync(owner, channel, visibility)).GetProperty("id").GetString()!;
        await using var db = await app.Get<Database>().OpenAsync(default);
        await db.ExecAsync("UPDATE videos SET status = 'live', created_at = @at WHERE id = @id",
            [("at", DateTimeOffset.UtcNow - (startedAgo ?? TimeSpan.Zero)), ("id", video)], default);
        return (video, channel);
    }
}
