namespace StreamVerse.ControlPlane.Chat;

/// <summary>
/// The one question chat asks the media path: how far a live broadcast's presentation has got, as media time from its start
/// (which is also the start of its recording, so a message stamped with it replays in sync). The Origin answers from the
/// segmenter; null when this daemon does not hold the broadcast's ingest (the chat then counts from the broadcast's start).
/// </summary>
internal interface ILiveMediaClock
{
    TimeSpan? CurrentMediaTime(string videoId);
}

/// <summary>Without a media path (the control plane alone): never an answer.</summary>
internal sealed class NoLiveMediaClock : ILiveMediaClock
{
    public TimeSpan? CurrentMediaTime(string videoId) => null;
}
