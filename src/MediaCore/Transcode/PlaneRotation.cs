using StreamVerse.MediaCore.Interop;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// Turns a yuv420p picture by 90, 180 or 270 degrees clockwise (what ffmpeg's autorotate does with
/// transpose=clock / hflip,vflip / transpose=cclock), plane by plane. Odd sizes work: chroma planes are
/// ceil(w/2) x ceil(h/2) on both sides.
/// </summary>
internal static unsafe class PlaneRotation
{
    /// <param name="src">A yuv420p frame; read only. Owned by the caller.</param>
    /// <param name="dst">A writable yuv420p frame of the turned size; owned by the caller.</param>
    public static void Rotate(AVFrame* src, AVFrame* dst, int clockwiseDegrees)
    {
        var w = src->Width;
        var h = src->Height;
        for (var plane = 0; plane < 3; plane++)
        {
            var pw = plane == 0 ? w : (w + 1) / 2;
            var ph = plane == 0 ? h : (h + 1) / 2;
            RotatePlane((byte*)src->Data[plane], src->Linesize[plane], pw, ph, (byte*)dst->Data[plane], dst->Linesize[plane], clockwiseDegrees);
        }
    }

    private static void RotatePlane(byte* s, int sStride, int w, int h, byte* d, int dStride, int degrees)
    {
        switch (degrees)
        {
            case 90:
                // dst is h x w: dst(x, y) = src(y, h - 1 - x)
                for (var y = 0; y < w; y++)
                {
                    var row = d + (y * dStride);
                    for (var x = 0; x < h; x++)
                    {
                        row[x] = s[((h - 1 - x) * sStride) + y];
                    }
                }

                break;
            case 270:
                // dst(x, y) = src(w - 1 - y, x)
                for (var y = 0; y < w; y++)
                {
                    var row = d + (y * dStride);
                    var col = w - 1 - y;
                    for (var x = 0; x < h; x++)
                    {
                        row[x] = s[(x * sStride) + col];
                    }
                }

                break;
            case 180:
                for (var y = 0; y < h; y++)
                {
                    var row = d + (y * dStride);
                    var srcRow = s + ((h - 1 - y) * sStride);
                    for (var x = 0; x < w; x++)
                    {
                        row[x] = srcRow[w - 1 - x];
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "Only 90, 180 and 270 degrees.");
        }
    }
}
