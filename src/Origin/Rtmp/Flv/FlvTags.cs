using System.Buffers;
using System.Buffers.Binary;

namespace StreamVerse.Origin.Rtmp.Flv;

/// <summary>What a video tag carries, in the terms of the legacy AVC form (FLV specification 10.1, E.4.3.1).</summary>
internal enum FlvVideoPacketKind : byte
{
    SequenceHeader = 0,
    Frames = 1,
    EndOfSequence = 2,

    /// <summary>A command frame, metadata or another packet type that carries no media.</summary>
    Other = 255,
}

/// <summary>
/// The header of an RTMP video message body (the FLV VIDEODATA without the tag header).
/// Legacy: byte0 = FrameType &lt;&lt; 4 | CodecID, then for AVC AVCPacketType and a signed 24-bit composition
/// time. Enhanced RTMP (veovera enhanced-rtmp v1): bit 7 set, FrameType in bits 4-6, PacketType in the low
/// nibble, then a FourCC; CodedFrames (1) has a composition time, CodedFramesX (3) does not.
/// </summary>
internal readonly record struct FlvVideoTagHeader(
    int FrameType, bool IsEnhanced, int CodecId, uint FourCc, int PacketType, FlvVideoPacketKind Kind, int CompositionTimeMs)
{
    public const int CodecAvc = 7;
    public const int FrameTypeKey = 1;
    public const int FrameTypeCommand = 5;

    public static uint Avc1FourCc => BinaryPrimitives.ReadUInt32BigEndian("avc1"u8);

    public bool IsKeyframe => FrameType == FrameTypeKey;

    /// <summary>True for legacy CodecID 7 and for the enhanced FourCC <c>avc1</c>.</summary>
    public bool IsAvc => IsEnhanced ? FourCc == Avc1FourCc : CodecId == CodecAvc;

    /// <summary>Reads the header; the reader is left at the first byte of the codec payload.</summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out FlvVideoTagHeader header)
    {
        header = default;
        var r = reader;
        if (!r.TryRead(out var b0))
        {
            return false;
        }

        if ((b0 & 0x80) == 0)
        {
            var frameType = b0 >> 4;
            var codecId = b0 & 0x0F;
            if (codecId != CodecAvc || frameType == FrameTypeCommand)
            {
                header = new(frameType, false, codecId, 0, 0, FlvVideoPacketKind.Other, 0);
                reader = r;
                return true;
            }

            if (r.Remaining < 4)
            {
                return false;
            }

            r.TryRead(out var packetType);
            var cts = ReadInt24(ref r);
            var kind = packetType switch
            {
                0 => FlvVideoPacketKind.SequenceHeader,
                1 => FlvVideoPacketKind.Frames,
                2 => FlvVideoPacketKind.EndOfSequence,
                _ => FlvVideoPacketKind.Other,
            };
            header = new(frameType, false, codecId, 0, packetType, kind, kind == FlvVideoPacketKind.Frames ? cts : 0);
            reader = r;
            return true;
        }

        {
            var frameType = (b0 >> 4) & 0x07;
            var packetType = b0 & 0x0F;

            // A command frame (other than metadata) carries a one-byte command instead of a FourCC.
            if (frameType == FrameTypeCommand && packetType != 4)
            {
                header = new(frameType, true, 0, 0, packetType, FlvVideoPacketKind.Other, 0);
                reader = r;
                return true;
            }

            if (!r.TryReadBigEndian(out int fourCc))
            {
                return false;
            }

            var cts = 0;
            FlvVideoPacketKind kind;
            switch (packetType)
            {
                case 0:
                    kind = FlvVideoPacketKind.SequenceHeader;
                    break;
                case 1:
                    if (r.Remaining < 3)
                    {
                        return false;
                    }

                    cts = ReadInt24(ref r);
                    kind = FlvVideoPacketKind.Frames;
                    break;
                case 2:
                    kind = FlvVideoPacketKind.EndOfSequence;
                    break;
                case 3:
                    kind = FlvVideoPacketKind.Frames;
                    break;
                default:
                    kind = FlvVideoPacketKind.Other;
                    break;
            }

            header = new(frameType, true, 0, (uint)fourCc, packetType, kind, cts);
            reader = r;
            return true;
        }
    }

    /// <summary>The FourCC as text for logs (printable ASCII only).</summary>
    public string FourCcText()
    {
        Span<char> chars = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            var c = (char)((FourCc >> (24 - (8 * i))) & 0xFF);
            chars[i] = c is >= ' ' and <= '~' ? c : '?';
        }

        return new string(chars);
    }

    private static int ReadInt24(ref SequenceReader<byte> reader)
    {
        reader.TryRead(out var a);
        reader.TryRead(out var b);
        reader.TryRead(out var c);
        var value = (a << 16) | (b << 8) | c;
        return (value << 8) >> 8; // sign-extend 24 -> 32 bits
    }
}

/// <summary>The header of an RTMP audio message body (FLV specification 10.1, E.4.2.1).</summary>
internal readonly record struct FlvAudioTagHeader(int SoundFormat, int AacPacketType)
{
    public const int SoundFormatAac = 10;

    public bool IsAac => SoundFormat == SoundFormatAac;

    public static bool TryRead(ref SequenceReader<byte> reader, out FlvAudioTagHeader header)
    {
        header = default;
        var r = reader;
        if (!r.TryRead(out var b0))
        {
            return false;
        }

        var format = b0 >> 4;
        if (format != SoundFormatAac)
        {
            header = new(format, -1);
            reader = r;
            return true;
        }

        if (!r.TryRead(out var packetType))
        {
            return false;
        }

        header = new(format, packetType);
        reader = r;
        return true;
    }
}
