using System.Buffers;
using BenchmarkDotNet.Attributes;
using StreamVerse.Origin.Rtmp.Chunks;

namespace StreamVerse.Benchmarks.Rtmp;

/// <summary>
/// One second of 2 Mbit/s H.264 at 25 fps (25 messages of 10,000 bytes, every 25th a 40,000-byte keyframe)
/// interleaved with 47 AAC frames, written in 4096-byte chunks, parsed back into messages.
/// The buffer is parsed as one segment and as 64 KiB segments (what a socket pipe hands over).
/// Goal: zero allocations per message once the per-chunk-stream buffers are warm.
/// </summary>
[MemoryDiagnoser]
public class ChunkReaderBenchmarks
{
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;
    private RtmpChunkReader _reader = null!;

    [GlobalSetup]
    public void Setup()
    {
        var writer = new RtmpChunkWriter { ChunkSize = 4096 };
        var output = new ArrayBufferWriter<byte>();
        var random = new Random(1);
        var audioTime = 0.0;
        for (var frame = 0; frame < 25; frame++)
        {
            var video = new byte[frame == 0 ? 40_000 : 10_000];
            random.NextBytes(video);
            video[0] = (byte)(frame == 0 ? 0x17 : 0x27);
            writer.Write(output, 6, RtmpMessageType.Video, 1, (uint)(frame * 40), video);
            while (audioTime < (frame + 1) * 40)
            {
                var audio = new byte[370];
                random.NextBytes(audio);
                writer.Write(output, 4, RtmpMessageType.Audio, 1, (uint)audioTime, audio);
                audioTime += 1024 * 1000.0 / 48000;
            }
        }

        var bytes = output.WrittenSpan.ToArray();
        _contiguous = new ReadOnlySequence<byte>(bytes);
        _segmented = Split(bytes, 65536);

        // Chunk size is connection state: the stream above assumes the peer already announced 4096.
        _reader = CreateReader();
    }

    private byte[]? _copy;

    [GlobalCleanup]
    public void Cleanup() => _reader.Dispose();

    /// <summary>The peer: copying the same bytes once, the least any RTMP server does with them.</summary>
    [Benchmark(Baseline = true)]
    public int CopyOnly()
    {
        _copy ??= new byte[_contiguous.Length];
        _contiguous.CopyTo(_copy);
        return _copy.Length;
    }

    [Benchmark]
    public int ParseContiguous() => Parse(_contiguous);

    [Benchmark]
    public int ParseSegmented() => Parse(_segmented);

    private int Parse(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        var count = 0;
        while (_reader.TryRead(ref reader, out var message))
        {
            count += message.Payload.Length > 0 ? 1 : 0;
        }

        return count;
    }

    private static RtmpChunkReader CreateReader()
    {
        var reader = new RtmpChunkReader();
        var output = new ArrayBufferWriter<byte>();
        new RtmpChunkWriter().Write(output, 2, RtmpMessageType.SetChunkSize, 0, 0, [0, 0, 0x10, 0]);
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
        reader.TryRead(ref sequence, out _);
        return reader;
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes, int size)
    {
        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var segment = new Segment(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Next = segment;
            }

            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public new Segment? Next
        {
            get => (Segment?)base.Next;
            set => base.Next = value;
        }
    }
}
