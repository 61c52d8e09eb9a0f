using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// An open-file cache for the segments of recordings (streams that ended, and what left a live stream's memory), as
/// nginx's <c>open_file_cache</c>: a file is opened and stat'ed once, then sent with sendfile from its descriptor to every
/// viewer. An entry is checked against the file system (size and modification time, by path) at most once a second, so
/// a file that is replaced or removed is noticed within a second; entries unused for a minute go when the cache is full.
/// The headers are the routed handler's (<see cref="LiveDelivery.Handler"/>, ASP.NET's physical-file result): an ETag
/// of the size and modification ticks, <c>Last-Modified</c>, the content type by the file's name. A recording's playlists
/// are kept by the routed handler; here only their stat, under the same once-a-second rule (<see cref="Playlist"/>).
/// </summary>
internal sealed class RecordingFiles(TimeProvider time, int capacity = RecordingFiles.DefaultCapacity)
{
    internal const int DefaultCapacity = 1024;

    /// <summary>By stream name, session and file name (pooled strings: a hit allocates nothing).</summary>
    private readonly ConcurrentDictionary<(string Name, string Session, string File), RecordingFile> _files = new();

    /// <summary>Recording playlists by stream and file name: their path, and what this second's stat said.</summary>
    private readonly ConcurrentDictionary<(string Name, string File), PlaylistStat> _playlists = new();

    private long Second => time.GetTimestamp() / time.TimestampFrequency;

    /// <summary>
    /// The open file <c>ROOT/NAME/SESSION/FILE</c> (segments the caller has checked against the routed handler's
    /// alphabet), or null if there is no such regular file under <paramref name="root"/>.
    /// </summary>
    public RecordingFile? Get(string name, string session, string fileName, string root)
    {
        var now = Second;
        var key = (name, session, fileName);
        if (_files.TryGetValue(key, out var file))
        {
            if (Volatile.Read(ref file.CheckedAt) == now || StillSame(file, now))
            {
                file.UsedAt = now;
                return file;
            }

            Remove(key, file);
        }

        if (LiveDelivery.Handler.RecordingPath(root, name, System.IO.Path.Combine(session, fileName)) is not { } path)
        {
            return null;
        }

        var opened = RecordingFile.Open(path, LiveDelivery.Handler.RecordingMediaType(fileName), now);
        if (opened is null)
        {
            return null;
        }

        if (_files.Count >= capacity)
        {
            Trim(now);
        }

        if (_files.TryAdd(key, opened))
        {
            return opened;
        }

        // Another request opened it at the same time: keep one.
        opened.Handle.Dispose();
        return _files.TryGetValue(key, out var other) ? other : null;
    }

    /// <summary>
    /// Size and modification ticks of a recording's playlist or MPD, <c>ROOT/NAME/FILE</c>, from a stat made at most once
    /// a second (the same rule as the media files'); null if it would leave the root or is not there. The playlist's bytes
    /// are the routed handler's (<see cref="LiveDelivery.Handler.CachedRecordingPlaylist"/>), checked against these.
    /// </summary>
    public PlaylistStat? Playlist(string name, string fileName, string root)
    {
        var now = Second;
        var key = (name, fileName);
        if (!_playlists.TryGetValue(key, out var stat))
        {
            if (LiveDelivery.Handler.RecordingPath(root, name, fileName) is not { } path)
            {
                return null;
            }

            if (_playlists.Count >= capacity)
            {
                _playlists.Clear();
            }

            stat = new PlaylistStat(path, -1, 0, CheckedAt: now - 1);
        }

        if (stat.CheckedAt != now)
        {
            var info = new FileInfo(stat.Path);
            stat = info.Exists ? stat with { Length = info.Length, Ticks = info.LastWriteTimeUtc.Ticks, CheckedAt = now } : stat with { Length = -1, CheckedAt = now };
            _playlists[key] = stat;
        }

        return stat.Length < 0 ? null : stat;
    }

    private static bool StillSame(RecordingFile file, long now)
    {
        var info = new FileInfo(file.Path);
        if (!info.Exists || info.Length != file.Length || info.LastWriteTimeUtc != file.LastWriteTimeUtc)
        {
            return false;
        }

        Volatile.Write(ref file.CheckedAt, now);
        return true;
    }

    private void Remove((string, string, string) key, RecordingFile file)
    {
        if (_files.TryRemove(new KeyValuePair<(string, string, string), RecordingFile>(key, file)))
        {
            // A send under way holds a reference: the descriptor closes when it is done.
            file.Handle.Dispose();
        }
    }

    /// <summary>Full: entries unused for a minute go; if none is that old, the oldest-used half.</summary>
    private void Trim(long now)
    {
        var idle = _files.Where(e => now - e.Value.UsedAt > 60).ToList();
        if (idle.Count == 0)
        {
            idle = _files.OrderBy(e => e.Value.UsedAt).Take(Math.Max(1, _files.Count / 2)).ToList();
        }

        foreach (var (key, file) in idle)
        {
            Remove(key, file);
        }
    }
}

/// <summary>A recording playlist's path and, when it exists, its size and modification ticks at <see cref="CheckedAt"/> (a second).</summary>
internal sealed record PlaylistStat(string Path, long Length, long Ticks, long CheckedAt);

/// <summary>One open recording file and its response headers.</summary>
internal sealed class RecordingFile
{
    public long CheckedAt;
    public long UsedAt;

    private RecordingFile(string path, SafeFileHandle handle, long length, DateTime lastWriteTimeUtc, string contentType, long now)
    {
        Path = path;
        Handle = handle;
        Length = length;
        LastWriteTimeUtc = lastWriteTimeUtc;
        ContentType = contentType;
        ETag = LiveDelivery.Handler.RecordingETag(length, lastWriteTimeUtc.Ticks);
        // Whole seconds, as HTTP dates are (RFC 9110 §5.6.7).
        LastModifiedLine = Encoding.ASCII.GetBytes("Last-Modified: " + lastWriteTimeUtc.ToString("r", CultureInfo.InvariantCulture) + "\r\n");
        CheckedAt = now;
        UsedAt = now;
    }

    public string Path { get; }

    public SafeFileHandle Handle { get; }

    public long Length { get; }

    public DateTime LastWriteTimeUtc { get; }

    public string ContentType { get; }

    public string ETag { get; }

    public byte[] LastModifiedLine { get; }

    public static RecordingFile? Open(string path, string contentType, long now)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone, a directory, or being written under an exclusive lock: the routed handler answers.
            return null;
        }

        try
        {
            // The descriptor's own size and time: it holds this version of the file even if the path is replaced.
            return new RecordingFile(path, handle, RandomAccess.GetLength(handle), File.GetLastWriteTimeUtc(handle), contentType, now);
        }
        catch (IOException)
        {
            handle.Dispose();
            return null;
        }
    }
}
