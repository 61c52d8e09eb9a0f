using System.Globalization;
using Microsoft.Extensions.Options;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.Origin.Hosting;
using StreamVerse.Tests.Shared;

namespace StreamVerse.Origin.Tests.Hosting;

/// <summary>The daemon's job transcoder hands <c>Jobs:Ladder:Nice</c> to MediaCore: a job's codec threads run at it.</summary>
public sealed class MediaCoreVideoTranscoderTests
{
    [Fact]
    public async Task A_jobs_codec_threads_run_at_the_configured_nice()
    {
        const int Nice = 13; // used by no other test in this process
        var dir = Directory.CreateTempSubdirectory("sv-job-nice-").FullName;
        try
        {
            var source = Path.Combine(dir, "source.mp4");
            var clip = TestProcesses.Run(TimeSpan.FromSeconds(60), "ffmpeg",
                "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", source);
            Assert.True(clip.ExitCode == 0, clip.StdErr);

            var options = new JobOptions();
            options.Ladder.Nice = Nice;
            var transcoder = new MediaCoreVideoTranscoder(new Transcoder(), Options.Create(options), Microsoft.Extensions.Logging.Abstractions.NullLogger<MediaCoreVideoTranscoder>.Instance);
            var seen = new NicedThreads(Nice);
            var output = await transcoder.TranscodeAsync(source, Path.Combine(dir, "out"), TranscodePass.Preview, seen, CancellationToken.None);

            Assert.True(output.DurationSeconds > 2);
            // The preview's one rung: x264's frame threads, and the decoder's, all started by the pipeline's thread.
            Assert.True(seen.Count >= 2, "threads at nice 13: " + seen.Count.ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(false, 5)]
    [InlineData(true, 7)]
    public async Task Jobs_ladder_above_hd_adds_1440p_and_2160p_for_a_2160p_source(bool aboveHd, int renditions)
    {
        var dir = Directory.CreateTempSubdirectory("sv-job-uhd-").FullName;
        try
        {
            // A tiny synthetic 2160p source: two frames, only planned (probed), not transcoded.
            var source = Path.Combine(dir, "uhd.mp4");
            var clip = TestProcesses.Run(TimeSpan.FromSeconds(60), "ffmpeg",
                "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=3840x2160:r=25", "-frames:v", "2", "-c:v", "libx264", "-preset", "ultrafast", source);
            Assert.True(clip.ExitCode == 0, clip.StdErr);

            var options = new JobOptions();
            options.Ladder.AboveHd = aboveHd;
            var plan = await new MediaCoreVideoTranscoder(new Transcoder(), Options.Create(options), Microsoft.Extensions.Logging.Abstractions.NullLogger<MediaCoreVideoTranscoder>.Instance).PlanAsync(source, CancellationToken.None);
            Assert.Equal(renditions, plan.VideoRenditions);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>At the first progress report (on the pipeline's thread, codecs open): threads of this process at <c>nice</c>.</summary>
    private sealed class NicedThreads(int nice) : IProgress<double>
    {
        public int Count { get; private set; } = -1;

        public void Report(double value)
        {
            if (Count < 0)
            {
                Count = ProcThreads.List().Count(t => t.Nice == nice);
            }
        }
    }
}
