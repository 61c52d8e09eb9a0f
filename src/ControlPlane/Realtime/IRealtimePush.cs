namespace StreamVerse.ControlPlane.Realtime;

/// <summary>
/// What other features know of the real-time socket (<c>/api/v1/realtime</c>): push an event to every socket of one account,
/// or of one group, on every daemon (through the Redis backplane when <c>Redis:Configuration</c> is set). Fire and forget for
/// the caller's purposes: a push reaches the sockets connected at that moment, nothing is stored or replayed, so a feature
/// whose event must not be lost stores it first (the notification list) and pushes after its commit.
/// </summary>
internal interface IRealtimePush
{
    /// <summary>Sends client method <paramref name="type"/> (e.g. <c>notification.created</c>) with one argument, <paramref name="payload"/>, to every socket the account has open.</summary>
    Task ToAccountAsync(string accountId, string type, object payload);

    /// <summary>Sends client method <paramref name="type"/> with <paramref name="payload"/> to every socket in <paramref name="group"/> (see <see cref="RealtimeGroups"/>).</summary>
    Task ToGroupAsync(string group, string type, object payload);
}

/// <summary>The group names of the socket: one per account (joined on connect when signed in) and one per live chat (joined by <c>JoinChat</c>).</summary>
internal static class RealtimeGroups
{
    public static string Account(string accountId) => "account:" + accountId;

    public static string Chat(string videoId) => "chat:" + videoId;
}
