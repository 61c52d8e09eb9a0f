using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Captions;
using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Videos;

/// <summary>A caption track as delivery serves it: <c>captions/{File}</c> next to the video's versions.</summary>
internal sealed record VodCaptionTrack(string Language, string Label, string File);

/// <summary>What a video plays now: its presentation's storage prefix, its duration (null when unknown) and its caption
/// tracks. <see cref="CaptionsTag"/> changes whenever the tracks do (their file names are new on every upload).</summary>
internal sealed record VodEntry(string Prefix, double? DurationSeconds, VodCaptionTrack[] Captions)
{
    public string CaptionsTag { get; } = string.Join('|', Captions.Select(c => c.File + ":" + c.Label));
}

/// <summary>
/// Which stored presentation a video plays: <c>videos.vod_prefix</c> (<c>vod/{id}/{version}</c>, null while nothing is
/// playable) with its caption tracks, cached in memory for <see cref="ControlPlaneOptions.VodCatalogTtl"/>, answers with no presentation included,
/// so a player polling a video that is still processing costs no query per request. Concurrent lookups of one id share
/// one query. The job runner calls <see cref="Invalidate"/> when it publishes or replaces a version (and the captions
/// endpoints when a track changes), so this process
/// serves the new one at once; other processes see it within the TTL.
/// </summary>
internal sealed class VodCatalog(Database database, IOptions<ControlPlaneOptions> options, TimeProvider time)
{
    /// <summary>Past this many cached ids the cache starts over (a crawler of random ids must not grow it without bound).</summary>
    internal const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long _ttlMs = (long)options.Value.VodCatalogTtl.TotalMilliseconds;

    /// <summary><c>videos.id</c> is at most this long (<c>VARCHAR(32)</c>; ids are 16 characters).</summary>
    private const int MaxIdLength = 32;

    private static readonly Task<VodEntry?> None = Task.FromResult<VodEntry?>(null);

    private sealed record Entry(Task<VodEntry?> Lookup, long ExpiresAtMs);

    /// <summary>Ids cached now (tests).</summary>
    internal int Count => _entries.Count;

    /// <summary>The video's current presentation, or null (no such video, or nothing playable yet).</summary>
    public Task<VodEntry?> ResolveAsync(string videoId, CancellationToken cancellationToken)
    {
        // The id comes from the URL, up to Kestrel's 8 KiB request line: one that no video can have is answered
        // without a query and never becomes a key, so the cache's 100,000 entries are at most 32 characters each.
        if (videoId.Length > MaxIdLength)
        {
            return None;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_entries.TryGetValue(videoId, out var entry) && now < entry.ExpiresAtMs && !entry.Lookup.IsFaulted && !entry.Lookup.IsCanceled)
        {
            return entry.Lookup;
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        // Not cancelled by one caller: other callers may share the query.
        var fresh = new Entry(LookupAsync(videoId), now + _ttlMs);
        _entries[videoId] = fresh;
        return fresh.Lookup.WaitAsync(cancellationToken);
    }

    /// <summary>Forgets what is cached for the video (its presentation was published, replaced or removed).</summary>
    public void Invalidate(string videoId) => _entries.TryRemove(videoId, out _);

    private async Task<VodEntry?> LookupAsync(string videoId)
    {
        await using var db = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
        var rows = await db.QueryAsync("SELECT vod_prefix, duration_seconds FROM videos WHERE id = @id", [("id", videoId)],
            (r, _) => (Prefix: r.IsDBNull(0) ? null : r.GetString(0), Duration: r.IsDBNull(1) ? (double?)null : r.GetDouble(1)),
            CancellationToken.None).ConfigureAwait(false);
        if (rows.Count == 0 || rows[0] is not { Prefix: not null } video)
        {
            return null;
        }

        var captions = await CaptionStore.ListAsync(db, videoId, CancellationToken.None).ConfigureAwait(false);
        return new VodEntry(video.Prefix, video.Duration, [.. captions.Select(c => new VodCaptionTrack(c.Language, c.Label, c.File))]);
    }
}
