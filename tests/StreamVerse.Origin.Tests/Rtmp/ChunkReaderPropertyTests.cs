using System.Buffers;
using CsCheck;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Chunks;

namespace StreamVerse.Origin.Tests.Rtmp;

public sealed class ChunkReaderPropertyTests
{
    /// <summary>
    /// Feeds bytes in pieces; any outcome but messages, need-more-data and <see cref="RtmpProtocolException"/>
    /// (IndexOutOfRange, Overflow, OutOfMemory, ArgumentOutOfRange...) fails the property.
    /// </summary>
    private static void Feed(byte[] bytes, int pieceSize)
    {
        using var reader = new RtmpChunkReader(new RtmpChunkLimits(1024 * 1024, 64 * 1024, 4 * 1024 * 1024));
        try
        {
            byte[] pending = [];
            foreach (var piece in bytes.Chunk(Math.Max(1, pieceSize)))
            {
                var sequence = pending.Length == 0 ? SequenceHelpers.Segments(piece) : SequenceHelpers.Segments(pending, piece);
                var r = new SequenceReader<byte>(sequence);
                while (reader.TryRead(ref r, out var message))
                {
                    Assert.True(message.Payload.Length <= 1024 * 1024);
                }

                pending = sequence.Slice(r.Position).ToArray();
            }
        }
        catch (RtmpProtocolException)
        {
        }
    }

    [Fact]
    public void Random_bytes_only_yield_messages_need_more_data_or_protocol_errors()
    {
        Gen.Select(Gen.Byte.Array[0, 2048], Gen.Int[1, 300]).Sample((bytes, piece) => Feed(bytes, piece), iter: 3000);
    }

    /// <summary><see cref="ChunkReaderTests.SampleStream"/> with up to 8 bytes replaced, and a piece size to feed it in.</summary>
    internal static Gen<(byte[] Bytes, int Piece)> GenMutatedSampleStream()
    {
        var (valid, _) = ChunkReaderTests.SampleStream();
        return Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 8], Gen.Byte.Array[8], Gen.Int[1, 5000], (positions, values, piece) =>
        {
            var copy = (byte[])valid.Clone();
            for (var i = 0; i < positions.Length; i++)
            {
                copy[positions[i]] = values[i];
            }

            return (copy, piece);
        });
    }

    [Fact]
    public void Mutated_valid_streams_only_yield_messages_need_more_data_or_protocol_errors()
    {
        GenMutatedSampleStream().Sample(input => Feed(input.Bytes, input.Piece), iter: 1500);
    }
}
