using System.Buffers.Binary;
using System.Text;

namespace StreamVerse.Segmenter.Tests.Infrastructure;

/// <summary>A parsed ISO BMFF box (test-only): type, absolute offset, size, payload and children for containers.</summary>
internal sealed class Mp4Box
{
    private static readonly HashSet<string> Containers = ["moov", "trak", "mdia", "minf", "stbl", "dinf", "mvex", "moof", "traf"];

    public required string Type { get; init; }

    public required int Offset { get; init; }

    public required int Size { get; init; }

    public required ReadOnlyMemory<byte> Payload { get; init; }

    public List<Mp4Box> Children { get; } = [];

    public static List<Mp4Box> Parse(ReadOnlyMemory<byte> data, int baseOffset = 0)
    {
        var boxes = new List<Mp4Box>();
        var offset = 0;
        while (offset + 8 <= data.Length)
        {
            var size = (int)BinaryPrimitives.ReadUInt32BigEndian(data.Span[offset..]);
            var type = Encoding.ASCII.GetString(data.Span.Slice(offset + 4, 4));
            if (size < 8 || offset + size > data.Length)
            {
                throw new InvalidDataException($"Bad box size {size} for {type} at {baseOffset + offset}");
            }

            var box = new Mp4Box { Type = type, Offset = baseOffset + offset, Size = size, Payload = data.Slice(offset + 8, size - 8) };
            if (Containers.Contains(type))
            {
                box.Children.AddRange(Parse(box.Payload, baseOffset + offset + 8));
            }

            boxes.Add(box);
            offset += size;
        }

        if (offset != data.Length)
        {
            throw new InvalidDataException("Trailing bytes after last box");
        }

        return boxes;
    }

    public Mp4Box Child(string type) => Children.Single(c => c.Type == type);

    public uint U32(int at) => BinaryPrimitives.ReadUInt32BigEndian(Payload.Span[at..]);

    public int I32(int at) => BinaryPrimitives.ReadInt32BigEndian(Payload.Span[at..]);

    public ulong U64(int at) => BinaryPrimitives.ReadUInt64BigEndian(Payload.Span[at..]);
}

/// <summary>The fields of one moof+mdat the tests check.</summary>
internal sealed record Fragment(uint Sequence, ulong BaseDecodeTime, int Version, int DataOffset, int MoofOffset, int MdatPayloadOffset, int MdatPayloadSize, List<(uint Duration, uint Size, uint Flags, int Cto)> Samples)
{
    public ulong TotalDuration => (ulong)Samples.Sum(s => (long)s.Duration);

    public static List<Fragment> ParseAll(byte[] bytes)
    {
        var boxes = Mp4Box.Parse(bytes);
        var result = new List<Fragment>();
        for (var i = 0; i < boxes.Count; i++)
        {
            if (boxes[i].Type != "moof")
            {
                continue;
            }

            var moof = boxes[i];
            var mdat = boxes[i + 1];
            if (mdat.Type != "mdat")
            {
                throw new InvalidDataException("moof not followed by mdat");
            }

            var mfhd = moof.Child("mfhd");
            var traf = moof.Child("traf");
            var tfhd = traf.Child("tfhd");
            if ((tfhd.U32(0) & 0xFFFFFF) != 0x020000)
            {
                throw new InvalidDataException("tfhd flags");
            }

            var tfdt = traf.Child("tfdt");
            var trun = traf.Child("trun");
            var versionFlags = trun.U32(0);
            var version = (int)(versionFlags >> 24);
            var flags = versionFlags & 0xFFFFFF;
            var count = (int)trun.U32(4);
            var dataOffset = trun.I32(8);
            var at = 12;
            var samples = new List<(uint, uint, uint, int)>();
            for (var s = 0; s < count; s++)
            {
                uint duration = 0, size = 0, sampleFlags = 0;
                var cto = 0;
                if ((flags & 0x100) != 0) { duration = trun.U32(at); at += 4; }
                if ((flags & 0x200) != 0) { size = trun.U32(at); at += 4; }
                if ((flags & 0x400) != 0) { sampleFlags = trun.U32(at); at += 4; }
                if ((flags & 0x800) != 0) { cto = trun.I32(at); at += 4; }
                samples.Add((duration, size, sampleFlags, cto));
            }

            result.Add(new Fragment(mfhd.U32(4), tfdt.U64(4), version, dataOffset, moof.Offset, mdat.Offset + 8, mdat.Size - 8, samples));
        }

        return result;
    }
}
