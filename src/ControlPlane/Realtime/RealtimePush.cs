using Microsoft.AspNetCore.SignalR;

namespace StreamVerse.ControlPlane.Realtime;

/// <summary><see cref="IRealtimePush"/> over the hub's lifetime manager: local sockets directly, other daemons' through the backplane.</summary>
internal sealed class RealtimePush(IHubContext<RealtimeHub> hub) : IRealtimePush
{
    public Task ToAccountAsync(string accountId, string type, object payload) =>
        hub.Clients.Group(RealtimeGroups.Account(accountId)).SendAsync(type, payload);

    public Task ToGroupAsync(string group, string type, object payload) =>
        hub.Clients.Group(group).SendAsync(type, payload);
}
