namespace StreamVerse.Origin.Limits;

/// <summary>
/// A write-only stream that paces writes to its inner stream; used for files (Kestrel's sendfile path
/// falls back to copying through this stream, which is the price of a cap).
/// </summary>
internal sealed class PacedStream(Stream inner, BandwidthPacer pacer) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var take = Math.Min(buffer.Length, pacer.ChunkSize);
            await pacer.PaceAsync(take, cancellationToken).ConfigureAwait(false);
            await inner.WriteAsync(buffer[..take], cancellationToken).ConfigureAwait(false);
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            buffer = buffer[take..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => throw new NotSupportedException("synchronous IO");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("synchronous IO");
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
