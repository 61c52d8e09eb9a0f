namespace StreamVerse.ControlPlane.StreamKeys;

/// <summary>Ends running publishes; implemented by the host over the RTMP/RTMPS ingest.</summary>
public interface ILivePublishers
{
    /// <summary>Ends every running publish made with one of these stream key ids; returns how many it ended.</summary>
    int Disconnect(IReadOnlyCollection<string> streamKeyIds, string reason);
}
