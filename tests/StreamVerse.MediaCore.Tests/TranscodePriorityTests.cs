using System.Globalization;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.MediaCore.Tests.Infrastructure;
using StreamVerse.Tests.Shared;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// A VOD ladder's codec threads run below the event loops: the threads libavcodec and libx264 start while the pipeline
/// opens its codecs get the configured nice value (read back from /proc, as the kernel has it), and nothing else does:
/// not the pipeline's managed threads, whose priority every thread they start (thread-pool workers included) would inherit.
/// </summary>
public sealed class TranscodePriorityTests
{
    [Fact]
    public void Only_threads_started_since_the_snapshot_with_the_callers_name_are_moved()
    {
        var before = ThreadNice.Of();
        (int Moved, string? Refused) result = default;
        int? self = null, child = null, stranger = null;
        var thread = new Thread(() =>
        {
            var siblings = ThreadNice.TakeSiblings();
            using var release = new ManualResetEventSlim();
            using var ready = new CountdownEvent(2);
            int childTid = 0, strangerTid = 0;
            var started = new Thread(() => { childTid = Gettid(); ready.Signal(); release.Wait(); }); // inherits "nice-test"
            var other = new Thread(() => { strangerTid = Gettid(); ready.Signal(); release.Wait(); }) { Name = "other-test" };
            started.Start();
            other.Start();
            ready.Wait();
            result = ThreadNice.LowerStartedSince(siblings, 9);
            self = ThreadNice.Of();
            child = ThreadNice.Of(childTid);
            stranger = ThreadNice.Of(strangerTid);
            release.Set();
            started.Join();
            other.Join();
        }) { Name = "nice-test" };
        thread.Start();
        thread.Join();

        Assert.Null(result.Refused);
        Assert.Equal(1, result.Moved);
        Assert.Equal(9, child);
        Assert.Equal(before, self);
        Assert.Equal(before, stranger);
        Assert.Equal(before, ThreadNice.Of());
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadNice.LowerStartedSince(ThreadNice.TakeSiblings(), 20));
    }

    [Fact]
    public async Task A_vod_ladder_runs_its_codec_threads_at_the_configured_nice_and_its_own_at_the_callers()
    {
        const int Nice = 11; // no other test uses it: the threads found at 11 are this transcode's
        var source = Tools.Clip("nice-src.mp4",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac");
        var output = Path.Combine(Tools.TempRoot, "nice-out");
        var seen = new Snapshot();
        var caller = ThreadNice.Of();
        var options = new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(2), Preset = "veryfast", Nice = Nice, Thumbnails = false };
        var result = await new Transcoder().TranscodeAsync(source, output, options, seen, CancellationToken.None);
        Assert.NotEmpty(result.Rungs);

        // Taken on the pipeline's thread at its first progress report, while the decoder and encoders are open.
        Assert.Equal(caller, seen.ReporterNice);
        var niced = seen.Threads.Where(t => t.Nice == Nice).ToList();
        Assert.All(niced, t => Assert.Equal("mediacore-ladde", t.Name)); // started by the pipeline's thread, named after it
        // Two rungs, each x264 with its own frame threads (threads = auto) and the decoder's frame threads.
        Assert.True(niced.Count >= 4, "threads at nice 11: " + niced.Count.ToString(CultureInfo.InvariantCulture));
        Assert.Contains(seen.Threads, t => t.Name == "mediacore-ladde" && t.Nice == caller);
        Assert.Contains(seen.Threads, t => t.Name == "mediacore-encod" && t.Nice == caller);

        // Nothing else moved: a thread-pool worker now, and the caller.
        Assert.Equal(caller, await Task.Run(() => ThreadNice.Of()));
        Assert.Equal(caller, ThreadNice.Of());
    }

    [Fact]
    public async Task Nice_zero_leaves_every_codec_thread_at_the_callers_priority()
    {
        var source = Tools.Clip("nice-src.mp4",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac");
        var seen = new Snapshot();
        var caller = ThreadNice.Of();

        // Only threads that did not exist before this transcode are its own. A ladder that ran before (the nice-11
        // test's) has returned, but its codec threads end asynchronously and may still be listed on a busy machine:
        // judging every thread of the process made this test depend on how fast the kernel reaped them.
        var before = ProcThreads.List().Select(t => t.Tid).ToHashSet();
        await new Transcoder().TranscodeAsync(source, Path.Combine(Tools.TempRoot, "nice0-out"),
            new LadderOptions { SegmentDuration = TimeSpan.FromSeconds(2), Thumbnails = false }, seen, CancellationToken.None);
        var ours = seen.Threads.Where(t => !before.Contains(t.Tid) && t.Name.StartsWith("mediacore-", StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count >= 4, "threads started by this ladder: " + ours.Count.ToString(CultureInfo.InvariantCulture));
        Assert.All(ours, t => Assert.Equal(caller, t.Nice));
    }

    private sealed class Snapshot : IProgress<double>
    {
        public int? ReporterNice { get; private set; }

        public List<(int Tid, string Name, int Nice)> Threads { get; private set; } = [];

        public void Report(double value)
        {
            if (ReporterNice is null)
            {
                ReporterNice = ThreadNice.Of();
                Threads = ProcThreads.List();
            }
        }
    }

    private static int Gettid() => int.Parse(File.ReadAllText("/proc/thread-self/stat").Split(' ')[0], CultureInfo.InvariantCulture);
}
