using System.Globalization;
using System.Text;
using StreamVerse.MediaCore.Interop;

namespace StreamVerse.MediaCore.Transcode;

/// <summary>
/// Poster (one JPEG at ~10% of the duration) and storyboard (a grid of small frames in one JPEG sprite plus a
/// WebVTT track whose cues point into it with the media fragment <c>#xywh=x,y,w,h</c>), taken from the same
/// decoded pictures the ladder encodes: no second decode. Pipeline thread only.
/// </summary>
internal sealed unsafe class Thumbnails : IDisposable
{
    public const string PosterFile = "poster.jpg";
    public const string StoryboardFile = "storyboard.jpg";
    public const string StoryboardTrackFile = "storyboard.vtt";

    private readonly string _directory;
    private readonly double _posterTime;
    private readonly double _interval;
    private readonly int _tiles;
    private readonly int _columns;
    private readonly int _tileWidth;
    private readonly int _tileHeight;
    private readonly int _posterWidth;
    private readonly int _posterHeight;
    private readonly int _yuvj420p;
    private readonly AVFrameHandle _sprite;
    private readonly FrameScaler _tileScaler;
    private int _tilesDrawn;
    private bool _posterWritten;

    public Thumbnails(string directory, int displayWidth, int displayHeight, double duration, LadderOptions options)
    {
        _directory = directory;
        _yuvj420p = Codecs.PixelFormat("yuvj420p");
        duration = duration > 0 ? duration : 1;
        _posterTime = duration * options.PosterPosition;

        var posterWidth = Math.Min(displayWidth, options.PosterMaxWidth);
        _posterWidth = LadderPlanner.Even(posterWidth);
        _posterHeight = LadderPlanner.Even((int)Math.Round((double)displayHeight * posterWidth / displayWidth));

        _interval = Math.Max(options.StoryboardMinInterval.TotalSeconds, duration / options.StoryboardMaxTiles);
        _tiles = Math.Clamp((int)Math.Ceiling(duration / _interval), 1, options.StoryboardMaxTiles);
        _columns = Math.Min(options.StoryboardColumns, _tiles);
        var rows = (_tiles + _columns - 1) / _columns;
        _tileWidth = LadderPlanner.Even(Math.Min(options.StoryboardTileWidth, displayWidth));
        _tileHeight = LadderPlanner.Even((int)Math.Round((double)displayHeight * _tileWidth / displayWidth));

        _sprite = AVFrameHandle.AllocVideo(_columns * _tileWidth, rows * _tileHeight, _yuvj420p);
        Clear(_sprite.Ptr);
        _tileScaler = new FrameScaler(_tileWidth, _tileHeight, _yuvj420p, LibSwScale.Area);
    }

    /// <summary>Offers an output picture at presentation time <paramref name="time"/> (seconds); owned by the caller.</summary>
    public void Offer(AVFrame* picture, double time)
    {
        if (!_posterWritten && time >= _posterTime)
        {
            WritePoster(picture);
        }

        while (_tilesDrawn < _tiles && time >= _tilesDrawn * _interval)
        {
            DrawTile(picture, _tilesDrawn++);
        }
    }

    /// <summary>Writes what is pending: the poster from the last picture for very short inputs, the sprite, the track.</summary>
    public (string Poster, string Storyboard, string Track)? Finish(AVFrame* last, double duration)
    {
        if (last == null)
        {
            return null;
        }

        if (!_posterWritten)
        {
            WritePoster(last);
        }

        File.WriteAllBytes(Path.Combine(_directory, StoryboardFile), Stills.JpegEncode(_sprite.Ptr));

        var vtt = new StringBuilder("WEBVTT\n\n");
        for (var i = 0; i < _tilesDrawn; i++)
        {
            var start = i * _interval;
            var end = Math.Min((i + 1) * _interval, Math.Max(duration, start + 0.001));
            var x = i % _columns * _tileWidth;
            var y = i / _columns * _tileHeight;
            vtt.Append(CultureInfo.InvariantCulture, $"{Timestamp(start)} --> {Timestamp(end)}\n{StoryboardFile}#xywh={x},{y},{_tileWidth},{_tileHeight}\n\n");
        }

        File.WriteAllText(Path.Combine(_directory, StoryboardTrackFile), vtt.ToString());
        return (PosterFile, StoryboardFile, StoryboardTrackFile);
    }

    private static string Timestamp(double seconds)
    {
        var t = TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}.{t.Milliseconds:000}");
    }

    private void WritePoster(AVFrame* picture)
    {
        using var frame = AVFrameHandle.AllocVideo(_posterWidth, _posterHeight, _yuvj420p);
        using (var scaler = new FrameScaler(_posterWidth, _posterHeight, _yuvj420p))
        {
            scaler.Scale(picture, frame.Ptr);
        }

        File.WriteAllBytes(Path.Combine(_directory, PosterFile), Stills.JpegEncode(frame.Ptr));
        _posterWritten = true;
    }

    private void DrawTile(AVFrame* picture, int index)
    {
        // Destination planes point into the sprite (owned by _sprite for this object's life); tile x/y are even,
        // so the 4:2:0 chroma offsets are exact.
        var sprite = _sprite.Ptr;
        var x = index % _columns * _tileWidth;
        var y = index / _columns * _tileHeight;
        var planes = stackalloc byte*[4];
        var strides = stackalloc int[4];
        planes[0] = (byte*)sprite->Data[0] + (y * sprite->Linesize[0]) + x;
        planes[1] = (byte*)sprite->Data[1] + (y / 2 * sprite->Linesize[1]) + (x / 2);
        planes[2] = (byte*)sprite->Data[2] + (y / 2 * sprite->Linesize[2]) + (x / 2);
        planes[3] = null;
        for (var i = 0; i < 3; i++)
        {
            strides[i] = sprite->Linesize[i];
        }

        strides[3] = 0;
        _tileScaler.Scale(picture, planes, strides);
    }

    private static void Clear(AVFrame* frame)
    {
        // Full-range black: Y 0, Cb/Cr 128.
        new Span<byte>((void*)frame->Data[0], frame->Linesize[0] * frame->Height).Clear();
        var chromaRows = (frame->Height + 1) / 2;
        new Span<byte>((void*)frame->Data[1], frame->Linesize[1] * chromaRows).Fill(128);
        new Span<byte>((void*)frame->Data[2], frame->Linesize[2] * chromaRows).Fill(128);
    }

    public void Dispose()
    {
        _tileScaler.Dispose();
        _sprite.Dispose();
    }
}
