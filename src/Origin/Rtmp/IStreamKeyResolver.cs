namespace StreamVerse.Origin.Rtmp;

/// <summary>Maps a publisher's application and stream key to the name of the stream it may publish.</summary>
public interface IStreamKeyResolver
{
    /// <param name="app">The RTMP application from <c>connect</c> (e.g. <c>live</c>).</param>
    /// <param name="key">The publish name without any <c>?query</c>. Secret: never log it.</param>
    /// <param name="cancellationToken">The connection's lifetime.</param>
    /// <returns>The stream to publish to, or null to refuse the publish.</returns>
    ValueTask<string?> ResolveAsync(string app, string key, CancellationToken cancellationToken);
}
