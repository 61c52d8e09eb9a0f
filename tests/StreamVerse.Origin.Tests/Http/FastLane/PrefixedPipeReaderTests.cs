using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using StreamVerse.Origin.Http.FastLane;

namespace StreamVerse.Origin.Tests.Http.FastLane;

public sealed class PrefixedPipeReaderTests
{
    private static string Text(in ReadOnlySequence<byte> bytes) => Encoding.ASCII.GetString(bytes.ToArray());

    [Fact]
    public async Task The_prefix_comes_first_then_the_transports_bytes_in_order()
    {
        var pipe = new Pipe();
        var reader = new PrefixedPipeReader("GET / HTTP/1.1\r\n"u8, pipe.Reader);
        await pipe.Writer.WriteAsync("Host: x\r\n\r\n"u8.ToArray());

        var first = await reader.ReadAsync();
        Assert.Equal("GET / HTTP/1.1\r\n", Text(first.Buffer));
        Assert.False(first.IsCompleted);
        // Nothing consumed, all examined: the next read has the prefix and what the transport has, together.
        reader.AdvanceTo(first.Buffer.Start, first.Buffer.End);
        var second = await reader.ReadAsync();
        Assert.Equal("GET / HTTP/1.1\r\nHost: x\r\n\r\n", Text(second.Buffer));

        // Part consumed, not all examined: the same remaining bytes again, without waiting for the transport.
        reader.AdvanceTo(second.Buffer.GetPosition(4), second.Buffer.GetPosition(10));
        Assert.True(reader.TryRead(out var third));
        Assert.Equal("/ HTTP/1.1\r\nHost: x\r\n\r\n", Text(third.Buffer));

        // All consumed: from here the transport's reader alone.
        reader.AdvanceTo(third.Buffer.End);
        await pipe.Writer.WriteAsync("next"u8.ToArray());
        var direct = await reader.ReadAsync();
        Assert.Equal("next", Text(direct.Buffer));
        reader.AdvanceTo(direct.Buffer.End);
        await pipe.Writer.CompleteAsync();
        var end = await reader.ReadAsync();
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    [Fact]
    public async Task A_transport_that_ends_while_the_prefix_is_held_reads_as_completed_with_the_prefix()
    {
        var pipe = new Pipe();
        var reader = new PrefixedPipeReader("partial"u8, pipe.Reader);
        await pipe.Writer.WriteAsync(" head"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        var first = await reader.ReadAsync();
        reader.AdvanceTo(first.Buffer.Start, first.Buffer.End);
        var second = await reader.ReadAsync();
        Assert.Equal("partial head", Text(second.Buffer));
        Assert.True(second.IsCompleted);
    }

    [Fact]
    public async Task A_canceled_read_returns_canceled_and_the_bytes_stay()
    {
        var pipe = new Pipe();
        var reader = new PrefixedPipeReader("abc"u8, pipe.Reader);
        var first = await reader.ReadAsync();
        reader.AdvanceTo(first.Buffer.Start, first.Buffer.End);
        var waiting = reader.ReadAsync();
        Assert.False(waiting.IsCompleted);
        reader.CancelPendingRead();
        var canceled = await waiting;
        Assert.True(canceled.IsCanceled);
        Assert.Equal("abc", Text(canceled.Buffer));
        reader.AdvanceTo(canceled.Buffer.Start, canceled.Buffer.End);
        await pipe.Writer.WriteAsync("d"u8.ToArray());
        var next = await reader.ReadAsync();
        Assert.False(next.IsCanceled);
        Assert.Equal("abcd", Text(next.Buffer));
    }

    [Fact]
    public void Positions_from_another_buffer_are_refused()
    {
        var reader = new PrefixedPipeReader("abc"u8, new Pipe().Reader);
        Assert.True(reader.TryRead(out _));
        var other = new ReadOnlySequence<byte>(new byte[3]);
        Assert.Throws<InvalidOperationException>(() => reader.AdvanceTo(other.End));
    }
}
