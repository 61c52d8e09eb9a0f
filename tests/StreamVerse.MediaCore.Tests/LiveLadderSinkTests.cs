using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamVerse.MediaCore.Interop;
using StreamVerse.MediaCore.Live;
using StreamVerse.MediaCore.Transcode;
using StreamVerse.MediaCore.Tests.Infrastructure;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.MediaCore.Tests;

/// <summary>
/// The live ladder transcoder on a real RTMP-like sample stream (an ffmpeg FLV: 480x270, 25 fps, 1 s GOP, B-frames,
/// AAC), fed straight into the real segmenter, as fast as the test can (no real-time pacing).
/// </summary>
public sealed class LiveLadderSinkTests
{
    internal static readonly LadderRung[] TwoRungs = [new(180, 300_000), new(144, 150_000)];

    internal static string Source() => Tools.Clip("live-480x270.flv",
        "-f", "lavfi", "-i", "testsrc2=size=480x270:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "6", "-c:v", "libx264", "-bf", "2", "-g", "25", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv");

    private static LiveStreamRegistry Registry(out string root)
    {
        root = Directory.CreateTempSubdirectory("sv-live-ladder-").FullName;
        return new LiveStreamRegistry(Options.Create(new SegmenterOptions { RecordingsPath = root }), TimeProvider.System, NullLoggerFactory.Instance);
    }

    [Fact]
    public async Task Rungs_get_keyframes_exactly_on_the_source_keyframes_and_identical_segment_timelines()
    {
        LibAv.EnsureInitialized();
        await using var registry = Registry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("abr", advertiseSource: true)!;
            var sink = new LiveLadderSink(ladder, registry, new LiveLadderSettings(TwoRungs, "ultrafast", QueueFrames: 1000), NullLogger.Instance);
            FlvReader.Feed(sink, FlvReader.Read(Source()));
            await sink.Worker!.Finished.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, sink.Worker.DroppedGops);
            Assert.Equal(["video144", "video180"], ladder.Rungs.Select(r => r.VideoPrefix).Order());

            // Static once everything ended; identical timelines share one SegmentTemplate ($RepresentationID$).
            var mpd = Text(await ladder.Source.GetMpdAsync(CancellationToken.None));
            Assert.Contains("type=\"static\"", mpd, StringComparison.Ordinal);
            Assert.Contains("$RepresentationID$_$Number$.m4s", mpd, StringComparison.Ordinal);
            Assert.Matches("<Representation id=\"video144\"[^>]* width=\"256\" height=\"144\"", mpd);
            Assert.Matches("<Representation id=\"video180\"[^>]* width=\"320\" height=\"180\"", mpd);
            Assert.Matches("<Representation id=\"video\"[^>]* width=\"480\" height=\"270\"", mpd);

            foreach (var playlist in new[] { "video.m3u8", "video180.m3u8", "video144.m3u8" })
            {
                var text = Text((await ladder.Source.GetMediaPlaylistAsync(playlist, null, null, false, CancellationToken.None)).Body);
                Assert.Contains("#EXT-X-ENDLIST", text, StringComparison.Ordinal);
            }

            await WaitRemovedAsync(registry, "abr");

            // ffprobe on the recording: a rung's keyframes are the source's (times, not just count).
            var source = Keyframes(Path.Combine(root, "abr", "video.m3u8"));
            Assert.Equal(6, source.Count);
            Assert.Equal(source, Keyframes(Path.Combine(root, "abr", "video180.m3u8")));
            Assert.Equal(source, Keyframes(Path.Combine(root, "abr", "video144.m3u8")));
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_full_queue_drops_gops_for_the_rungs_while_the_source_keeps_every_frame()
    {
        LibAv.EnsureInitialized();
        await using var registry = Registry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("busy", advertiseSource: true)!;
            var drops = 0;
            // 8 frames of queue, fed far faster than real time: the transcoder (still opening x264 when the first
            // frames arrive) cannot keep up.
            var sink = new LiveLadderSink(ladder, registry, new LiveLadderSettings(TwoRungs, "medium", QueueFrames: 8), NullLogger.Instance, () => drops++);
            var samples = FlvReader.Read(Source());
            FlvReader.Feed(sink, samples);
            await sink.Worker!.Finished.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(sink.Worker.DroppedGops > 0);
            Assert.Equal(sink.Worker.DroppedGops, drops);

            // The source lost nothing: 6 s of video, three 2 s segments.
            Assert.Equal(3, ladder.Source.SegmentsProduced);

            // The rungs ended too, and cut segments only where the source did.
            var sourceStarts = SegmentStarts(Text((await ladder.Source.GetMediaPlaylistAsync("video.m3u8", null, null, false, CancellationToken.None)).Body));
            foreach (var rung in ladder.Rungs)
            {
                var text = Text((await ladder.Source.GetMediaPlaylistAsync(rung.VideoPrefix + ".m3u8", null, null, false, CancellationToken.None)).Body);
                Assert.Contains("#EXT-X-ENDLIST", text, StringComparison.Ordinal);
                Assert.Subset(sourceStarts.ToHashSet(), SegmentStarts(text).ToHashSet());
            }

            await WaitRemovedAsync(registry, "busy");
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task The_queue_is_bounded_in_bytes_too_and_drops_gops_when_frames_would_still_fit()
    {
        LibAv.EnsureInitialized();
        await using var registry = Registry(out var root);
        try
        {
            var ladder = registry.TryStartLadder("heavy", advertiseSource: true)!;
            var drops = 0;
            // Room for 1000 frames (the whole clip) but 16 KiB: a keyframe alone nearly fills it, so, fed far faster than
            // real time, GOPs are dropped for the rungs although the frame bound is never reached.
            var sink = new LiveLadderSink(ladder, registry, new LiveLadderSettings(TwoRungs, "medium", QueueFrames: 1000, QueueBytes: 16 * 1024),
                NullLogger.Instance, () => drops++);
            var samples = FlvReader.Read(Source());
            FlvReader.Feed(sink, samples);
            Assert.InRange(sink.Worker!.QueuedBytes, 0, 16 * 1024);
            await sink.Worker.Finished.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(sink.Worker.DroppedGops > 0);
            Assert.Equal(sink.Worker.DroppedGops, drops);
            Assert.Equal(0, sink.Worker.QueuedBytes);
            Assert.Equal(3, ladder.Source.SegmentsProduced);
            await WaitRemovedAsync(registry, "heavy");
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Program date-times of the segments (a rung takes the source's for the segment it starts with it).</summary>
    private static List<string> SegmentStarts(string playlist) =>
        [.. playlist.Split('\n').Where(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))];

    private static List<string> Keyframes(string playlist)
    {
        var r = Tools.MustRun("ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries", "frame=pts_time", "-of", "csv=p=0", playlist);
        return [.. r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.TrimEnd(','))];
    }

    private static async Task WaitRemovedAsync(LiveStreamRegistry registry, string name)
    {
        for (var i = 0; i < 400 && registry.FindLive(name) is not null; i++)
        {
            await Task.Delay(25);
        }

        Assert.Null(registry.FindLive(name));
    }

    private static string Text(StoredObject? o) =>
        o is null ? "" : System.Text.Encoding.UTF8.GetString(o.Chunks.SelectMany(c => c.ToArray()).ToArray());
}
