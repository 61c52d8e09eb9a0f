using System.ComponentModel.DataAnnotations;

namespace StreamVerse.Origin.Rtmp;

/// <summary>RTMP ingest settings, section <c>StreamVerse:Rtmp</c> (e.g. env <c>StreamVerse__Rtmp__HandshakeTimeout=00:00:10</c>).</summary>
internal sealed class RtmpOptions
{
    public const string SectionName = "StreamVerse:Rtmp";

    /// <summary>The application name in <c>rtmp://host/APP/KEY</c> that publishers must use.</summary>
    [Required]
    public string Application { get; set; } = "live";

    /// <summary>Time from accept until the publish has started (handshake, connect, publish); idle sockets are closed after it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A publishing connection that sends nothing for this long is closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Largest audio/video message accepted from a publishing peer, in bytes (a keyframe must fit; the chunk
    /// header's 24-bit length makes 16 MiB - 1 the most any peer can send). Commands, data and control messages are
    /// capped at 64 KiB, and before a publish has started every message is, with at most 256 KiB buffered.
    /// </summary>
    [Range(64 * 1024, 256 * 1024 * 1024)]
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Chunk size announced to and used towards the peer.</summary>
    [Range(128, 0xFFFFFF)]
    public int OutboundChunkSize { get; set; } = 65536;

    /// <summary>
    /// How long an accepted publish waits for the configuration of every track its onMetaData announced before its
    /// stream starts with what it has (a warning names the missing track). Media that arrives meanwhile is held (at
    /// most 8 MiB). Without onMetaData, and with 0, the stream starts at the first track's configuration.
    /// </summary>
    [Range(0, 30_000)]
    public int TrackWaitMilliseconds { get; set; } = 2000;

    public TimeSpan TrackWait => TimeSpan.FromMilliseconds(TrackWaitMilliseconds);

    /// <summary>Window Acknowledgement Size and Set Peer Bandwidth sent to the peer, in bytes.</summary>
    [Range(4096, int.MaxValue)]
    public int WindowAcknowledgementSize { get; set; } = 2_500_000;

    /// <summary>
    /// Refused stream keys from one address within <see cref="FailedPublishWindow"/> before that address is made to wait
    /// (RTMP and RTMPS alike): its next connections are closed at once for <see cref="FirstPublishBackoff"/>, then twice that
    /// after each further refusal... up to
    /// <see cref="MaxPublishBackoff"/>, while it keeps failing; a publish with a good key clears it. 0 turns it off.
    /// </summary>
    [Range(0, 10_000)]
    public int FailedPublishesBeforeBackoff { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan FailedPublishWindow { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:00.1", "1.00:00:00")]
    public TimeSpan FirstPublishBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxPublishBackoff { get; set; } = TimeSpan.FromMinutes(5);
}
