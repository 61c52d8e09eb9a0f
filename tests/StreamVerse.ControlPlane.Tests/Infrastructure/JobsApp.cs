using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StreamVerse.ControlPlane.Data;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Storage;
using StreamVerse.Tests.Shared;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The daemon with a queue tuned for tests: a two-rung ladder (240p, 120p), ultrafast, 1 s segments, two jobs at
/// once, fast polling, short backoff, and blob storage that can be told to fail the first N stores of a video.
/// </summary>
public abstract class JobsApp : ControlPlaneApp
{
    internal FaultyBlobStorage Blobs { get; private set; } = null!;

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Jobs:Concurrency", "2",
        "--StreamVerse:ControlPlane:Jobs:MaxAttempts", "3",
        "--StreamVerse:ControlPlane:Jobs:RetryBaseDelay", "00:00:00.5",
        "--StreamVerse:ControlPlane:Jobs:PollInterval", "00:00:00.2",
        // Progress several times per pass even when a quiet machine transcodes the clips in a second.
        "--StreamVerse:ControlPlane:Jobs:ProgressInterval", "00:00:00.05",
        "--StreamVerse:ControlPlane:Jobs:LeaseDuration", "00:00:06",
        "--StreamVerse:ControlPlane:Jobs:RetiredRetention", RetiredRetention,
        "--StreamVerse:ControlPlane:Jobs:Ladder:Preset", "ultrafast",
        "--StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration", "00:00:01",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Height", "240",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Bitrate", "300000",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Height", "120",
        "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Bitrate", "120000",
    ];

    /// <summary>Zero by default: the tests see replaced presentations deleted as soon as a job finishes.</summary>
    protected virtual string RetiredRetention => "00:00:00";

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<LocalBlobStorage>();
        services.AddSingleton<IBlobStorage>(sp => Blobs = new FaultyBlobStorage(sp.GetRequiredService<LocalBlobStorage>()));
    }

    internal Database Db => Get<Database>();

    /// <summary>A connection factory of its own, usable while the daemon is stopped.</summary>
    internal Database StandaloneDatabase() => new(
        Microsoft.Extensions.Options.Options.Create(new DatabaseOptions { Provider = Provider, ConnectionString = ConnectionString }),
        Microsoft.Extensions.Options.Options.Create(new ControlPlaneOptions { DataPath = DataDir }));

    internal JobWorker Worker => Services.GetServices<IHostedService>().OfType<JobWorker>().Single();

    public string WorkDir => Path.Combine(DataDir, "work");

    public string BlobDir => Path.Combine(DataDir, "blobs");

    /// <summary>A copy of <paramref name="clip"/> where an upload would leave it (the queue deletes it when done).</summary>
    public string Upload(string clip)
    {
        var dir = Directory.CreateDirectory(Path.Combine(DataDir, "uploads")).FullName;
        var path = Path.Combine(dir, Guid.NewGuid().ToString("N") + Path.GetExtension(clip));
        File.Copy(clip, path);
        return path;
    }

    /// <summary>A creator's new public video with <paramref name="clip"/> queued for it: (video id, job id, source, owner).</summary>
    public async Task<(string Video, string Job, string Source, Persona Owner)> EnqueueAsync(string clip, Persona? owner = null)
    {
        owner ??= await NewUserAsync("creator");
        var video = (await NewVideoAsync(owner, await NewChannelAsync(owner))).GetProperty("id").GetString()!;
        var source = Upload(clip);
        var job = await Get<IVideoJobQueue>().EnqueueTranscodeAsync(video, source, default);
        return (video, job, source, owner);
    }

    public async Task<JsonElement> VideoAsync(string id, Persona owner) => await JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}", owner.AccessToken);

    public async Task<JsonElement> JobAsync(string id, Persona owner) => await JsonAsync(HttpMethod.Get, $"api/v1/videos/{id}/job", owner.AccessToken);

    internal async Task<string?> VodPrefixAsync(string videoId)
    {
        await using var db = await Db.OpenAsync(default);
        return await db.ScalarAsync<string>("SELECT vod_prefix FROM videos WHERE id = @v", [("v", videoId)], default);
    }

    /// <summary>Polls the video until its status is one of <paramref name="statuses"/> (and its job has ended), calling <paramref name="observe"/> on every poll.</summary>
    public async Task<JsonElement> WaitForAsync(string id, Persona owner, string[] statuses, Func<JsonElement, Task>? observe = null, int seconds = 180)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var video = await VideoAsync(id, owner);
            if (observe is not null)
            {
                await observe(video);
            }

            if (statuses.Contains(video.GetProperty("status").GetString()))
            {
                var job = await JobAsync(id, owner);
                if (job.GetProperty("state").GetString() is "succeeded" or "failed" or "cancelled")
                {
                    return video;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"video {id} did not reach {string.Join('|', statuses)}: {video}");
            await Task.Delay(50);
        }
    }

    public string LocalBlob(string key) => Path.Combine(BlobDir, key.Replace('/', Path.DirectorySeparatorChar));
}

