using System.Buffers;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Chunks;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// The RTMP chunk reader over arbitrary bytes. Byte 0 picks the limits (a connection before publish, a publishing one,
/// or tiny ones that reach every limit check) and the size of the pieces the rest arrives in; the rest is the stream.
/// Invariants: only <see cref="RtmpProtocolException"/>; the same messages (and the same error) whether the bytes come
/// whole or in pieces; no message over its limit; what the reader holds follows the bytes it was sent (at most twice
/// them, never over <see cref="RtmpChunkLimits.MaxBufferedBytes"/>) and all of it goes back to the pool on Dispose;
/// "need more data" leaves only part of a chunk header unconsumed; and the messages read, written again by
/// <see cref="RtmpChunkWriter"/>, read back the same.
/// </summary>
internal static class RtmpChunksTarget
{
    /// <summary>Basic header (3) + message header (11) + extended timestamp (4): the most a header can leave unconsumed.</summary>
    private const int MaxHeaderBytes = 18;

    private static readonly RtmpChunkLimits Tiny = new(512, 256, 1024);

    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var limits = (input[0] & 3) switch
        {
            0 => RtmpChunkLimits.Unauthenticated,
            1 => RtmpChunkLimits.Publishing(RtmpChunkReader.DefaultMaxMessageSize),
            _ => Tiny,
        };
        var pieceSize = 1 + ((input[0] >> 2) * 5);
        var stream = input.AsMemory(1);

        var whole = Read(limits, [stream]);
        var pieces = Read(limits, Segments.Pieces(stream, pieceSize));
        Check.That(whole.Error == pieces.Error, $"whole: error '{whole.Error}'; in {pieceSize}-byte pieces: '{pieces.Error}'");
        Check.That(whole.Messages.SequenceEqual(pieces.Messages),
            $"{whole.Messages.Count} messages read whole, {pieces.Messages.Count} in {pieceSize}-byte pieces, or they differ");
        Check.That(whole.Error is not null || whole.Unconsumed == pieces.Unconsumed, "unconsumed bytes differ between whole and pieces");

        RoundTrip(limits, whole.Messages);
    }

    private static Outcome Read(RtmpChunkLimits limits, IEnumerable<ReadOnlyMemory<byte>> pieces)
    {
        var pool = new TrackingArrayPool();
        var messages = new List<Message>();
        string? error = null;
        var unconsumed = 0;
        long fed = 0;
        using (var reader = new RtmpChunkReader(limits, pool))
        {
            try
            {
                ReadOnlyMemory<byte> pending = Array.Empty<byte>();
                foreach (var piece in pieces)
                {
                    fed += piece.Length;
                    var sequence = Segments.Of(pending, piece);
                    var r = new SequenceReader<byte>(sequence);
                    while (reader.TryRead(ref r, out var message))
                    {
                        Check.That(message.Payload.Length <= limits.MaxMessageSize(message.TypeId),
                            $"a {message.Payload.Length}-byte message of type {message.TypeId} over its limit");
                        messages.Add(new Message(message.ChunkStreamId, message.TypeId, message.StreamId, message.Timestamp, message.Payload.ToArray()));
                        CheckHeld(reader, pool, limits, fed);
                    }

                    CheckHeld(reader, pool, limits, fed);
                    Check.That(r.Remaining < MaxHeaderBytes, $"'need more data' with {r.Remaining} bytes unconsumed");
                    pending = sequence.Slice(r.Position).ToArray();
                }

                unconsumed = pending.Length;
            }
            catch (RtmpProtocolException e)
            {
                error = e.Message;
                CheckHeld(reader, pool, limits, fed);
            }
        }

        Check.That(pool.OutstandingBytes == 0, $"{pool.OutstandingBytes} bytes not returned to the pool after Dispose");
        return new Outcome(messages, error, unconsumed);
    }

    private static void CheckHeld(RtmpChunkReader reader, TrackingArrayPool pool, RtmpChunkLimits limits, long fed)
    {
        Check.That(reader.BufferedBytes == pool.OutstandingBytes, $"BufferedBytes {reader.BufferedBytes}, rented {pool.OutstandingBytes}");
        Check.That(pool.OutstandingBytes <= limits.MaxBufferedBytes, $"{pool.OutstandingBytes} bytes held, over the {limits.MaxBufferedBytes}-byte limit");
        Check.That(pool.OutstandingBytes <= 2 * fed, $"{pool.OutstandingBytes} bytes held after {fed} bytes received");
    }

    /// <summary>
    /// Set Chunk Size and Abort change how the reader reads what follows, so they are left out of the re-written stream
    /// (the writer keeps the default chunk size); every other message must come back as it was.
    /// </summary>
    private static void RoundTrip(RtmpChunkLimits limits, List<Message> messages)
    {
        var kept = messages.Where(m => m.TypeId is not (RtmpMessageType.SetChunkSize or RtmpMessageType.Abort)).ToList();
        if (kept.Count == 0)
        {
            return;
        }

        var writer = new RtmpChunkWriter();
        var output = new ArrayBufferWriter<byte>();
        foreach (var m in kept)
        {
            writer.Write(output, m.ChunkStreamId, m.TypeId, m.StreamId, m.Timestamp, m.Payload);
        }

        Outcome again;
        try
        {
            again = Read(limits, [output.WrittenMemory]);
        }
        catch (InvariantViolationException e)
        {
            throw new InvariantViolationException($"re-written stream: {e.Message}");
        }

        Check.That(again.Error is null, $"the re-written messages fail to read: {again.Error}");
        Check.That(again.Unconsumed == 0, "the re-written messages leave bytes unconsumed");
        Check.That(again.Messages.SequenceEqual(kept), $"the re-written messages read back differently ({again.Messages.Count} of {kept.Count})");
    }

    private sealed record Outcome(List<Message> Messages, string? Error, int Unconsumed);

    private sealed record Message(int ChunkStreamId, byte TypeId, uint StreamId, uint Timestamp, byte[] Payload)
    {
        public bool Equals(Message? other) => other is not null && ChunkStreamId == other.ChunkStreamId && TypeId == other.TypeId
            && StreamId == other.StreamId && Timestamp == other.Timestamp && Payload.AsSpan().SequenceEqual(other.Payload);

        public override int GetHashCode() => HashCode.Combine(ChunkStreamId, TypeId, StreamId, Timestamp, Payload.Length);
    }
}
