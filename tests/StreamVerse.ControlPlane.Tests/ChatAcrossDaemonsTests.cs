using System.Diagnostics;
using StreamVerse.ControlPlane.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>Two daemon processes sharing PostgreSQL and Redis (<see cref="TwoDaemonsApp"/>): chat crosses between their sockets.</summary>
[Collection("chat-daemons")]
public sealed class ChatAcrossDaemonsTests(TwoDaemonsApp app)
{
    [Fact]
    public async Task A_message_and_its_deletion_sent_on_daemon_A_reach_a_socket_on_daemon_B_and_back()
    {
        var owner = await app.NewUserAsync();
        var writer = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner);

        await using var onB = await ChatClient.ConnectAsync(app.BaseUrlB);
        await onB.JoinAsync(video);
        await using var onA = await ChatClient.ConnectAsync(app.BaseUrl, writer.AccessToken);
        await onA.JoinAsync(video);

        var sent = await onA.SendAsync(video, "from A");
        var received = await onB.NextAsync("chat.message");
        Assert.Equal(sent.GetProperty("id").GetString(), received.GetProperty("id").GetString());
        Assert.Equal("from A", received.GetProperty("text").GetString());
        Assert.Equal("from A", (await onA.NextAsync("chat.message")).GetProperty("text").GetString()); // the sender's own socket hears it too

        // The owner deletes it through daemon A's HTTP: B's socket is told.
        await app.JsonAsync(HttpMethod.Delete, $"api/v1/videos/{video}/chat/messages/{sent.GetProperty("id").GetString()}", owner.AccessToken,
            expect: HttpStatusCode.NoContent);
        Assert.Equal(sent.GetProperty("id").GetString(), (await onB.NextAsync("chat.deleted")).GetProperty("messageId").GetString());

        // And the other way: an account signed in on B writes; A's socket receives it.
        var login = await app.HttpB.PostAsJsonAsync(app.BaseUrlB + "/api/v1/auth/login", new { email = owner.Email, password = ControlPlaneApp.Password });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        var tokenB = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        await using var writerOnB = await ChatClient.ConnectAsync(app.BaseUrlB, tokenB);
        await writerOnB.SendAsync(video, "from B");
        Assert.Equal("from B", (await onA.NextAsync("chat.message")).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_message_carries_the_media_time_the_media_path_reports_and_replays_by_it()
    {
        var owner = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner, startedAgo: TimeSpan.FromHours(5));
        app.Clock.Set(video, TimeSpan.FromSeconds(42.5));
        await using var client = await ChatClient.ConnectAsync(app.BaseUrl, owner.AccessToken);
        var message = await client.SendAsync(video, "at 42.5 s");
        Assert.Equal(42.5, message.GetProperty("mediaTime").GetDouble());

        var replay = await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages?from=42.5&to=42.501");
        Assert.Equal("at 42.5 s", replay.GetProperty("items")[0].GetProperty("text").GetString());
        Assert.Empty((await app.JsonAsync(HttpMethod.Get, $"api/v1/videos/{video}/chat/messages?from=0&to=42.499")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_browser_page_with_the_JavaScript_client_on_daemon_B_receives_a_message_sent_on_daemon_A()
    {
        var owner = await app.NewUserAsync();
        var (video, _) = await ChatClient.LiveVideoAsync(app, owner);
        var text = "to the browser " + Guid.NewGuid().ToString("N")[..8];
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(TestProcesses.RepoRoot, "tests", "browser", "chat.mjs"), app.BaseUrlB, video, text, "120" })
        {
            psi.ArgumentList.Add(a);
        }

        using var node = Process.Start(psi)!;
        var stderr = node.StandardError.ReadToEndAsync();
        try
        {
            // The page has joined the chat on B (tests/browser/chat.mjs prints "joined"), then A's account writes.
            Assert.Equal("joined", await node.StandardOutput.ReadLineAsync());
            await using var onA = await ChatClient.ConnectAsync(app.BaseUrl, owner.AccessToken);
            await onA.SendAsync(video, text);
            var received = await node.StandardOutput.ReadLineAsync();
            await node.WaitForExitAsync();
            Assert.True(node.ExitCode == 0, $"chat.mjs exited {node.ExitCode}: {await stderr}");
            Assert.Equal(text, JsonDocument.Parse(received!).RootElement.GetProperty("text").GetString());
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
        }
    }
}
