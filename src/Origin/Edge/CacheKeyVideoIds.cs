namespace StreamVerse.Origin.Edge;

/// <summary>
/// The video ids (live stream names) an edge cache key may belong to, so an invalidation of a video drops every object
/// cached for it: <c>/vod/{id}/...</c>, <c>/live/{name}/...</c> and the tokenised <c>/vod/t/{token}/{id}/...</c>,
/// <c>/live/t/{token}/{name}/...</c>. The prefix is compared ignoring case, as routing compares it, and a first segment
/// <c>t</c> yields both readings (the token form, and a video named <c>t</c>): a key purged needlessly costs one origin
/// fetch, a key missed keeps serving what the origin refuses. Kept apart so it can follow the shared playback-path parser.
/// </summary>
internal static class CacheKeyVideoIds
{
    /// <summary>Up to two candidate ids of <paramref name="key"/> (a path, perhaps with a query); nulls where there is none.</summary>
    public static (string? Id, string? TokenisedId) Of(string key)
    {
        var path = key.AsSpan();
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }

        ReadOnlySpan<char> rest;
        if (path.StartsWith("/vod/", StringComparison.OrdinalIgnoreCase))
        {
            rest = path[5..];
        }
        else if (path.StartsWith("/live/", StringComparison.OrdinalIgnoreCase))
        {
            rest = path[6..];
        }
        else
        {
            return (null, null);
        }

        var first = Segment(rest, out rest);
        if (first.IsEmpty)
        {
            return (null, null);
        }

        string? tokenised = null;
        if (first.Equals("t", StringComparison.OrdinalIgnoreCase) && !Segment(rest, out var afterToken).IsEmpty)
        {
            var id = Segment(afterToken, out _);
            tokenised = id.IsEmpty ? null : id.ToString();
        }

        return (first.ToString(), tokenised);
    }

    /// <summary>The segment of <paramref name="path"/> up to its next '/', if one follows (an id always has something under it).</summary>
    private static ReadOnlySpan<char> Segment(ReadOnlySpan<char> path, out ReadOnlySpan<char> rest)
    {
        var slash = path.IndexOf('/');
        if (slash <= 0)
        {
            rest = default;
            return default;
        }

        rest = path[(slash + 1)..];
        return path[..slash];
    }
}
