using System.Net;

namespace StreamVerse.Origin.Http;

/// <summary>
/// The one question the origin asks before serving a stream's playlists and media: may this request play
/// <paramref name="streamName"/>? <paramref name="token"/> is the playback token of a <c>/live/t/{token}/...</c>
/// URL, empty for a plain <c>/live/{name}/...</c> one. Called for every object, so implementations answer from
/// memory (no I/O) and without allocating.
/// </summary>
public interface IPlaybackAuthorizer
{
    bool Allows(string streamName, ReadOnlySpan<char> token, IPAddress? client);
}

/// <summary>Every stream is public: the origin on its own, without a control plane.</summary>
internal sealed class AllowAllPlaybackAuthorizer : IPlaybackAuthorizer
{
    public bool Allows(string streamName, ReadOnlySpan<char> token, IPAddress? client) => token.IsEmpty;
}
