using Microsoft.AspNetCore.SignalR;
using StreamVerse.ControlPlane.Chat;

namespace StreamVerse.ControlPlane.Realtime;

/// <summary>
/// The socket at <c>/api/v1/realtime</c> (SignalR, JSON hub protocol). Anyone may connect; a connection made with an access
/// token (the <c>Authorization</c> header, or <c>access_token</c> in the query where a browser's WebSocket cannot set headers)
/// belongs to that account, joins its account group, and is closed when the token expires. Anonymous sockets may only read
/// chat. The methods are the chat's (<see cref="ChatService"/>); pushes of other features arrive through <see cref="IRealtimePush"/>.
/// The protocol is documented in the README ("Real-time socket").
/// </summary>
internal sealed partial class RealtimeHub(ChatService chat, ILogger<RealtimeHub> logger) : Hub
{
    public override async Task OnConnectedAsync()
    {
        if (Auth.Caller.From(Context.User!) is { } caller)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, RealtimeGroups.Account(caller.Id), Context.ConnectionAborted).ConfigureAwait(false);
        }

        Log.Connected(logger, Context.ConnectionId, Context.UserIdentifier ?? "anonymous");
        await base.OnConnectedAsync().ConfigureAwait(false);
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        if (exception is not null)
        {
            // A frame over MaximumReceiveMessageSize or one the protocol cannot parse ends here: this socket only.
            Log.ClosedOnError(logger, Context.ConnectionId, exception.GetType().Name);
        }

        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Joins a video's chat (its live chat, or the recording's read-only one): the settings and the last messages.</summary>
    public async Task<ChatJoined> JoinChat(string videoId)
    {
        var joined = await chat.JoinAsync(Context.User!, videoId, Context.ConnectionAborted).ConfigureAwait(false);
        await Groups.AddToGroupAsync(Context.ConnectionId, RealtimeGroups.Chat(videoId), Context.ConnectionAborted).ConfigureAwait(false);
        return joined;
    }

    public Task LeaveChat(string videoId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, RealtimeGroups.Chat(videoId ?? ""), Context.ConnectionAborted);

    /// <summary>Posts to a live chat (signed-in accounts); the message as stored, also pushed to every socket in the chat.</summary>
    public Task<ChatMessageResponse> SendChat(string videoId, string text) =>
        chat.SendAsync(Context.User!, Context.GetHttpContext()?.Connection.RemoteIpAddress, videoId, text, Context.ConnectionAborted);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6200, Level = LogLevel.Debug, Message = "Real-time socket {ConnectionId} connected ({Account})")]
        public static partial void Connected(ILogger logger, string connectionId, string account);

        [LoggerMessage(EventId = 6201, Level = LogLevel.Information, Message = "Real-time socket {ConnectionId} closed on a protocol error ({Error})")]
        public static partial void ClosedOnError(ILogger logger, string connectionId, string error);
    }
}
