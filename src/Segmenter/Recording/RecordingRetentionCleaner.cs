using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Segmenter.Recording;

/// <summary>
/// Deletes recorded sessions whose last write is older than <see cref="SegmenterOptions.RecordingRetention"/>,
/// and the name-level VOD playlists when they point into a deleted session. Runs at start, then periodically.
/// A session's folder time is its last write (every file lands there by rename), i.e. the end of the stream.
/// </summary>
internal sealed partial class RecordingRetentionCleaner : BackgroundService
{
    private static readonly string[] NamePlaylists = ["index.m3u8", "video.m3u8", "audio.m3u8", "index.mpd"];

    private readonly SegmenterOptions _options;
    private readonly LiveStreamRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger<RecordingRetentionCleaner> _logger;

    public RecordingRetentionCleaner(IOptions<SegmenterOptions> options, LiveStreamRegistry registry, TimeProvider time, ILogger<RecordingRetentionCleaner> logger)
    {
        _options = options.Value;
        _registry = registry;
        _time = time;
        _logger = logger;
    }

    internal TimeSpan Interval
    {
        get
        {
            var quarter = _options.RecordingRetention / 4;
            return quarter < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : quarter > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : quarter;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // let host start-up continue; the first sweep runs right away
        RunOnce();
        using var timer = new PeriodicTimer(Interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            RunOnce();
        }
    }

    /// <summary>One sweep; returns the number of sessions deleted.</summary>
    internal int RunOnce()
    {
        var root = _options.RecordingsPath;
        if (string.IsNullOrEmpty(root) || !Directory.Exists(root))
        {
            return 0;
        }

        var active = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stream in _registry.Active)
        {
            active.Add(stream.SessionId);
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var deleted = 0;
        try
        {
            foreach (var nameDirectory in Directory.EnumerateDirectories(root))
            {
                foreach (var sessionDirectory in Directory.EnumerateDirectories(nameDirectory))
                {
                    var sessionId = Path.GetFileName(sessionDirectory);
                    if (active.Contains(sessionId) || !SessionId.IsValid(sessionId))
                    {
                        continue;
                    }

                    try
                    {
                        var lastWrite = Directory.GetLastWriteTimeUtc(sessionDirectory);
                        if (now - lastWrite < _options.RecordingRetention)
                        {
                            continue;
                        }

                        Directory.Delete(sessionDirectory, recursive: true);
                        deleted++;
                        Log.Deleted(_logger, sessionDirectory);
                        DeleteNamePlaylistsOf(nameDirectory, sessionId);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        Log.Failed(_logger, sessionDirectory, ex);
                    }
                }

                if (!Directory.EnumerateFileSystemEntries(nameDirectory).Any())
                {
                    Directory.Delete(nameDirectory);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Failed(_logger, root, ex);
        }

        return deleted;
    }

    private static void DeleteNamePlaylistsOf(string nameDirectory, string sessionId)
    {
        var marker = sessionId + "/";
        var points = false;
        foreach (var file in NamePlaylists)
        {
            var path = Path.Combine(nameDirectory, file);
            if (File.Exists(path) && File.ReadAllText(path).Contains(marker, StringComparison.Ordinal))
            {
                points = true;
                break;
            }
        }

        if (points)
        {
            foreach (var file in NamePlaylists)
            {
                File.Delete(Path.Combine(nameDirectory, file));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2201, LogLevel.Information, "Deleted expired recording {Path}")]
        public static partial void Deleted(ILogger logger, string path);

        [LoggerMessage(2202, LogLevel.Warning, "Could not clean recordings under {Path}")]
        public static partial void Failed(ILogger logger, string path, Exception exception);
    }
}
