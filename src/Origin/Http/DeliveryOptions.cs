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
}
