using System.Collections.Concurrent;
using System.Security.Cryptography;
using StreamVerse.ControlPlane.Jobs;

namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>One hand-over from an upload to the transcoding queue, with the SHA-1 of the file at that moment.</summary>
public sealed record RecordedJob(string JobId, string VideoId, string SourcePath, string Sha1);

/// <summary>An <see cref="IVideoJobQueue"/> that records what it was given (the tests' stand-in for the real queue).</summary>
public sealed class RecordingJobQueue : IVideoJobQueue
{
    private readonly ConcurrentQueue<RecordedJob> _jobs = new();
    private int _next;

    public IReadOnlyList<RecordedJob> All => [.. _jobs];

    /// <summary>The next hand-over of this video throws (a queue that is down), once.</summary>
    public string? RefuseNextOf { get; set; }

    public IReadOnlyList<RecordedJob> Of(string videoId) => [.. _jobs.Where(j => j.VideoId == videoId)];

    Task<string> IVideoJobQueue.EnqueueTranscodeAsync(string videoId, string sourcePath, CancellationToken cancellationToken)
    {
        if (RefuseNextOf == videoId)
        {
            RefuseNextOf = null;
            throw new InvalidOperationException("queue unavailable (test)");
        }

        using var file = File.OpenRead(sourcePath);
        var id = "job-" + Interlocked.Increment(ref _next);
        _jobs.Enqueue(new RecordedJob(id, videoId, sourcePath, Convert.ToHexStringLower(SHA1.HashData(file))));
        return Task.FromResult(id);
    }
}
