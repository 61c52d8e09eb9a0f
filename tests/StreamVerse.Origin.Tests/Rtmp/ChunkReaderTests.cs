using System.Buffers;
using System.Buffers.Binary;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Chunks;
using static StreamVerse.Origin.Tests.Rtmp.SequenceHelpers;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class ChunkReaderTests
{
    internal sealed record Msg(int Csid, byte Type, uint StreamId, uint Timestamp, byte[] Payload)
    {
        public bool Equals(Msg? other) => other is not null && Csid == other.Csid && Type == other.Type && StreamId == other.StreamId
            && Timestamp == other.Timestamp && Payload.AsSpan().SequenceEqual(other.Payload);

        public override int GetHashCode() => HashCode.Combine(Csid, Type, StreamId, Timestamp, Payload.Length);
    }

    private static Msg Copy(RtmpMessage m) => new(m.ChunkStreamId, m.TypeId, m.StreamId, m.Timestamp, m.Payload.ToArray());

    private static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>
    /// A stream that exercises all four header types, 1/2/3-byte csids, extended timestamps (also on type 3
    /// continuations and on a type 3 new message), a Set Chunk Size in the middle, and an empty message.
    /// </summary>
    internal static (byte[] Bytes, List<Msg> Expected) SampleStream()
    {
        var writer = new RtmpChunkWriter();
        var output = new ArrayBufferWriter<byte>();
        var expected = new List<Msg>();

        void Write(int csid, byte type, uint streamId, uint ts, byte[] payload)
        {
            writer.Write(output, csid, type, streamId, ts, payload);
            expected.Add(new Msg(csid, type, streamId, ts, payload));
        }

        // Video on csid 6 with a steady 40 ms delta: fmt 0, then 1 (new length), then 2/3.
        uint ts = 0;
        for (var i = 0; i < 6; i++)
        {
            Write(6, RtmpMessageType.Video, 1, ts, Payload(i % 2 == 0 ? 300 : 300 + i, i));
            ts += 40;
        }

        // Same length and delta -> type 3 new messages.
        Write(4, RtmpMessageType.Audio, 1, 1000, Payload(20, 50));
        Write(4, RtmpMessageType.Audio, 1, 1023, Payload(20, 51));
        Write(4, RtmpMessageType.Audio, 1, 1046, Payload(20, 52));
        Write(4, RtmpMessageType.Audio, 1, 1069, Payload(20, 53));

        // Switch chunk size to 4096 (the reader applies it immediately).
        var chunkSize = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(chunkSize, 4096);
        Write(2, RtmpMessageType.SetChunkSize, 0, 0, chunkSize);
        writer.ChunkSize = 4096;
        Write(6, RtmpMessageType.Video, 1, ts, Payload(10_000, 7));

        // Two- and three-byte chunk stream ids.
        Write(64, RtmpMessageType.DataAmf0, 1, 5, Payload(70, 8));
        Write(319, RtmpMessageType.DataAmf0, 1, 5, Payload(70, 9));
        Write(320, RtmpMessageType.DataAmf0, 1, 5, Payload(70, 10));
        Write(65599, RtmpMessageType.DataAmf0, 1, 5, Payload(9000, 11));

        // Extended timestamps: absolute > 0xFFFFFF with continuation chunks, then deltas.
        writer.ChunkSize = 4096;
        Write(7, RtmpMessageType.Video, 1, 0x01000000, Payload(9000, 12));
        Write(7, RtmpMessageType.Video, 1, 0x01000028, Payload(9000, 13));
        Write(7, RtmpMessageType.Video, 1, 0xFFFFFFF0, Payload(100, 14));

        // Type 3 new messages whose repeated delta is an extended timestamp (after a type 0, the delta is the
        // absolute field), one of them spanning two chunks.
        Write(9, RtmpMessageType.Video, 1, 0x01000000, Payload(5000, 16));
        Write(9, RtmpMessageType.Video, 1, 0x02000000, Payload(5000, 17));
        Write(9, RtmpMessageType.Video, 1, 0x03000000, Payload(5000, 18));

        // Zero-length message.
        Write(8, RtmpMessageType.Audio, 1, 2000, []);
        Write(8, RtmpMessageType.Audio, 1, 2010, Payload(3, 15));
        return (output.WrittenSpan.ToArray(), expected);
    }

    [Fact]
    public void Writer_uses_every_header_type()
    {
        var (bytes, _) = SampleStream();
        var fmts = new HashSet<int>();
        // Walk the stream with a reader to be sure it parses, and sniff header types of message starts.
        using var reader = new RtmpChunkReader();
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        while (!sequence.End)
        {
            sequence.TryPeek(out var first);
            fmts.Add(first >> 6);
            var before = sequence.Consumed;
            reader.TryRead(ref sequence, out _);
            Assert.True(sequence.Consumed > before);
        }

        Assert.Equal([0, 1, 2, 3], fmts.Order());
    }

    [Fact]
    public void Whole_stream_parses_to_the_written_messages()
    {
        var (bytes, expected) = SampleStream();
        using var reader = new RtmpChunkReader();
        var messages = ParseAll<RtmpMessage, Msg>(new ReadOnlySequence<byte>(bytes), reader.TryRead, Copy, out var remaining);
        Assert.Equal(0, remaining);
        Assert.Equal(expected, messages);
    }

    [Fact]
    public void Every_two_segment_split_gives_the_same_messages()
    {
        var (bytes, expected) = SampleStream();
        for (var split = 0; split <= bytes.Length; split += split < 2000 ? 1 : 7)
        {
            using var reader = new RtmpChunkReader();
            var sequence = Segments(bytes[..split], bytes[split..]);
            var messages = ParseAll<RtmpMessage, Msg>(sequence, reader.TryRead, Copy, out var remaining);
            Assert.Equal(0, remaining);
            Assert.Equal(expected, messages);
        }
    }

    [Fact]
    public void Every_split_point_delivered_incrementally_gives_the_same_messages()
    {
        var (bytes, expected) = SampleStream();
        for (var split = 0; split <= bytes.Length; split += split < 2000 ? 1 : 7)
        {
            using var reader = new RtmpChunkReader();
            var messages = ParseIncrementally<RtmpMessage, Msg>([bytes[..split], bytes[split..]], reader.TryRead, Copy);
            Assert.Equal(expected, messages);
        }
    }

    [Fact]
    public void One_byte_at_a_time_gives_the_same_messages()
    {
        var (bytes, expected) = SampleStream();
        using var reader = new RtmpChunkReader();
        var messages = ParseIncrementally<RtmpMessage, Msg>(Bytewise(bytes), reader.TryRead, Copy);
        Assert.Equal(expected, messages);
    }

    [Fact]
    public void Interleaved_chunk_streams_are_reassembled()
    {
        // Message A (csid 4, 300 bytes) in three 128-byte chunks with message B (csid 5) between its chunks.
        var a = Payload(300, 1);
        var b = Payload(50, 2);
        var bytes = new List<byte>();
        bytes.AddRange(Type0(4, 100, 300, RtmpMessageType.Video, 1));
        bytes.AddRange(a[..128]);
        bytes.AddRange(Type0(5, 90, 50, RtmpMessageType.Audio, 1));
        bytes.AddRange(b);
        bytes.Add(0xC4); // fmt 3, csid 4
        bytes.AddRange(a[128..256]);
        bytes.Add(0xC4);
        bytes.AddRange(a[256..]);
        var data = bytes.ToArray();

        Msg[] expected = [new(5, RtmpMessageType.Audio, 1, 90, b), new(4, RtmpMessageType.Video, 1, 100, a)];
        for (var split = 0; split <= data.Length; split++)
        {
            using var reader = new RtmpChunkReader();
            Assert.Equal(expected, ParseIncrementally<RtmpMessage, Msg>([data[..split], data[split..]], reader.TryRead, Copy));
        }
    }

    [Fact]
    public void Type3_continuation_without_repeated_extended_timestamp_is_accepted()
    {
        // Some encoders do not repeat the extended timestamp on continuation chunks.
        var payload = Payload(200, 3);
        var bytes = new List<byte>();
        bytes.AddRange(Type0(4, 0xFFFFFF, 200, RtmpMessageType.Video, 1));
        bytes.AddRange([0x01, 0x00, 0x00, 0x00]); // extended timestamp 0x01000000
        bytes.AddRange(payload[..128]);
        bytes.Add(0xC4);
        bytes.AddRange(payload[128..]);
        var data = bytes.ToArray();
        using var reader = new RtmpChunkReader();
        var messages = ParseIncrementally<RtmpMessage, Msg>(Bytewise(data), reader.TryRead, Copy);
        Assert.Equal([new Msg(4, RtmpMessageType.Video, 1, 0x01000000, payload)], messages);
    }

    [Fact]
    public void Abort_discards_the_partial_message()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Type0(4, 0, 300, RtmpMessageType.Video, 1));
        bytes.AddRange(new byte[128]);
        bytes.AddRange(Type0(2, 0, 4, RtmpMessageType.Abort, 0));
        bytes.AddRange([0, 0, 0, 4]);
        bytes.AddRange(Type0(4, 10, 2, RtmpMessageType.Video, 1));
        bytes.AddRange([0x17, 0x02]);
        using var reader = new RtmpChunkReader();
        var messages = ParseAll<RtmpMessage, Msg>(new ReadOnlySequence<byte>(bytes.ToArray()), reader.TryRead, Copy, out _);
        Assert.Equal(2, messages.Count);
        Assert.Equal(RtmpMessageType.Abort, messages[0].Type);
        Assert.Equal(new Msg(4, RtmpMessageType.Video, 1, 10, [0x17, 0x02]), messages[1]);
    }

    public static TheoryData<string, byte[]> Violations => new()
    {
        { "type 1 without previous header", [0x44, 0, 0, 0, 0, 0, 10, 9] },
        { "type 3 without previous header", [0xC4, 1, 2, 3] },
        { "chunk size 0", [.. Type0(2, 0, 4, 1, 0), 0, 0, 0, 0] },
        { "chunk size with top bit", [.. Type0(2, 0, 4, 1, 0), 0x80, 0, 0, 0] },
        { "short set chunk size", [.. Type0(2, 0, 2, 1, 0), 0, 1] },
        { "absurd length", Type0(4, 0, 0xFFFFFF, 9, 1) },
        { "command over 64 KiB", Type0(3, 0, 65537, RtmpMessageType.CommandAmf0, 0) },
        { "data over 64 KiB", Type0(4, 0, 65537, RtmpMessageType.DataAmf0, 1) },
        { "control over 64 KiB (type 1 header)", [.. Type0(2, 0, 4, RtmpMessageType.WindowAcknowledgementSize, 0), 0, 0, 0x10, 0, 0x42, 0, 0, 0, 0x01, 0x00, 0x01, RtmpMessageType.UserControl] },
        { "new header mid-message", [.. Type0(4, 0, 300, 9, 1), .. new byte[128], .. Type0(4, 0, 10, 9, 1)] },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Violations_throw_the_protocol_exception(string name, byte[] data)
    {
        Assert.NotNull(name);
        using var reader = new RtmpChunkReader(RtmpChunkLimits.Publishing(1024 * 1024));
        Assert.Throws<RtmpProtocolException>(() => ParseAll<RtmpMessage, Msg>(new ReadOnlySequence<byte>(data), reader.TryRead, Copy, out _));
    }

    [Fact]
    public void Too_many_chunk_streams_or_buffered_bytes_throw()
    {
        var many = new List<byte>();
        for (var csid = 3; csid < 3 + RtmpChunkReader.MaxChunkStreams + 1; csid++)
        {
            many.AddRange(Type0(csid, 0, 1000, 9, 1));
            many.AddRange(new byte[128]); // one full chunk, the message stays incomplete
        }

        using var reader = new RtmpChunkReader();
        Assert.Throws<RtmpProtocolException>(() => ParseAll<RtmpMessage, Msg>(new ReadOnlySequence<byte>(many.ToArray()), reader.TryRead, Copy, out _));

        // 1 MiB messages on 5 streams against a 4 MiB budget. Announcing them holds nothing ...
        var limits = new RtmpChunkLimits(1024 * 1024, 64 * 1024, 4 * 1024 * 1024);
        var announced = new List<byte>();
        for (var csid = 3; csid < 8; csid++)
        {
            announced.AddRange(Type0(csid, 0, 1024 * 1024, 9, 1));
            announced.AddRange(new byte[128]);
        }

        using var small = new RtmpChunkReader(limits);
        ParseAll<RtmpMessage, Msg>(new ReadOnlySequence<byte>(announced.ToArray()), small.TryRead, Copy, out var left);
        Assert.Equal(0, left);
        Assert.True(small.BufferedBytes <= 5 * 128, $"{small.BufferedBytes} bytes held");

        // ... sending them does: a million bytes in one chunk on each stream, and the fifth is over the budget.
        var sent = new List<byte>([.. Type0(2, 0, 4, RtmpMessageType.SetChunkSize, 0), 0x00, 0x0F, 0x42, 0x40]);
        for (var csid = 3; csid < 8; csid++)
        {
            sent.AddRange(Type0(csid, 0, 1024 * 1024, 9, 1));
            sent.AddRange(new byte[1_000_000]);
        }

        using var full = new RtmpChunkReader(limits);
        var ex = Assert.Throws<RtmpProtocolException>(() => ParseAll<RtmpMessage, Msg>(new ReadOnlySequence<byte>(sent.ToArray()), full.TryRead, Copy, out _));
        Assert.Contains("buffer more than 4194304 bytes", ex.Message, StringComparison.Ordinal);
        Assert.True(full.BufferedBytes <= limits.MaxBufferedBytes);
    }

    [Fact]
    public void Large_chunk_size_is_consumed_without_waiting_for_the_whole_chunk()
    {
        var writer = new RtmpChunkWriter();
        var output = new ArrayBufferWriter<byte>();
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(size, 0x7FFFFFFF);
        writer.Write(output, 2, RtmpMessageType.SetChunkSize, 0, 0, size);
        writer.ChunkSize = 0x7FFFFFFF;
        var payload = Payload(3_000_000, 4);
        writer.Write(output, 6, RtmpMessageType.Video, 1, 0, payload);
        var bytes = output.WrittenSpan.ToArray();

        // Delivered in 64 KiB pieces, each piece is consumed at once (the pipe never has to hold the chunk).
        using var reader = new RtmpChunkReader();
        var pieces = bytes.Chunk(65536).ToArray();
        var messages = new List<Msg>();
        foreach (var piece in pieces)
        {
            var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(piece));
            while (reader.TryRead(ref sequence, out var m))
            {
                messages.Add(Copy(m));
            }

            Assert.Equal(0, sequence.Remaining);
        }

        Assert.Equal(2, messages.Count);
        Assert.True(messages[1].Payload.AsSpan().SequenceEqual(payload));
        Assert.Equal(0x7FFFFFFF, reader.ChunkSize);
    }

    internal static byte[] Type0(int csid, uint timestamp, int length, byte type, uint streamId)
    {
        byte[] basic = csid < 64 ? [(byte)csid] : [0, (byte)(csid - 64)];
        var header = new byte[11];
        header[0] = (byte)(timestamp >> 16);
        header[1] = (byte)(timestamp >> 8);
        header[2] = (byte)timestamp;
        header[3] = (byte)(length >> 16);
        header[4] = (byte)(length >> 8);
        header[5] = (byte)length;
        header[6] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(7), streamId);
        return [.. basic, .. header];
    }
}
