using System.Text.Json;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Videos;

/// <summary>
/// <c>videos.audio_tracks</c>: the current presentation's audio renditions as JSON, written in the same update that
/// switches <c>vod_prefix</c> (so the list always describes the presentation players get), null when there is none.
/// </summary>
internal static class AudioTrackColumn
{
    public static string? Write(IReadOnlyList<AudioTrack> tracks) =>
        tracks.Count == 0 ? null : JsonSerializer.Serialize([.. tracks], ControlPlaneJsonContext.Default.ListAudioTrack);

    public static IReadOnlyList<AudioTrack> Read(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize(json, ControlPlaneJsonContext.Default.ListAudioTrack) ?? [];
}
