using StreamVerse.Origin.Http;

namespace StreamVerse.Origin.Edge;

/// <summary>
/// The video id (live stream name) an edge cache key belongs to, so an invalidation of a video drops every object
/// cached for it: <c>/vod/{id}/...</c>, <c>/live/{name}/...</c> and the tokenised <c>/vod/t/{token}/{id}/...</c>,
/// <c>/live/t/{token}/{name}/...</c>. Read by the one playback-path parser (<see cref="PlaybackPath"/>): a cache key is
/// always a canonical path (other spellings are refused before the cache), perhaps with a query.
/// </summary>
internal static class CacheKeyVideoIds
{
    /// <summary>The video id of <paramref name="key"/>, or null when it is not a playback path.</summary>
    public static string? Of(string key)
    {
        var query = key.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? key[..query] : key;
        var parsed = PlaybackPath.Parse(path);
        return parsed.IsPlayback ? path[parsed.Name] : null;
    }
}
