using System.Buffers;
using System.Buffers.Binary;

namespace StreamVerse.Origin.Rtmp.Chunks;

/// <summary>
/// Splits the RTMP chunk stream (RTMP specification 1.0, §5.3) back into messages.
/// Chunk headers are consumed whole or not at all; chunk payloads are copied into a pooled buffer per chunk
/// stream as they arrive, so a peer may use any chunk size without the pipe having to hold a whole chunk.
/// A buffer grows (doubling, up to the message length) only when payload bytes arrive that do not fit: what a
/// peer makes the reader hold follows the bytes it sent, not the lengths its headers announce (as nginx-rtmp and
/// gortmplib collect chunks; SRS allocates the announced length at the first chunk). Buffers are kept for the
/// chunk stream's next message, so a steady stream reads without renting.
/// Set Chunk Size and Abort are applied here, because they change how the next byte is read; they are
/// still returned so the session can see them.
/// </summary>
internal sealed class RtmpChunkReader : IDisposable
{
    public const int DefaultChunkSize = 128;
    public const int DefaultMaxMessageSize = 16 * 1024 * 1024;
    public const int MaxChunkStreams = 64;

    private const uint TimestampEscape = 0xFFFFFF;

    private readonly Dictionary<int, ChunkStream> _streams = [];
    private readonly ArrayPool<byte> _pool;
    private RtmpChunkLimits _limits;
    private long _bufferedBytes;

    // The chunk whose payload is being copied, and how many payload bytes of it are still to come.
    private ChunkStream? _current;
    private int _chunkRemaining;
    private bool _disposed;

    /// <summary>A reader with a publishing connection's limits for <see cref="DefaultMaxMessageSize"/>.</summary>
    public RtmpChunkReader()
        : this(RtmpChunkLimits.Publishing(DefaultMaxMessageSize))
    {
    }

