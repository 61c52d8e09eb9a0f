using System.Buffers;
using System.Numerics;
using CsCheck;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Chunks;
using static StreamVerse.Origin.Tests.Rtmp.ChunkReaderTests;

namespace StreamVerse.Origin.Tests.Rtmp;

/// <summary>What a peer can make the chunk reader allocate: memory must follow the bytes that arrive, not the lengths headers announce.</summary>
public sealed class ChunkReaderMemoryTests
{
    // Per byte fed, the reader may allocate at most this much (buffers double, and the pool rounds up to a power of two) ...
    private const int BytesPerByteFed = 8;

    // ... plus this much for its own bookkeeping (chunk stream objects, the dictionary, a thrown exception).
    private const int FixedAllowance = 64 * 1024;

    /// <summary>
    /// The audit's 55 bytes after the handshake: Set Chunk Size 1, then type-0 headers on chunk streams 4-6, each
    /// announcing a 0xFFFFFF-byte video message, with one payload byte each.
    /// </summary>
    internal static byte[] AnnouncedButNotSent()
    {
        var bytes = new List<byte>([.. Type0(2, 0, 4, RtmpMessageType.SetChunkSize, 0), 0, 0, 0, 1]);
        for (var csid = 4; csid <= 6; csid++)
        {
            bytes.AddRange(Type0(csid, 0, 0xFFFFFF, RtmpMessageType.Video, 1));
            bytes.Add(0x17);
        }

        return [.. bytes];
    }

