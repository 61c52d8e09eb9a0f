using Microsoft.AspNetCore.SignalR;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using StreamVerse.ControlPlane.Tests.Infrastructure;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Chat's send limits and the socket's frame cap and protocol errors, on a daemon of their own (<see cref="ChatLimitsApp"/>).</summary>
[Collection("chat-limits")]
public sealed class ChatLimitTests(ChatLimitsApp app)
{
    [Fact]
    public async Task One_account_and_then_one_address_are_held_to_their_rate_limits()
    {
        var owner = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner);
        var first = await app.NewUserAsync();
        await using (var client = await ChatClient.ConnectAsync(app.BaseUrl, first.AccessToken))
        {
            for (var i = 0; i < ChatLimitsApp.AccountLimit; i++)
            {
                await client.SendAsync(video, "message " + i);
            }

            Assert.Equal("rate-limited", await client.RefusedAsync(video, "one too many"));
        }

        // Fresh accounts, one message each, all from 127.0.0.1: the address limit refuses one of them before long, although
        // none reached its own account limit. (Other tests of this fixture may have spent some of the address's window.)
        var sent = 0;
        string? refusal = null;
        for (var i = 0; i < ChatLimitsApp.AddressLimit + 2 && refusal is null; i++)
        {
            var account = await app.NewUserAsync();
            await using var client = await ChatClient.ConnectAsync(app.BaseUrl, account.AccessToken);
            try
            {
                await client.SendAsync(video, "hello from a new account");
                sent++;
            }
            catch (HubException e)
            {
                refusal = e.Message;
            }
        }

        Assert.NotNull(refusal);
        Assert.Contains("rate-limited", refusal, StringComparison.Ordinal);
        Assert.True(sent + ChatLimitsApp.AccountLimit + 1 <= ChatLimitsApp.AddressLimit, $"{sent} fresh accounts sent before the address limit");
    }

    [Fact]
    public async Task An_oversize_frame_closes_only_that_socket()
    {
        await using var survivor = await ChatClient.ConnectAsync(app.BaseUrl);
        using var raw = await RawSocketAsync();
        var invocation = "{\"type\":1,\"invocationId\":\"1\",\"target\":\"JoinChat\",\"arguments\":[\"" + new string('x', ChatLimitsApp.FrameLimit * 2) + "\"]}\u001e";
        await raw.SendAsync(Encoding.UTF8.GetBytes(invocation), WebSocketMessageType.Text, true, default);
        await AssertClosedAsync(raw);
        await AssertAliveAsync(survivor);
    }

    [Fact]
    public async Task A_malformed_frame_closes_only_that_socket()
    {
        await using var survivor = await ChatClient.ConnectAsync(app.BaseUrl);
        using var raw = await RawSocketAsync();
        await raw.SendAsync(Encoding.UTF8.GetBytes("{\"type\":1,\"target\":\u001e"), WebSocketMessageType.Text, true, default);
        await AssertClosedAsync(raw);
        await AssertAliveAsync(survivor);
    }

    /// <summary>A WebSocket speaking the JSON hub protocol by hand, past its handshake (the SignalR clients' skip-negotiation mode).</summary>
    private async Task<ClientWebSocket> RawSocketAsync()
    {
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{app.HttpPort}/api/v1/realtime"), default);
        await ws.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, default);
        var buffer = new byte[1024];
        var r = await ws.ReceiveAsync(buffer, default);
        Assert.Equal("{}\u001e", Encoding.UTF8.GetString(buffer, 0, r.Count));
        return ws;
    }

    /// <summary>The server ends the socket: a close frame (or the connection's end), after at most a close message of the hub protocol.</summary>
    private static async Task AssertClosedAsync(ClientWebSocket ws)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[16 * 1024];
        var frames = new List<string>();
        try
        {
            while (true)
            {
                var r = await ws.ReceiveAsync(buffer, guard.Token);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var text = Encoding.UTF8.GetString(buffer, 0, r.Count);
                frames.Add(text);

                // Pings ({"type":6}) may come first; a completion (type 3) would mean the frame was served.
                Assert.DoesNotContain("\"type\":3", text, StringComparison.Ordinal);
            }
        }
        catch (WebSocketException)
        {
            // The server ended the connection without a close handshake: closed too.
        }
    }

    private async Task AssertAliveAsync(ChatClient survivor)
    {
        Assert.Equal(HubConnectionState.Connected, survivor.Connection.State);
        var owner = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner);
        var joined = await survivor.JoinAsync(video);
        Assert.True(joined.GetProperty("open").GetBoolean());
    }
}
