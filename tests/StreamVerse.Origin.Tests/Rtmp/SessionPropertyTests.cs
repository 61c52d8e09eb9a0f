using System.Buffers;
using System.IO.Pipelines;
using CsCheck;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prometheus;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;

namespace StreamVerse.Origin.Tests.Rtmp;

/// <summary>Whole sessions over in-memory pipes: a scripted publish, then mutated copies of it.</summary>
public sealed class SessionPropertyTests
{
    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Handshake, connect, createStream, publish, metadata, configs, 20 frames, FCUnpublish, deleteStream.</summary>
    private static byte[] ClientStream()
    {
        var output = new ArrayBufferWriter<byte>();
        WriteHandshake(output);
        var writer = new RtmpChunkWriter();
        void Command(uint streamId, params object?[] values) =>
            writer.Write(output, 3, RtmpMessageType.CommandAmf0, streamId, 0, Amf0Tests.Encode(values));

        Command(0, "connect", 1d, new Amf0Object().Add("app", "live"));
        writer.Write(output, 2, RtmpMessageType.SetChunkSize, 0, 0, [0, 0, 0x10, 0]);
        writer.ChunkSize = 4096;
        Command(0, "releaseStream", 2d, null, RtmpTestServer.Key);
        Command(0, "FCPublish", 3d, null, RtmpTestServer.Key);
        Command(0, "createStream", 4d, null);
        Command(1, "publish", 5d, null, RtmpTestServer.Key, "live");
        writer.Write(output, 4, RtmpMessageType.DataAmf0, 1, 0, Amf0Tests.Encode("@setDataFrame", "onMetaData", new Amf0Object(true).Add("width", 320d)));
        writer.Write(output, 6, RtmpMessageType.Video, 1, 0, [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF]);
        writer.Write(output, 4, RtmpMessageType.Audio, 1, 0, [0xAF, 0, 0x11, 0x90]);
        for (uint i = 0; i < 20; i++)
        {
            writer.Write(output, 6, RtmpMessageType.Video, 1, i * 40, [(byte)(i % 10 == 0 ? 0x17 : 0x27), 1, 0, 0, 40, 0, 0, 0, 200, .. new byte[5000]]);
            writer.Write(output, 4, RtmpMessageType.Audio, 1, i * 40, [0xAF, 1, .. new byte[300]]);
        }

        Command(0, "FCUnpublish", 6d, null, RtmpTestServer.Key);
        Command(0, "deleteStream", 7d, null, 1d);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>C0, C1 and C2 as a client sends them (the server does not check C2).</summary>
    private static void WriteHandshake(ArrayBufferWriter<byte> output)
    {
        output.Write<byte>([3, .. HandshakeTests.DigestC1(0)]);
        output.Write<byte>(new byte[1536]);
    }

    private static byte[] AfterHandshake(params byte[][] parts)
    {
        var output = new ArrayBufferWriter<byte>();
        WriteHandshake(output);
        foreach (var part in parts)
        {
            output.Write(part);
        }

        return output.WrittenSpan.ToArray();
    }

    private static async Task<(RecordingPublishTarget Target, Exception? Error)> RunAsync(byte[] bytes, int pieceSize)
    {
        var input = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // the whole stream is written before the session reads
        var output = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var connection = new DefaultConnectionContext("test", new DuplexPipe(input.Reader, output.Writer), new DuplexPipe(output.Reader, input.Writer));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:Streams:cam1"] = RtmpTestServer.Key }).Build();
        var options = new RtmpOptions();
        var monitor = new OptionsMonitorStub(options);
        var target = new RecordingPublishTarget();
        using var session = new RtmpSession(
            connection, options, new ConfigurationStreamKeyResolver(configuration, monitor), target, new RtmpPublishers(),
            new RtmpMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System, NullLogger.Instance);

        foreach (var piece in bytes.Chunk(pieceSize))
        {
            await input.Writer.WriteAsync(piece).ConfigureAwait(false);
        }

        await input.Writer.CompleteAsync().ConfigureAwait(false);
        Exception? error = null;
        try
        {
            await session.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
        catch (RtmpProtocolException ex)
        {
            error = ex;
        }

        return (target, error);
    }

    [Fact]
    public async Task Scripted_stream_publishes_and_ends_once_at_any_piece_size()
    {
        var bytes = ClientStream();
        foreach (var piece in new[] { 1, 7, 128, 4096, bytes.Length })
        {
            var (target, error) = await RunAsync(bytes, piece);
            Assert.Null(error);
            var sink = Assert.Single(target.Published);
            Assert.Equal(40, sink.Samples.Count);
            Assert.Equal(1, sink.Ends);
        }
    }

    [Fact]
    public async Task Mutated_streams_only_end_normally_or_with_a_protocol_error_and_never_end_twice()
    {
        var valid = ClientStream();
        var gen = Gen.Select(Gen.Int[3073, valid.Length - 1].Array[1, 6], Gen.Byte.Array[6], Gen.Int[3073, valid.Length], Gen.Int[1, 9000]);
        await gen.SampleAsync(async (positions, values, cut, piece) =>
        {
            var copy = (byte[])valid.Clone();
            for (var i = 0; i < positions.Length; i++)
            {
                copy[positions[i]] = values[i];
            }

            var (target, _) = await RunAsync(copy[..cut], piece).ConfigureAwait(false);
            Assert.All(target.Published, s => Assert.Equal(1, s.Ends));
        }, iter: 300, threads: 1);
    }

    [Fact]
    public async Task Announced_lengths_close_an_unpublished_session_at_once()
    {
        // Before a publish, no message may be announced over 64 KiB: the audit's 55 bytes end the session
        // at their first header instead of holding 48 MiB until the handshake timeout.
        var (target, error) = await RunAsync(AfterHandshake(ChunkReaderMemoryTests.AnnouncedButNotSent()), 4096);
        var protocol = Assert.IsType<RtmpProtocolException>(error);
        Assert.Contains("exceeds the 65536-byte limit", protocol.Message, StringComparison.Ordinal);
        Assert.Empty(target.Published);
    }

    [Fact]
    public async Task Command_name_is_checked_before_the_arguments_are_decoded()
    {
        // createStream before connect, its arguments not AMF0 at all: refused for its name, the rest never read.
        byte[] payload = [.. Amf0Tests.Encode("createStream", 2d), 0x20, 0xFF, 0xFF];
        var output = new ArrayBufferWriter<byte>();
        new RtmpChunkWriter().Write(output, 3, RtmpMessageType.CommandAmf0, 0, 0, payload);
        var (_, error) = await RunAsync(AfterHandshake(output.WrittenSpan.ToArray()), 4096);
        Assert.Equal("Command before connect.", Assert.IsType<RtmpProtocolException>(error).Message);

        // connect whose command object is a strict array of 2,000 nulls: within the size limit, over the AMF0 value budget.
        byte[] nulls = [0x0A, 0x00, 0x00, 0x07, 0xD0, .. Enumerable.Repeat((byte)0x05, 2000)];
        output.ResetWrittenCount();
        new RtmpChunkWriter().Write(output, 3, RtmpMessageType.CommandAmf0, 0, 0, [.. Amf0Tests.Encode("connect", 1d), .. nulls]);
        (_, error) = await RunAsync(AfterHandshake(output.WrittenSpan.ToArray()), 4096);
        Assert.Contains("AMF0 values", Assert.IsType<RtmpProtocolException>(error).Message, StringComparison.Ordinal);
    }

    private sealed class OptionsMonitorStub(RtmpOptions value) : IOptionsMonitor<RtmpOptions>
    {
        public RtmpOptions CurrentValue => value;

        public RtmpOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RtmpOptions, string?> listener) => null;
    }
}
