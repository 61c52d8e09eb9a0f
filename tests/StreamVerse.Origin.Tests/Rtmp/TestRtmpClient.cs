using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using StreamVerse.Origin.Rtmp.Amf;
using StreamVerse.Origin.Rtmp.Chunks;
using StreamVerse.Origin.Rtmp.Handshake;

namespace StreamVerse.Origin.Tests.Rtmp;

internal sealed record Received(byte Type, uint StreamId, byte[] Payload)
{
    public List<object?> Values()
    {
        var values = new List<object?>();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Payload));
        Assert.True(Amf0Reader.TryReadAll(ref reader, values));
        return values;
    }
}

/// <summary>A small scripted RTMP client for protocol-level tests (and for sending hostile bytes).</summary>
internal sealed class TestRtmpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly RtmpChunkReader _chunkReader = new();
    private readonly Queue<Received> _received = new();

    private TestRtmpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _input = PipeReader.Create(_stream);
    }

    public RtmpChunkWriter Writer { get; } = new();

    public static async Task<TestRtmpClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        return new TestRtmpClient(tcp);
    }

    public Task SendRawAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public async Task HandshakeAsync(bool digest = true)
    {
        var c1 = digest ? HandshakeTests.DigestC1(0, seed: 3) : new byte[1536];
        await SendRawAsync([3, .. c1]);
        var s = new byte[3073];
        await _stream.ReadExactlyAsync(s);
        Assert.Equal(3, s[0]);
        await SendRawAsync(s[1..1537]); // C2 echoes S1
    }

    public Task SendAsync(int csid, byte type, uint streamId, uint timestamp, byte[] payload)
    {
        var output = new ArrayBufferWriter<byte>();
        Writer.Write(output, csid, type, streamId, timestamp, payload);
        return SendRawAsync(output.WrittenSpan.ToArray());
    }

    public Task SendCommandAsync(uint streamId, params object?[] values) =>
        SendAsync(3, RtmpMessageType.CommandAmf0, streamId, 0, Amf0Tests.Encode(values));

    public async Task<Received> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (_received.Count == 0)
        {
            var result = await _input.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            var position = Parse(buffer);
            _input.AdvanceTo(position, buffer.End);
            if (result.IsCompleted && _received.Count == 0)
            {
                throw new EndOfStreamException("Server closed the connection.");
            }
        }

        return _received.Dequeue();
    }

    private SequencePosition Parse(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (_chunkReader.TryRead(ref reader, out var message))
        {
            _received.Enqueue(new Received(message.TypeId, message.StreamId, message.Payload.ToArray()));
        }

        return reader.Position;
    }

    /// <summary>Receives until a command named <paramref name="name"/> arrives; returns its values.</summary>
    public async Task<List<object?>> ReceiveCommandAsync(string name)
    {
        while (true)
        {
            var message = await ReceiveAsync();
            if (message.Type == RtmpMessageType.CommandAmf0)
            {
                var values = message.Values();
                if (values[0] as string == name)
                {
                    return values;
                }
            }
        }
    }

    /// <summary>True if the server closes (or resets) the connection within the timeout, reading and discarding.</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task ConnectAndPublishAsync(string key)
    {
        await HandshakeAsync();
        await SendCommandAsync(0, "connect", 1d, new Amf0Object().Add("app", "live").Add("type", "nonprivate"));
        var connect = await ReceiveCommandAsync("_result");
        Assert.Equal("NetConnection.Connect.Success", ((Amf0Object)connect[3]!).GetString("code"));
        await SendCommandAsync(0, "createStream", 2d, null);
        var created = await ReceiveCommandAsync("_result");
        Assert.Equal(1d, created[3]);
        await SendCommandAsync(1, "publish", 0d, null, key, "live");
    }

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync();
        _chunkReader.Dispose();
        _tcp.Dispose();
    }
}
