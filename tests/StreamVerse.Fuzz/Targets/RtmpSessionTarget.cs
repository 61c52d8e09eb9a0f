using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prometheus;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;
using StreamVerse.Origin.Rtmp.Handshake;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// A whole RTMP connection: the harness sends a valid handshake (C0, a digest C1, C2), then the input as the chunk
/// stream, and closes. The session resolves the key <c>key</c> of application <c>live</c> to stream <c>cam1</c>.
/// Invariants: the session ends normally or with <see cref="RtmpProtocolException"/>, nothing else; a published sink
/// gets <see cref="IMediaSink.OnEnd"/> exactly once and nothing after it (see <see cref="CheckingMediaSink"/>); what the
/// server wrote back is well-formed: S0+S1+S2, then RTMP chunks whose command and data messages are whole AMF0.
/// </summary>
internal static class RtmpSessionTarget
{
    public const string App = "live";
    public const string Key = "key";

    private static readonly byte[] Handshake = ClientHandshake();

    public static void Run(byte[] input) => Session(input);

    /// <returns>The sinks the session published to, in order.</returns>
    internal static IReadOnlyList<CheckingMediaSink> Session(byte[] input)
    {
        // Inline schedulers: the session runs on this thread, so coverage and outcome follow the input alone.
        var pipeOptions = new PipeOptions(pauseWriterThreshold: 0, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var toServer = new Pipe(pipeOptions);
        var toClient = new Pipe(pipeOptions);
        var connection = new DefaultConnectionContext("fuzz", new DuplexPipe(toServer.Reader, toClient.Writer), new DuplexPipe(toClient.Reader, toServer.Writer));
        var options = new RtmpOptions();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["StreamVerse:Streams:cam1"] = Key }).Build();
        var target = new PublishTarget();

        toServer.Writer.Write(Handshake);
        toServer.Writer.Write(input);
        toServer.Writer.Complete();

        using (var session = new RtmpSession(connection, options, new ConfigurationStreamKeyResolver(configuration, new FixedOptions(options)), target, new RtmpPublishers(),
                   new RtmpMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System, NullLogger.Instance))
        {
            try
            {
                session.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (RtmpProtocolException)
            {
            }
        }

        foreach (var sink in target.Sinks)
        {
            Check.That(sink.Ends == 1, $"a publish ended {sink.Ends} times");
        }

        toClient.Writer.Complete();
        CheckServerOutput(toClient.Reader);
        return target.Sinks;
    }

    private static void CheckServerOutput(PipeReader reader)
    {
        Check.That(reader.TryRead(out var result), "no server output to read");
        var output = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        if (output.Length == 0)
        {
            return;
        }

        const int s0s1s2 = 1 + (2 * RtmpHandshake.PacketSize);
        Check.That(output.Length >= s0s1s2 && output[0] == RtmpHandshake.Version, $"server output of {output.Length} bytes does not start with S0+S1+S2");
        using var chunks = new RtmpChunkReader(RtmpChunkLimits.Publishing(RtmpChunkReader.DefaultMaxMessageSize));
        var r = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.AsMemory(s0s1s2)));
        try
        {
            while (chunks.TryRead(ref r, out var message))
            {
                if (message.TypeId is RtmpMessageType.CommandAmf0 or RtmpMessageType.DataAmf0)
                {
                    var values = new List<object?>();
                    var body = new SequenceReader<byte>(new ReadOnlySequence<byte>(message.Payload));
                    Check.That(Amf0Reader.TryReadAll(ref body, values) && values.Count >= 2 && values[0] is string,
                        "the server wrote a command that is not a name, a transaction id and values in whole AMF0");
                }
            }
        }
        catch (RtmpProtocolException e)
        {
            throw new InvariantViolationException($"the server wrote chunks its own reader refuses: {e.Message}");
        }

        Check.That(r.End, $"the server's output ends inside a chunk ({r.Remaining} bytes left)");
    }

    /// <summary>C0, a C1 carrying a scheme-0 digest (as Flash-style encoders send it), and C2.</summary>
    private static byte[] ClientHandshake()
    {
        var c1 = new byte[RtmpHandshake.PacketSize];
        new Random(1).NextBytes(c1);
        BinaryPrimitives.WriteUInt32BigEndian(c1, 0);
        c1[4] = 9;
        c1[5] = 0;
        c1[6] = 124;
        c1[7] = 2;
        var offset = RtmpHandshake.DigestOffset(c1, 0);
        RtmpHandshake.ComputeDigest(c1, offset, RtmpHandshake.PlayerKey.AsSpan(0, RtmpHandshake.PlayerKeyTextLength), c1.AsSpan(offset, RtmpHandshake.DigestLength));
        return [RtmpHandshake.Version, .. c1, .. new byte[RtmpHandshake.PacketSize]];
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class FixedOptions(RtmpOptions value) : IOptionsMonitor<RtmpOptions>
    {
        public RtmpOptions CurrentValue => value;

        public RtmpOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RtmpOptions, string?> listener) => null;
    }

    /// <summary>Like the host's: a stream already live is refused; after its end it may be published again.</summary>
    private sealed class PublishTarget : ILivePublishTarget
    {
        public List<CheckingMediaSink> Sinks { get; } = [];

        public IMediaSink? TryBeginPublish(string streamName)
        {
            Check.That(streamName == "cam1", $"a publish to '{streamName}'");
            if (Sinks.Any(s => s.Ends == 0))
            {
                return null;
            }

            var sink = new CheckingMediaSink();
            Sinks.Add(sink);
            return sink;
        }
    }
}
