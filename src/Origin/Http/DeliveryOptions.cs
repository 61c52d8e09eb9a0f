using System.ComponentModel.DataAnnotations;

namespace StreamVerse.Origin.Http;

/// <summary>Config section <c>StreamVerse:Delivery</c>: how playlists and segments are served.</summary>
internal sealed class DeliveryOptions
{
    public const string Section = "StreamVerse:Delivery";

    /// <summary>Origins allowed by CORS for browser players; <c>*</c> allows any.</summary>
    [MinLength(1)]
    public string[] CorsOrigins { get; set; } = ["*"];

    /// <summary>max-age of a live playlist or MPD that was not a blocking request (seconds).</summary>
    [Range(0, 60)]
    public int LivePlaylistMaxAgeSeconds { get; set; } = 1;

    /// <summary>max-age of the playlists of an ended stream (its recording), in seconds.</summary>
    [Range(0, 86400)]
    public int RecordingPlaylistMaxAgeSeconds { get; set; } = 10;

    /// <summary>max-age of <c>/vod/{id}/index.m3u8</c>, <c>index.mpd</c> and <c>poster.jpg</c>: how long a cache may keep
    /// pointing at a version after it was replaced (seconds).</summary>
    [Range(0, 3600)]
    public int VodIndexMaxAgeSeconds { get; set; } = 5;

    /// <summary>
    /// max-age of an untokenised media object: a VOD presentation's segments, init segments, media playlists and
    /// subtitles, and a live stream's or recording's segments, parts and init segments (seconds). These never change, but
    /// their video may become private or be deleted: this bounds how long a cache that is not purged (a CDN in front;
    /// our edges are purged, see README "Edges") keeps serving them after that. Tokenised answers stay
    /// <c>immutable</c>, with every lifetime cut to the token's expiry.
    /// </summary>
    [Range(1, 31536000)]
    public int PublicMediaMaxAgeSeconds { get; set; } = 300;

    /// <summary>The Cache-Control of an untokenised media object (<see cref="PublicMediaMaxAgeSeconds"/>); stale-if-error
    /// (RFC 5861 §4) lets an edge keep serving it while the origin fails, not once the origin refuses it.</summary>
    internal string PublicMediaCacheControl =>
        "public, max-age=" + PublicMediaMaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + ", stale-if-error=86400";

    /// <summary>Bytes of recent VOD segments kept in memory (0 = off; then every segment is sent from storage).</summary>
    [Range(0, long.MaxValue)]
    public long VodMemoryCacheBytes { get; set; } = 256L << 20;

    /// <summary>
    /// Answer public live playlists, LL-HLS reloads and in-memory parts/segments on the cleartext HTTP/1.1 endpoint
    /// from a connection middleware ahead of Kestrel's HTTP layer (<see cref="FastLane.Http1FastLane"/>). Off only
    /// changes speed: the routed path gives the same answers. It is not installed while a per-IP rate limit or a
    /// bandwidth cap can apply to a request.
    /// </summary>
    public bool FastLane { get; set; } = true;

    /// <summary>
    /// On Linux (x86-64, arm64), the fast lane's endpoint runs on this many epoll event loops of its own
    /// (<see cref="FastLane.EpollFront"/>) that answer what the lane answers at once and give every other connection to
    /// Kestrel's socket transport; default one per core; 0: the lane runs on Kestrel's socket transport alone.
    /// </summary>
    [Range(0, 256)]
    public int? EventLoops { get; set; }

    /// <summary>
    /// Directory for the unnamed files (<c>O_TMPFILE</c>) that large bodies asked for more than once are copied into,
    /// to go to the socket with sendfile (<see cref="FastLane.ZeroCopyBodies"/>); default <c>zero-copy</c> under
    /// <c>StreamVerse:Data</c>. Nothing is ever named there: the files vanish when closed or when the daemon stops.
    /// Empty: memfds (RAM) instead.
    /// </summary>
    public string? ZeroCopyDirectory { get; set; }
}