public sealed class JobsSqliteApp : JobsApp
{
    public override string Provider => "sqlite";
}

public sealed class JobsPostgresApp : JobsApp
{
    public override string Provider => "postgres";
}

/// <summary>Replaced presentations kept 3 s beyond the video's duration.</summary>
public class JobsRetentionApp : JobsApp
{
    public override string Provider => "sqlite";

    protected override string RetiredRetention => "00:00:03";
}

public sealed class JobsRetentionPostgresApp : JobsRetentionApp
{
    public override string Provider => "postgres";
}

// Transcodes load the CPU: these collections run on their own, after the parallel ones, so that they do not
// disturb the suite's timing-sensitive tests (e.g. the login-time comparison).
[CollectionDefinition("jobs-sqlite", DisableParallelization = true)]
public sealed class JobsSqliteCollection : ICollectionFixture<JobsSqliteApp>;

[CollectionDefinition("jobs-postgres", DisableParallelization = true)]
public sealed class JobsPostgresCollection : ICollectionFixture<JobsPostgresApp>;

[CollectionDefinition("jobs-restart", DisableParallelization = true)]
public sealed class JobsRestartCollection;

/// <summary>The real local storage, with injectable failures of <see cref="PutFileAsync"/> per video (transient I/O errors).</summary>
internal sealed class FaultyBlobStorage(IBlobStorage inner) : IBlobStorage
{
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="count"/> stores of files under <c>vod/{videoId}/</c> fail with an IOException.</summary>
    public void FailPuts(string videoId, int count) => _failures[videoId] = count;

    private readonly ConcurrentDictionary<string, PutHold> _holds = new(StringComparer.Ordinal);

    /// <summary>Stores of full-ladder files (<c>vod/{videoId}/{version}/</c>, not a <c>-p</c> preview) wait until the
    /// returned hold is released: the test sees what is served between a job's transcode and its publication.</summary>
    public PutHold HoldFullLadderPuts(string videoId) => _holds[videoId] = new PutHold();

    public async Task PutFileAsync(string key, string localPath, string contentType, CancellationToken cancellationToken)
    {
        var parts = key.Split('/');
        if (parts.Length > 2 && parts[0] == "vod" && _failures.TryGetValue(parts[1], out var left) && left > 0 && _failures.TryUpdate(parts[1], left - 1, left))
        {
            throw new IOException($"injected storage failure writing {localPath}");
        }

        if (parts.Length > 3 && parts[0] == "vod" && !parts[2].EndsWith("-p", StringComparison.Ordinal) && _holds.TryGetValue(parts[1], out var hold))
        {
            await hold.WaitAsync(cancellationToken);
        }

        await inner.PutFileAsync(key, localPath, contentType, cancellationToken);
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken) => inner.PutAsync(key, content, contentType, cancellationToken);

    public Task<(Stream Content, string ContentType)?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    public Task<BlobInfo?> StatAsync(string key, CancellationToken cancellationToken) => inner.StatAsync(key, cancellationToken);

    public Task<BlobRead?> OpenReadAsync(string key, long offset, long? length, CancellationToken cancellationToken) => inner.OpenReadAsync(key, offset, length, cancellationToken);