    /// <summary>
    /// A pool that never hands out a cached array, so that every buffer the reader rents shows in
    /// <see cref="GC.GetAllocatedBytesForCurrentThread"/>: <see cref="ArrayPool{T}.Shared"/> may hold arrays that
    /// earlier tests returned (a 16 MiB rental then allocates nothing, and the unfixed reader passed the 55-byte test
    /// when it ran after the others). Sizes are rounded up to a power of two, as the shared pool rounds them.
    /// </summary>
    private sealed class AllocatingPool : ArrayPool<byte>
    {
        public override byte[] Rent(int minimumLength) => new byte[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, minimumLength))];

        public override void Return(byte[] array, bool clearArray = false)
        {
        }
    }

    /// <summary>A publishing connection's limits: video messages up to 16 MiB.</summary>
    private static RtmpChunkReader PublishingReader() => new(RtmpChunkLimits.Publishing(RtmpChunkReader.DefaultMaxMessageSize), new AllocatingPool());

    /// <summary>Limits that accept any announced length up to 1 MiB, whatever the type, so that growth (not a limit) is what is tested.</summary>
    private static RtmpChunkReader SmallReader() => new(new RtmpChunkLimits(1024 * 1024, 1024 * 1024, 4 * 1024 * 1024), new AllocatingPool());

    /// <summary>Feeds <paramref name="bytes"/> in pieces as a pipe would; returns what the reader allocated (not the harness).</summary>
    private static long AllocatedWhileReading(RtmpChunkReader reader, byte[] bytes, int pieceSize)
    {
        long allocated = 0;
        try
        {
            byte[] pending = [];
            foreach (var piece in bytes.Chunk(Math.Max(1, pieceSize)))
            {
                var sequence = pending.Length == 0 ? SequenceHelpers.Segments(piece) : SequenceHelpers.Segments(pending, piece);
                var r = new SequenceReader<byte>(sequence);
                bool read;
                do
                {
                    var before = GC.GetAllocatedBytesForCurrentThread();
                    try
                    {
                        read = reader.TryRead(ref r, out _);
                    }
                    finally
                    {
                        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                    }
                }
                while (read);

                pending = sequence.Slice(r.Position).ToArray();
            }
        }
        catch (RtmpProtocolException)
        {
        }

        return allocated;
    }

    [Fact]
    public void Announced_lengths_reserve_nothing_before_the_payload_arrives()
    {
        var input = AnnouncedButNotSent();
        Assert.Equal(55, input.Length);

        // The loosest limits (a publishing connection's: 16 MiB video messages) accept these headers.
        using var reader = PublishingReader();
        var allocated = AllocatedWhileReading(reader, input, input.Length);
        Assert.True(allocated < 1024 * 1024, $"{allocated:N0} bytes allocated for 55 bytes of input");
        Assert.True(allocated <= (BytesPerByteFed * input.Length) + FixedAllowance, $"{allocated:N0} bytes allocated for 55 bytes of input");
        // 16 bytes (the pool's smallest array) for Set Chunk Size's four and for each video message's one.
        Assert.True(reader.BufferedBytes <= 4 * 16, $"{reader.BufferedBytes:N0} bytes held for seven payload bytes");

        // Before a publish, the first of those headers is refused.
        using var unauthenticated = new RtmpChunkReader(RtmpChunkLimits.Unauthenticated, new AllocatingPool());
        var ex = Assert.Throws<RtmpProtocolException>(() =>
        {
            var r = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
            Assert.True(unauthenticated.TryRead(ref r, out _)); // Set Chunk Size
            unauthenticated.TryRead(ref r, out _);
        });
        Assert.Equal("Message of 16777215 bytes (type 9) on chunk stream 4 exceeds the 65536-byte limit for audio/video messages.", ex.Message);
    }

    [Fact]
    public void A_message_that_arrives_grows_its_buffer_to_its_length_and_reuses_it()
    {
        // 3 MB of video at chunk size 4096, then another message of the same size on the same chunk stream.
        var writer = new RtmpChunkWriter();
        var output = new ArrayBufferWriter<byte>();
        writer.Write(output, 2, RtmpMessageType.SetChunkSize, 0, 0, [0, 0, 0x10, 0]);
        writer.ChunkSize = 4096;
        var payload = new byte[3_000_000];
        new Random(5).NextBytes(payload);
        writer.Write(output, 6, RtmpMessageType.Video, 1, 0, payload);
        var first = output.WrittenSpan.ToArray();
        output.ResetWrittenCount();
        writer.Write(output, 6, RtmpMessageType.Video, 1, 40, payload);
        var second = output.WrittenSpan.ToArray();

        using var reader = PublishingReader();
        var allocated = AllocatedWhileReading(reader, first, 65536);
        Assert.True(allocated <= (BytesPerByteFed * first.Length) + FixedAllowance, $"{allocated:N0} bytes allocated for {first.Length:N0} bytes");
        Assert.Equal(4 * 1024 * 1024 + 16, reader.BufferedBytes); // 4 MiB for the video, 16 bytes for Set Chunk Size

        var r = new SequenceReader<byte>(new ReadOnlySequence<byte>(second));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = reader.TryRead(ref r, out var message);
        var allocatedAgain = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(read);
        Assert.Equal(0, allocatedAgain);
        Assert.True(message.Payload.Span.SequenceEqual(payload));
    }

    private static void AssertProportional(byte[] bytes, int piece)
    {
        using var reader = SmallReader();
        var allocated = AllocatedWhileReading(reader, bytes, piece);
        var allowed = ((long)BytesPerByteFed * bytes.Length) + FixedAllowance;
        Assert.True(allocated <= allowed, $"{allocated:N0} bytes allocated for {bytes.Length:N0} bytes fed (allowed {allowed:N0})");
    }

    /// <summary>Headers announcing random lengths on random chunk streams, each followed by a few payload bytes.</summary>
    private static readonly Gen<byte[]> GenAnnouncements =
        Gen.Select(Gen.Int[2, 70], Gen.Int[0, 0xFFFFFF], Gen.Byte, Gen.Byte.Array[0, 300])
            .Array[1, 40]
            .Select(headers => headers.SelectMany(h => (byte[])[.. Type0(h.Item1, 0, h.Item2, h.Item3, 1), .. h.Item4]).ToArray());

    [Fact]
    public void Random_bytes_allocate_in_proportion_to_the_bytes_fed()
    {
        Gen.Select(Gen.Byte.Array[0, 2048], Gen.Int[1, 300]).Sample(AssertProportional, iter: 2000);
    }

    [Fact]
    public void Announced_lengths_allocate_in_proportion_to_the_bytes_fed()
    {
        Gen.Select(GenAnnouncements, Gen.Int[1, 5000]).Sample(AssertProportional, iter: 2000);
    }

    [Fact]
    public void Mutated_valid_streams_allocate_in_proportion_to_the_bytes_fed()
    {
        ChunkReaderPropertyTests.GenMutatedSampleStream().Sample(input => AssertProportional(input.Bytes, input.Piece), iter: 1000);
    }
}
