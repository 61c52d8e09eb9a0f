using StreamVerse.MediaCore.Interop;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>One packet from an H.264 encoder, as length-prefixed NAL units (the avcC sample form).</summary>
/// <remarks><see cref="Data"/> points into <see cref="EncodedPackets"/>' buffer: valid until its next receive.</remarks>
internal readonly ref struct EncodedPacket(long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
{
    public long Dts { get; } = dts;

    public long Pts { get; } = pts;

    public bool IsKeyframe { get; } = isKeyframe;

    public ReadOnlySpan<byte> Data { get; } = data;
}

/// <summary>
/// Drains an H.264 encoder (libx264) packet by packet into one reused buffer, converting libx264's Annex B output to
/// length-prefixed NAL units. The VOD rungs and the live ladder's rungs read their encoders through it.
/// </summary>
internal sealed unsafe class EncodedPackets(int initialBufferBytes)
{
    private byte[] _buffer = new byte[initialBufferBytes];

    /// <summary>
    /// The next packet the encoder has ready; false when it needs more input (EAGAIN) or is fully drained (EOF).
    /// Timestamps are in the encoder's time base. Other errors throw <see cref="AvException"/>.
    /// </summary>
    /// <param name="encoder">Owned by the caller, open.</param>
    /// <param name="packet">Owned by the caller; left unreferenced on return (its bytes are copied out first).</param>
    public bool TryReceive(AVCodecContext* encoder, AVPacket* packet, out EncodedPacket result)
    {
        var r = LibAvCodec.avcodec_receive_packet(encoder, packet);
        if (AvError.IsAgainOrEof(r))
        {
            result = default;
            return false;
        }

        AvError.Check(r, "avcodec_receive_packet (libx264)");
        try
        {
            var length = AnnexB.ToLengthPrefixed(new ReadOnlySpan<byte>(packet->Data, packet->Size), ref _buffer);
            result = new EncodedPacket(packet->Dts, packet->Pts, (packet->Flags & LibAvCodec.PacketFlagKey) != 0, _buffer.AsSpan(0, length));
            return true;
        }
        finally
        {
            LibAvCodec.av_packet_unref(packet);
        }
    }
}