    public string? LocalPathOf(string key) => inner.LocalPathOf(key);

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

    public Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken) => inner.DeletePrefixAsync(prefix, cancellationToken);
}

/// <summary>Real time moved by an offset: a store on it queues jobs the daemon's worker (on real time) will not see as due.</summary>
internal sealed class ShiftedTime(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
}

/// <summary>Small ffmpeg-made inputs, each made once per test run.</summary>
internal static class Clips
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Made = new();

    public static string Root { get; } = Directory.CreateTempSubdirectory("sv-jobs-clips-").FullName;

    public static string Make(string name, params string[] args) =>
        Made.GetOrAdd(name, n => new Lazy<string>(() =>
        {
            var path = Path.Combine(Root, n);
            var r = TestProcesses.Run(TimeSpan.FromMinutes(2), "ffmpeg", ["-v", "error", "-y", .. args, path]);
            Assert.True(r.ExitCode == 0, $"ffmpeg {string.Join(' ', args)}: {r.StdErr}");
            return path;
        })).Value;

    /// <summary>320x240 test picture and a tone, <paramref name="seconds"/> long.</summary>
    public static string Plain(int seconds) => Make($"plain-{seconds}.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest");

    /// <summary>B-frames, an odd size (321x241, so 4:4:4: x264 refuses odd 4:2:0), a 90° rotation tag and 5.1 audio.</summary>
    public static string Awkward()
    {
        var plain = Make("awkward-plain.mp4",
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25,scale=321:241", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
            "-t", "10", "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-pix_fmt", "yuv444p",
            "-c:a", "aac", "-ac", "6", "-channel_layout", "5.1", "-shortest");

        // FFmpeg 5.1 writes the rotate tag as a display matrix only when stream-copying.
        return Make("awkward.mp4", "-i", plain, "-c", "copy", "-metadata:s:v", "rotate=90");
    }

    public static string AudioOnly() => Make("audio-only.m4a", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "3", "-c:a", "aac");

    public static string Empty()
    {
        var path = Path.Combine(Root, "empty.mp4");
        File.WriteAllBytes(path, []);
        return path;
    }

    public static string Truncated()
    {
        var whole = Make("faststart.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart");
        var bytes = File.ReadAllBytes(whole);
        var path = Path.Combine(Root, "truncated.mp4");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        return path;
    }

    public static string NotMedia()
    {
        var path = Path.Combine(Root, "holiday.mp4");
        var bytes = new byte[48 * 1024];
        new Random(11).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>An AVI whose video FourCC no decoder knows (XVID patched to ZQZQ).</summary>
    public static string UnsupportedCodec()
    {
        var avi = Make("xvid.avi", "-f", "lavfi", "-i", "testsrc2=s=64x48", "-t", "0.4", "-c:v", "mpeg4", "-vtag", "XVID");
        var bytes = File.ReadAllBytes(avi);
        for (var i = 0; i + 4 <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, 4).SequenceEqual("XVID"u8) || bytes.AsSpan(i, 4).SequenceEqual("xvid"u8))
            {
                "ZQZQ"u8.CopyTo(bytes.AsSpan(i));
            }
        }

        var path = Path.Combine(Root, "unknown-fourcc.avi");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A y4m header claiming a 10000x16 picture.</summary>
    public static string AbsurdDimensions()
    {
        var path = Path.Combine(Root, "huge.y4m");
        var header = "YUV4MPEG2 W10000 H16 F25:1 Ip A1:1 C420jpeg\nFRAME\n"u8.ToArray();
        File.WriteAllBytes(path, [.. header, .. new byte[10000 * 16 * 3 / 2]]);
        return path;
    }
}

[CollectionDefinition("jobs-retention", DisableParallelization = true)]
public sealed class JobsRetentionCollection;

/// <summary>See <see cref="FaultyBlobStorage.HoldFullLadderPuts"/>.</summary>
internal sealed class PutHold
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first store is being held.</summary>
    public Task Reached => _reached.Task;

    public void Release() => _released.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        _reached.TrySetResult();
        return _released.Task.WaitAsync(cancellationToken);
    }
}
