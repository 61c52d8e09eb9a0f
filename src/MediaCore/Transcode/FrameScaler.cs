using StreamVerse.MediaCore.Interop;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// A swscale context for one destination size/format, rebuilt when the source's size or format changes
/// (a decoder may switch mid-stream). Owns the SwsContext.
/// </summary>
internal sealed unsafe class FrameScaler : IDisposable
{
    private readonly int _dstWidth;
    private readonly int _dstHeight;
    private readonly int _dstFormat;
    private readonly int _flags;
    private SwsContextHandle? _sws;
    private (int W, int H, int F) _source;

    public FrameScaler(int dstWidth, int dstHeight, int dstFormat, int flags = LibSwScale.Bicubic)
    {
        _dstWidth = dstWidth;
        _dstHeight = dstHeight;
        _dstFormat = dstFormat;
        _flags = flags;
    }

    /// <summary>Scales all of <paramref name="src"/> into planes at <paramref name="dstData"/>/<paramref name="dstLinesize"/>.</summary>
    /// <param name="src">Read only, owned by the caller for the call.</param>
    /// <param name="dstData">Up to 4 plane pointers (owned by the caller's destination frame).</param>
    /// <param name="dstLinesize">Up to 4 strides.</param>
    public void Scale(AVFrame* src, byte** dstData, int* dstLinesize)
    {
        var key = (src->Width, src->Height, src->Format);
        if (_sws is null || key != _source)
        {
            _sws?.Dispose();
            var ctx = LibSwScale.sws_getContext(src->Width, src->Height, src->Format, _dstWidth, _dstHeight, _dstFormat, _flags, null, null, null);
            if (ctx == null)
            {
                throw new InvalidOperationException($"sws_getContext {src->Width}x{src->Height} fmt {src->Format} -> {_dstWidth}x{_dstHeight} fmt {_dstFormat} failed.");
            }

            _sws = new SwsContextHandle(ctx);
            _source = key;
        }

        var rows = LibSwScale.sws_scale(_sws.Ptr, (byte**)&src->Data, (int*)&src->Linesize, 0, src->Height, dstData, dstLinesize);
        AvError.Check(rows, "sws_scale");
    }

    /// <summary>Scales into a whole frame.</summary>
    public void Scale(AVFrame* src, AVFrame* dst) => Scale(src, (byte**)&dst->Data, (int*)&dst->Linesize);

    public void Dispose() => _sws?.Dispose();
}
