using StreamVerse.Fuzz.Targets;

namespace StreamVerse.Fuzz;

/// <summary>One parser of untrusted bytes under fuzz: its name (also its corpus folder) and a run over one input.</summary>
/// <param name="Run">Returns normally for any input the parser handles as documented; throws for a finding.</param>
internal sealed record FuzzTarget(string Name, string Parses, Action<byte[]> Run);

internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("rtmp-chunks", "RTMP chunk stream (src/Origin/Rtmp/Chunks/RtmpChunkReader.cs)", RtmpChunksTarget.Run),
        new("rtmp-session", "a whole RTMP connection after the handshake (src/Origin/Rtmp/RtmpSession.cs)", RtmpSessionTarget.Run),
        new("amf0", "AMF0 values (src/Origin/Rtmp/Amf/Amf0Reader.cs)", Amf0Target.Run),
        new("flv", "FLV audio/video tags, AVC and AAC configs (src/Origin/Rtmp/Flv, src/Segmenter/Media)", FlvTarget.Run),
        new("http-head", "fast lane HTTP/1.1 request head (src/Origin/Http/FastLane/Http1RequestHead.cs)", HttpHeadTarget.Run),
        new("http-range", "Range header (StoredObjectWriter.TryParseRange)", HttpRangeTarget.Run),
        new("cache-policy", "upstream Cache-Control and Age (src/Origin/Edge/CachePolicy.cs)", CachePolicyTarget.Run),
        new("tus-headers", "tus Upload-Length/-Offset/-Metadata/-Checksum (src/ControlPlane/Uploads/TusProtocol.cs)", TusHeadersTarget.Run),
        new("caption-text", "uploaded captions, WebVTT or SubRip (src/ControlPlane/Captions/CaptionText.cs)", CaptionTextTarget.Run),
        new("mpegts", "MPEG-TS from SRT publishers: PAT/PMT/PES, H.264 Annex B, AAC ADTS (src/Origin/Srt/MpegTs)", MpegTsTarget.Run),
        new("playback-path", "tokenised playback paths (PlaybackPaths adapter)", PlaybackPathTarget.Run),
        new("cmcd", "CMCD query argument and headers (src/Origin/Audience/Cmcd.cs)", CmcdTarget.Run),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
