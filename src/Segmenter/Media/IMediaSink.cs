namespace StreamVerse.Segmenter.Media;

/// <summary>Which elementary stream a sample belongs to.</summary>
public enum TrackKind : byte
{
    Video = 0,
    Audio = 1,
}

/// <summary>
/// Where an ingest (RTMP today, the transcoder later) delivers one stream's elementary data.
/// Calls come from one thread at a time, in decode order per track. Spans are only valid for the
/// duration of the call: the sink copies what it keeps.
/// </summary>
public interface IMediaSink
{
    /// <summary>An H.264 AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1), as in FLV and MP4.</summary>
    void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord);

    /// <summary>An AAC AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1).</summary>
    void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig);

    /// <summary>
    /// One access unit. Timestamps are in 90 kHz ticks on a clock shared by both tracks.
    /// Video data is NAL units with 4-byte big-endian length prefixes (the avcC form);
    /// audio data is one raw AAC frame (no ADTS header).
    /// </summary>
    void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data);

    /// <summary>The publisher is gone; finish the current segment and end the presentation.</summary>
    void OnEnd();
}
