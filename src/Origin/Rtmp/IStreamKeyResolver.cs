namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// Maps a publisher's application and stream key to the stream it may publish, in two steps: a check that creates
/// nothing (answered before the publisher is told <c>NetStream.Publish.Start</c>), and the start of the broadcast,
/// once the publish has shown media the ingest accepts. A publish refused in between (an unsupported codec, the
/// publisher leaving) has created nothing.
/// </summary>
public interface IStreamKeyResolver
{
    /// <summary>Checks a key without side effects.</summary>
    /// <param name="app">The RTMP application from <c>connect</c> (e.g. <c>live</c>).</param>
    /// <param name="key">The publish name without any <c>?query</c>. Secret: never log it.</param>
    /// <param name="cancellationToken">The connection's lifetime.</param>
    /// <returns>The grant to start with, or null to refuse the publish.</returns>
    ValueTask<PublishGrant?> CheckAsync(string app, string key, CancellationToken cancellationToken);

    /// <summary>Starts the broadcast a checked key grants (for the control plane: a new live video).</summary>
    /// <returns>The stream to publish to, or null if the key stopped being valid since the check (revoked).</returns>
    ValueTask<string?> BeginAsync(PublishGrant grant, CancellationToken cancellationToken);
}

/// <summary>A checked stream key.</summary>
/// <param name="StreamKeyId">The control plane's id of the key, or null for a key from configuration: revocation names publishes by it.</param>
/// <param name="Subject">Opaque to the ingest, handed back to <see cref="IStreamKeyResolver.BeginAsync"/> (a stream name, or a key's digest).
/// Never logged.</param>
public sealed record PublishGrant(string? StreamKeyId, string Subject)
{
    /// <summary>Names the key, never the subject.</summary>
    public override string ToString() => StreamKeyId ?? "configured key";
}
