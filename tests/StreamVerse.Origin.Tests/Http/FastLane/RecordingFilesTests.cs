using StreamVerse.Origin.Http.FastLane;

namespace StreamVerse.Origin.Tests.Http.FastLane;

/// <summary>
/// The fast lane's open-file cache for recordings: one descriptor per file, reused; a replaced or removed file noticed
/// within a second (by path); nothing outside the recordings root; bounded.
/// </summary>
public sealed class RecordingFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sv-recordings-").FullName;
    private readonly Clock _clock = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string session, string file, byte[] bytes)
    {
        Directory.CreateDirectory(Path.Combine(_root, "cam", session));
        var path = Path.Combine(_root, "cam", session, file);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void A_file_is_opened_once_with_the_routed_handlers_headers()
    {
        var path = Write("s1", "video_3.m4s", new byte[1234]);
        Write("s1", "audio_3.m4s", new byte[10]);
        var files = new RecordingFiles(_clock);
        var file = files.Get("cam", "s1", "video_3.m4s", _root)!;
        Assert.Equal(1234, file.Length);
        Assert.Equal("video/mp4", file.ContentType);
        Assert.Equal("audio/mp4", files.Get("cam", "s1", "audio_3.m4s", _root)!.ContentType);
        var mtime = File.GetLastWriteTimeUtc(path);
        Assert.Equal($"\"{1234:x}-{mtime.Ticks:x}\"", file.ETag);
        Assert.Equal($"Last-Modified: {mtime:r}\r\n", System.Text.Encoding.ASCII.GetString(file.LastModifiedLine));
        // The same entry, and its descriptor, for every request.
        Assert.Same(file, files.Get("cam", "s1", "video_3.m4s", _root));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Same(file, files.Get("cam", "s1", "video_3.m4s", _root));
        Assert.False(file.Handle.IsClosed);
    }

    [Fact]
    public void A_replaced_or_removed_file_is_noticed_within_a_second()
    {
        var path = Write("s1", "video_1.m4s", new byte[100]);
        var files = new RecordingFiles(_clock);
        var first = files.Get("cam", "s1", "video_1.m4s", _root)!;
        File.Delete(path);
        File.WriteAllBytes(path, new byte[200]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        // Within the same second the entry is trusted as it is (as nginx's open_file_cache_valid).
        Assert.Same(first, files.Get("cam", "s1", "video_1.m4s", _root));
        _clock.Advance(TimeSpan.FromSeconds(1));
        var second = files.Get("cam", "s1", "video_1.m4s", _root)!;
        Assert.NotSame(first, second);
        Assert.Equal(200, second.Length);
        Assert.True(first.Handle.IsClosed);

        File.Delete(path);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(files.Get("cam", "s1", "video_1.m4s", _root));
        Assert.True(second.Handle.IsClosed);
    }

    [Fact]
    public void Nothing_outside_the_root_nor_a_directory()
    {
        Write("s1", "video_1.m4s", new byte[1]);
        var files = new RecordingFiles(_clock);
        Assert.Null(files.Get("cam", "s1", "video_9.m4s", _root));
        Assert.Null(files.Get("cam", "..", "s1", _root));
        Assert.Null(files.Get("..", "..", "etc", _root));
        Assert.Null(files.Get("cam", "s1", "..", _root));
    }

    [Fact]
    public void A_playlists_stat_is_taken_at_most_once_a_second()
    {
        Directory.CreateDirectory(Path.Combine(_root, "cam"));
        var path = Path.Combine(_root, "cam", "video.m3u8");
        File.WriteAllBytes(path, new byte[50]);
        var files = new RecordingFiles(_clock);
        var first = files.Playlist("cam", "video.m3u8", _root)!;
        Assert.Equal(path, first.Path);
        Assert.Equal(50, first.Length);
        Assert.Equal(File.GetLastWriteTimeUtc(path).Ticks, first.Ticks);

        File.WriteAllBytes(path, new byte[70]);
        Assert.Equal(50, files.Playlist("cam", "video.m3u8", _root)!.Length);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(70, files.Playlist("cam", "video.m3u8", _root)!.Length);

        File.Delete(path);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(files.Playlist("cam", "video.m3u8", _root));
        Assert.Null(files.Playlist("..", "etc", _root));
    }

    [Fact]
    public void A_full_cache_lets_go_of_idle_files()
    {
        var files = new RecordingFiles(_clock, capacity: 4);
        var opened = new List<RecordingFile>();
        for (var i = 0; i < 4; i++)
        {
            Write("s1", $"video_{i}.m4s", new byte[i + 1]);
            opened.Add(files.Get("cam", "s1", $"video_{i}.m4s", _root)!);
        }

        _clock.Advance(TimeSpan.FromSeconds(61));
        // Used again just now: stays; the three idle ones go when a fifth file is opened.
        Assert.Same(opened[3], files.Get("cam", "s1", "video_3.m4s", _root));
        Write("s1", "video_4.m4s", new byte[5]);
        Assert.NotNull(files.Get("cam", "s1", "video_4.m4s", _root));
        Assert.All(opened.Take(3), f => Assert.True(f.Handle.IsClosed));
        Assert.False(opened[3].Handle.IsClosed);
    }

    private sealed class Clock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
