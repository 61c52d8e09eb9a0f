namespace StreamVerse.Origin.Rtmp.Chunks;

/// <summary>RTMP message type ids (Adobe RTMP specification 1.0, §5.4 and §7.1).</summary>
internal static class RtmpMessageType
{
    public const byte SetChunkSize = 1;
    public const byte Abort = 2;
    public const byte Acknowledgement = 3;
    public const byte UserControl = 4;
    public const byte WindowAcknowledgementSize = 5;
    public const byte SetPeerBandwidth = 6;
    public const byte Audio = 8;
    public const byte Video = 9;
    public const byte DataAmf3 = 15;
    public const byte CommandAmf3 = 17;
    public const byte DataAmf0 = 18;
    public const byte CommandAmf0 = 20;
    public const byte Aggregate = 22;
}

/// <summary>User Control event types (RTMP specification 1.0, §7.1.7).</summary>
internal static class RtmpUserControlEvent
{
    public const ushort StreamBegin = 0;
    public const ushort StreamEof = 1;
    public const ushort SetBufferLength = 3;
    public const ushort PingRequest = 6;
    public const ushort PingResponse = 7;
}

/// <summary>
/// One reassembled message. <see cref="Payload"/> points into a buffer owned by the
/// <see cref="RtmpChunkReader"/> and is valid only until its next <c>TryRead</c> call or disposal.
/// </summary>
internal readonly record struct RtmpMessage(int ChunkStreamId, byte TypeId, uint StreamId, uint Timestamp, ReadOnlyMemory<byte> Payload);