    /// <param name="limits">What the peer may make the reader hold; see <see cref="Limits"/>.</param>
    /// <param name="pool">Where the chunk streams' buffers come from; <see cref="ArrayPool{T}.Shared"/> by default.</param>
    public RtmpChunkReader(RtmpChunkLimits limits, ArrayPool<byte>? pool = null)
    {
        limits.Validate();
        _limits = limits;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>
    /// The limits for messages whose header comes next (a message under way keeps the length it was accepted
    /// with). The session loosens them once a publish has started.
    /// </summary>
    public RtmpChunkLimits Limits
    {
        get => _limits;
        set
        {
            value.Validate();
            _limits = value;
        }
    }

    /// <summary>The bytes held in chunk stream buffers (what <see cref="RtmpChunkLimits.MaxBufferedBytes"/> bounds).</summary>
    public long BufferedBytes => _bufferedBytes;

    /// <summary>The peer's current maximum chunk payload size.</summary>
    public int ChunkSize { get; private set; } = DefaultChunkSize;

    /// <summary>
    /// Reads chunks until one message is complete. Returns false when more bytes are needed; the reader has then
    /// consumed every byte that was used (whole headers and partial payloads), so the caller may advance the pipe
    /// to <c>reader.Position</c>. The returned payload is valid until the next call.
    /// </summary>
    /// <exception cref="RtmpProtocolException">The bytes break the chunking rules.</exception>
    public bool TryRead(ref SequenceReader<byte> reader, out RtmpMessage message)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            if (_current is null)
            {
                if (!TryReadChunkHeader(ref reader, out var completedEmpty))
                {
                    message = default;
                    return false;
                }

                if (completedEmpty is not null)
                {
                    message = Complete(completedEmpty);
                    return true;
                }
            }

            var stream = _current!;
            var toCopy = (int)Math.Min(_chunkRemaining, reader.Remaining);
            if (toCopy > 0)
            {
                if (stream.Received + toCopy > stream.Buffer.Length)
                {
                    Grow(stream, stream.Received + toCopy);
                }

                var target = stream.Buffer.AsSpan(stream.Received, toCopy);
                reader.TryCopyTo(target);
                reader.Advance(toCopy);
                stream.Received += toCopy;
                _chunkRemaining -= toCopy;
            }

            if (_chunkRemaining > 0)
            {
                message = default;
                return false;
            }

            _current = null;
            if (stream.Received == stream.Length)
            {
                message = Complete(stream);
                return true;
            }
        }
    }

    private RtmpMessage Complete(ChunkStream stream)
    {
        stream.InProgress = false;
        var payload = stream.Length == 0 ? ReadOnlyMemory<byte>.Empty : stream.Buffer.AsMemory(0, stream.Length);
        var message = new RtmpMessage(stream.Id, stream.TypeId, stream.StreamId, stream.Timestamp, payload);
        ApplyProtocolControl(message);
        return message;
    }

    private void ApplyProtocolControl(in RtmpMessage message)
    {
        switch (message.TypeId)
        {
            case RtmpMessageType.SetChunkSize:
            {
                // §5.4.1: 31-bit value, the top bit must be zero; 0 would make no progress.
                var value = ReadControlUInt32(message, "Set Chunk Size");
                if (value is 0 or > 0x7FFFFFFF)
                {
                    throw new RtmpProtocolException($"Set Chunk Size {value} is outside 1..0x7FFFFFFF.");
                }

                ChunkSize = (int)value;
                break;
            }

            case RtmpMessageType.Abort:
            {
                // §5.4.2: discard the partly received message on that chunk stream.
                var csid = ReadControlUInt32(message, "Abort");
                if (csid <= int.MaxValue && _streams.TryGetValue((int)csid, out var aborted))
                {
                    aborted.InProgress = false;
                    aborted.Received = 0;
                }

                break;
            }
        }
    }

    private static uint ReadControlUInt32(in RtmpMessage message, string name)
    {
        if (message.Payload.Length < 4)
        {
            throw new RtmpProtocolException($"{name} message is {message.Payload.Length} bytes; 4 expected.");
        }

        return BinaryPrimitives.ReadUInt32BigEndian(message.Payload.Span);
    }

    /// <summary>Parses one chunk header atomically; on success sets <see cref="_current"/> unless the message is empty.</summary>
    private bool TryReadChunkHeader(ref SequenceReader<byte> reader, out ChunkStream? completedEmpty)
    {
        completedEmpty = null;
        var r = reader;

        // §5.3.1.1 basic header: fmt in the top two bits; csid 0 and 1 select the 2- and 3-byte forms.
        if (!r.TryRead(out var b0))
        {
            return false;
        }

        var fmt = b0 >> 6;
        var csid = b0 & 0x3F;
        if (csid == 0)
        {
            if (!r.TryRead(out var b1))
            {
                return false;
            }

            csid = 64 + b1;
        }
        else if (csid == 1)
        {
            if (!r.TryRead(out var b1) || !r.TryRead(out var b2))
            {
                return false;
            }

            csid = 64 + b1 + (b2 << 8);
        }

        _streams.TryGetValue(csid, out var stream);
        if (fmt != 0 && stream is null)
        {
            throw new RtmpProtocolException($"Chunk type {fmt} on chunk stream {csid} without a previous header.");
        }

        if (fmt != 3 && stream is { InProgress: true })
        {
            throw new RtmpProtocolException($"New message header on chunk stream {csid} before its previous message completed.");
        }

        uint field = 0;
        var length = stream?.Length ?? 0;
        var typeId = stream?.TypeId ?? (byte)0;
        var streamId = stream?.StreamId ?? 0;

        // §5.3.1.2 message header, 11/7/3/0 bytes.
        switch (fmt)
        {
            case 0:
                if (r.Remaining < 11)
                {
                    return false;
                }

                field = ReadUInt24(ref r);
                length = (int)ReadUInt24(ref r);
                r.TryRead(out typeId);
                r.TryReadLittleEndian(out int sid);
                streamId = (uint)sid;
                break;
            case 1:
                if (r.Remaining < 7)
                {
                    return false;
                }

                field = ReadUInt24(ref r);
                length = (int)ReadUInt24(ref r);
                r.TryRead(out typeId);
                break;
            case 2:
                if (r.Remaining < 3)
                {
                    return false;
                }

                field = ReadUInt24(ref r);
                break;
        }

        var continuation = fmt == 3 && stream!.InProgress;
        var extended = fmt == 3 ? stream!.ExtendedTimestamp : field == TimestampEscape;
        if (continuation)
        {
            // §5.3.1.3: a type 3 chunk repeats the extended timestamp of its message. Some encoders omit it,
            // so (like SRS) consume the four bytes only when they equal the value in the message's first chunk.
            if (extended)
            {
                if (r.Remaining < 4)
                {
                    return false;
                }

                var peek = r;
                peek.TryReadBigEndian(out int repeated);
                if ((uint)repeated == stream!.ExtendedValue)
                {
                    r = peek;
                }
            }
        }
        else if (extended)
        {
            if (!r.TryReadBigEndian(out int ext))
            {
                return false;
            }

            field = (uint)ext;
        }
        else if (fmt == 3)
        {
            field = stream!.TimestampField;
        }

        // Checked when the header announces the length, before any payload: a message over its limit costs nothing.
        if (!continuation && length > _limits.MaxMessageSize(typeId))
        {
            var kind = RtmpChunkLimits.IsMedia(typeId) ? "audio/video" : "command/data/control";
            throw new RtmpProtocolException(
                $"Message of {length} bytes (type {typeId}) on chunk stream {csid} exceeds the {_limits.MaxMessageSize(typeId)}-byte limit for {kind} messages.");
        }

        // The header is complete: commit.
        if (stream is null)
        {
            if (_streams.Count >= MaxChunkStreams)
            {
                throw new RtmpProtocolException($"More than {MaxChunkStreams} chunk streams in use.");
            }

            stream = new ChunkStream(csid);
            _streams.Add(csid, stream);
        }

        if (!continuation)
        {
            // Type 0 carries the absolute timestamp; types 1-3 a delta (type 3 repeats the last field,
            // which after a type 0 header is the absolute value, as ffmpeg and SRS read it).
            stream.Timestamp = fmt == 0 ? field : unchecked(stream.Timestamp + field);
            stream.TimestampField = field;
            stream.ExtendedTimestamp = extended;
            stream.ExtendedValue = extended ? field : 0;
            stream.Length = length;
            stream.TypeId = typeId;
            stream.StreamId = streamId;
            stream.Received = 0;
            stream.InProgress = true;
        }

        reader = r;
        if (length == 0)
        {
            completedEmpty = stream;
            return true;
        }

        _current = stream;
        _chunkRemaining = Math.Min(ChunkSize, stream.Length - stream.Received);
        return true;
    }

    /// <summary>
    /// Makes room for <paramref name="needed"/> bytes of the stream's message, which have arrived or are being
    /// copied: double the buffer (at least to <paramref name="needed"/>, at most to the message length), so that
    /// what is held stays within a small factor of what was received and a message costs O(log n) rentals once.
    /// </summary>
    private void Grow(ChunkStream stream, int needed)
    {
        var old = stream.Buffer;
        var size = Math.Min(stream.Length, Math.Max(needed, 2 * old.Length));
        var grown = _pool.Rent(size);
        var buffered = _bufferedBytes - old.Length + grown.Length;
        if (buffered > _limits.MaxBufferedBytes)
        {
            _pool.Return(grown);
            throw new RtmpProtocolException($"Chunk streams would buffer more than {_limits.MaxBufferedBytes} bytes.");
        }

        old.AsSpan(0, stream.Received).CopyTo(grown);
        stream.Buffer = grown;
        _bufferedBytes = buffered;
        if (old.Length > 0)
        {
            _pool.Return(old);
        }
    }

    private static uint ReadUInt24(ref SequenceReader<byte> reader)
    {
        reader.TryRead(out var a);
        reader.TryRead(out var b);
        reader.TryRead(out var c);
        return (uint)((a << 16) | (b << 8) | c);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var stream in _streams.Values)
        {
            if (stream.Buffer.Length > 0)
            {
                _pool.Return(stream.Buffer);
                stream.Buffer = [];
            }
        }

        _streams.Clear();
        _bufferedBytes = 0;
        _current = null;
    }

    private sealed class ChunkStream(int id)
    {
        public int Id { get; } = id;
        public uint Timestamp;
        public uint TimestampField;
        public bool ExtendedTimestamp;
        public uint ExtendedValue;
        public int Length;
        public byte TypeId;
        public uint StreamId;
        public byte[] Buffer = [];
        public int Received;
        public bool InProgress;
    }
}
