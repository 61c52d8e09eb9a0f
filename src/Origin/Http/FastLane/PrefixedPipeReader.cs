using System.Buffers;
using System.IO.Pipelines;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// A connection's input that starts with bytes already read from its socket (by <see cref="EpollFront"/>, before it
/// gave the connection to Kestrel's transport), then goes on with the transport's own input. While any of those bytes
/// are unconsumed they are served from one array; a reader that examined all of them and wants more gets the next
/// read of the transport appended to them. Once they are consumed every call goes straight to the transport's reader.
/// </summary>
internal sealed class PrefixedPipeReader : PipeReader
{
    private readonly PipeReader _inner;
    private byte[]? _held;
    private int _start;
    private int _end;
    private bool _wantMore;
    private bool _innerCompleted;
    private bool _canceled;

    public PrefixedPipeReader(ReadOnlySpan<byte> prefix, PipeReader inner)
    {
        _inner = inner;
        if (!prefix.IsEmpty)
        {
            _held = prefix.ToArray();
            _end = _held.Length;
        }
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_held is null)
        {
            return _inner.ReadAsync(cancellationToken);
        }

        if (TakeCanceled() is { } canceled)
        {
            return new ValueTask<ReadResult>(canceled);
        }

        return _wantMore && !_innerCompleted ? ReadMoreAsync(cancellationToken) : new ValueTask<ReadResult>(Held(false));
    }

    private async ValueTask<ReadResult> ReadMoreAsync(CancellationToken cancellationToken)
    {
        var result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        Append(result);
        return Held(result.IsCanceled);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_held is null)
        {
            return _inner.TryRead(out result);
        }

        if (TakeCanceled() is { } canceled)
        {
            result = canceled;
            return true;
        }

        if (_wantMore && !_innerCompleted)
        {
            if (!_inner.TryRead(out var more))
            {
                result = default;
                return false;
            }

            Append(more);
            result = Held(more.IsCanceled);
            return true;
        }

        result = Held(false);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_held is null)
        {
            _inner.AdvanceTo(consumed, examined);
            return;
        }

        // The positions are in the sequence over _held that the last read returned: an index into the array.
        if (!ReferenceEquals(consumed.GetObject(), _held) && consumed.GetObject() is not null)
        {
            throw new InvalidOperationException("AdvanceTo with a position from another buffer");
        }

        var consumedAt = consumed.GetObject() is null ? _start : consumed.GetInteger();
        var examinedAt = examined.GetObject() is null ? consumedAt : examined.GetInteger();
        if (consumedAt < _start || consumedAt > _end || examinedAt < consumedAt || examinedAt > _end)
        {
            throw new InvalidOperationException("AdvanceTo with a position outside the last read's buffer");
        }

        _start = consumedAt;
        _wantMore = examinedAt == _end;
        if (_start == _end)
        {
            // All of it consumed: from now on the transport's reader alone. (A completed transport input reads as
            // completed from there as well.)
            _held = null;
        }
    }

    public override void CancelPendingRead()
    {
        _canceled = true;
        _inner.CancelPendingRead();
    }

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    private ReadResult? TakeCanceled()
    {
        if (!_canceled)
        {
            return null;
        }

        _canceled = false;
        return Held(true);
    }

    private ReadResult Held(bool canceled) =>
        new(new ReadOnlySequence<byte>(_held!, _start, _end - _start), canceled, _innerCompleted);

    /// <summary>The transport's read appended to what is held; the transport's buffer is consumed at once.</summary>
    private void Append(ReadResult result)
    {
        _canceled = false;
        var more = result.Buffer;
        if (!more.IsEmpty)
        {
            var held = _end - _start;
            var grown = new byte[held + (int)more.Length];
            _held.AsSpan(_start, held).CopyTo(grown);
            more.CopyTo(grown.AsSpan(held));
            _held = grown;
            _start = 0;
            _end = grown.Length;
            _wantMore = false;
        }

        _inner.AdvanceTo(more.End);
        if (result.IsCompleted)
        {
            _innerCompleted = true;
            _wantMore = false;
        }
    }
}
