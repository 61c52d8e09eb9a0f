using System.Globalization;
using System.Text.RegularExpressions;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>
/// Discontinuities (timestamp jumps, reconnects), a constant EXT-X-TARGETDURATION, parts within PART-TARGET on
/// variable frame rates, open GOPs, and delta updates: issue 17 defects 1, 3, 4, 8.
/// </summary>
public sealed partial class ContinuityTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Epoch = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Epoch);
    private readonly List<LiveStreamRegistry> _registries = [];
    private readonly List<string> _recordings = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var registry in _registries)
        {
            await registry.DisposeAsync();
        }

        foreach (var directory in _recordings)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private LiveStreamRegistry Registry(int reconnectWindowSeconds = 0, Action<SegmenterOptions>? configure = null)
    {
        var registry = TestStreams.CreateRegistry(out var recordings, configure, _clock, reconnectWindowSeconds);
        _registries.Add(registry);
        _recordings.Add(recordings);
        return registry;
    }

    private static async Task<string> PlaylistAsync(LiveStream stream, string file, bool skip = false)
    {
        var result = await stream.GetMediaPlaylistAsync(file, null, null, skip, CancellationToken.None);
        Assert.Equal(PlaylistStatus.Ok, result.Status);
        return TestStreams.Text(result.Body);
    }

    private static async Task<string> MpdAsync(LiveStream stream) => TestStreams.Text(await stream.GetMpdAsync(CancellationToken.None));

    /// <summary>(MSN, EXTINF, preceded by EXT-X-DISCONTINUITY) of every listed segment.</summary>
    private static List<(long Msn, double Duration, bool Discontinuity)> Segments(string playlist)
    {
        var result = new List<(long, double, bool)>();
        var lines = playlist.Split('\n');
        var discontinuity = false;
        double duration = 0;
        foreach (var line in lines)
        {
            if (line == "#EXT-X-DISCONTINUITY")
            {
                discontinuity = true;
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                duration = double.Parse(line[8..^1], CultureInfo.InvariantCulture);
            }
            else if (line.EndsWith(".m4s", StringComparison.Ordinal) && !line.StartsWith('#'))
            {
                var name = line[(line.LastIndexOf('_') + 1)..^4];
                result.Add((long.Parse(name, CultureInfo.InvariantCulture), duration, discontinuity));
                discontinuity = false;
            }
        }

        return result;
    }

    private static int TargetDuration(string playlist) => int.Parse(TargetTag().Match(playlist).Groups[1].Value, CultureInfo.InvariantCulture);

    private static void AssertFitsTarget(string playlist)
    {
        var target = TargetDuration(playlist);
        Assert.All(Segments(playlist), s => Assert.True(Math.Round(s.Duration, MidpointRounding.AwayFromZero) <= target, $"EXTINF {s.Duration} > TARGETDURATION {target} (segment {s.Msn})\n{playlist}"));
    }

    /// <summary>Audio and video list the same MSNs, with a discontinuity before the same one, and segments of about the same length.</summary>
    private static void AssertTracksAgree(string video, string audio)
    {
        var v = Segments(video);
        var a = Segments(audio);
        Assert.Equal(v.Select(s => (s.Msn, s.Discontinuity)), a.Select(s => (s.Msn, s.Discontinuity)));
        for (var i = 0; i < v.Count; i++)
        {
            Assert.InRange(a[i].Duration - v[i].Duration, -0.1, 0.1);
        }
    }

    [Fact]
    public async Task An_encoder_stall_starts_a_new_timeline_and_keeps_the_target_duration()
    {
        var stream = Registry().TryStartPublishing("stall")!;
        var feeder = new SyntheticFeeder(stream, clock: _clock);
        feeder.FeedUntil(9.5);

        // 20 s without media, then the encoder's clock (and the wall clock) have moved on by 20 s.
        feeder.InputOffset = 20 * 90000;
        feeder.WallOffset = TimeSpan.FromSeconds(20);
        feeder.FeedUntil(20.3);

        var video = await PlaylistAsync(stream, "video.m3u8");
        var audio = await PlaylistAsync(stream, "audio.m3u8");
        Assert.Equal(2, TargetDuration(video));
        Assert.Equal(2, TargetDuration(audio));
        AssertFitsTarget(video);
        AssertFitsTarget(audio);
        AssertTracksAgree(video, audio);

        var segments = Segments(video);
        var first = Assert.Single(segments, s => s.Discontinuity);
        Assert.DoesNotContain("#EXT-X-DISCONTINUITY-SEQUENCE", video); // the first listed segment is still of timeline 0

        // The new timeline starts at the next keyframe (10 s of the feed), stamped with the wall clock after the stall.
        Assert.Contains("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-03-01T12:00:30.000Z", video);
        Assert.True(segments.IndexOf(first) > 0);

        // DASH: a Period per timeline; the second starts where its media does (10 s of media + 20 s stall - one frame).
        var mpd = await MpdAsync(stream);
        Assert.Equal(2, PeriodTag().Count(mpd));
        var start = double.Parse(PeriodStart().Match(mpd).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(start, 29.5, 30.5); // before the fix (timeline kept contiguous) 9.52: dash.js would ask 20 s ahead of the media
        var offset = long.Parse(VideoOffset().Match(mpd).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(offset / 90000.0, start - 0.001, start + 0.001); // the Period's media start at its start
    }

    [Fact]
    public async Task A_backward_jump_keeps_audio_and_video_sequence_numbers_together()
    {
        var stream = Registry().TryStartPublishing("back")!;
        var feeder = new SyntheticFeeder(stream, clock: _clock);
        feeder.FeedUntil(9.5);
        feeder.InputOffset = -8 * 90000;
        feeder.FeedUntil(20.3);

        var video = await PlaylistAsync(stream, "video.m3u8");
        var audio = await PlaylistAsync(stream, "audio.m3u8");
        AssertFitsTarget(video);
        AssertFitsTarget(audio);
        AssertTracksAgree(video, audio);
        Assert.Single(Segments(video), s => s.Discontinuity);
        Assert.Equal(2, TargetDuration(video));
    }

    [Fact]
    public async Task The_discontinuity_sequence_advances_as_the_window_slides()
    {
        var stream = Registry().TryStartPublishing("slide")!;
        var feeder = new SyntheticFeeder(stream, clock: _clock);
        feeder.FeedUntil(9.5);
        feeder.InputOffset = 30 * 90000; // a forward jump of the clock alone (no stall)
        feeder.FeedUntil(40.3);

        var video = await PlaylistAsync(stream, "video.m3u8");
        Assert.Contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n", video);
        Assert.DoesNotContain("#EXT-X-DISCONTINUITY\n", video);
        AssertFitsTarget(video);
        AssertTracksAgree(video, await PlaylistAsync(stream, "audio.m3u8"));
        var mpd = await MpdAsync(stream);
        Assert.Equal(1, PeriodTag().Count(mpd));
        Assert.Contains("<Period id=\"1\"", mpd);
    }

    [Fact]
    public async Task Keyframes_further_apart_than_the_target_never_grow_the_target_duration()
    {
        var stream = Registry().TryStartPublishing("gop")!;
        // Keyframes every 2 s for 10 s, then one GOP of 8 s.
        var feeder = new SyntheticFeeder(stream, clock: _clock) { IsKeyframe = i => i < 250 ? i % 50 == 0 : (i - 250) % 200 == 0 };
        feeder.FeedUntil(22.3);

        var video = await PlaylistAsync(stream, "video.m3u8");
        Assert.Equal(2, TargetDuration(video));
        AssertFitsTarget(video);
        AssertFitsTarget(await PlaylistAsync(stream, "audio.m3u8"));
        AssertTracksAgree(video, await PlaylistAsync(stream, "audio.m3u8"));

        // Such a segment does not start on an IDR: independence is no longer declared.
        Assert.DoesNotContain("#EXT-X-INDEPENDENT-SEGMENTS", TestStreams.Text(await stream.GetMasterPlaylistAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task Open_gop_keyframes_are_not_declared_independent_segments()
    {
        var regular = Registry().TryStartPublishing("closed")!;
        new SyntheticFeeder(regular, clock: _clock).FeedUntil(6.3);
        Assert.Contains("#EXT-X-INDEPENDENT-SEGMENTS", TestStreams.Text(await regular.GetMasterPlaylistAsync(CancellationToken.None)));

        var open = Registry().TryStartPublishing("open")!;
        new SyntheticFeeder(open, clock: _clock) { OpenGop = true }.FeedUntil(6.3);
        Assert.DoesNotContain("#EXT-X-INDEPENDENT-SEGMENTS", TestStreams.Text(await open.GetMasterPlaylistAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task Parts_never_exceed_the_part_target_on_variable_frame_rate_input()
    {
        var stream = Registry().TryStartPublishing("vfr")!;
        var (avcC, _) = TestStreams.Configs();
        stream.OnVideoConfig(avcC);

        // Nine frames 40 ms apart, then a 200 ms gap; a keyframe every 2 s or so.
        long dts = 0, nextKey = 0;
        for (var i = 0; i < 400; i++)
        {
            var key = dts >= nextKey;
            if (key)
            {
                nextKey += 2 * 90000;
            }

            var data = new byte[200];
            data[3] = 196;
            data[4] = (byte)(key ? 0x65 : 0x41);
            stream.OnSample(TrackKind.Video, dts, dts, key, data);
            dts += i % 10 == 9 ? 18000 : 3600;
        }

        var video = await PlaylistAsync(stream, "video.m3u8");
        var target = double.Parse(PartTargetTag().Match(video).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(0.5, target);
        var parts = PartDurationTag().Matches(video).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(parts);
        Assert.All(parts, d => Assert.True(d <= target, $"part of {d} s > PART-TARGET {target}\n{video}"));
    }

    [Fact]
    public async Task A_delta_update_request_before_anything_can_be_skipped_is_answered_with_the_full_playlist()
    {
        // §6.2.5.1: a delta update keeps at least CAN-SKIP-UNTIL (12 s) of segments; a 4 s stream has nothing to skip, and
        // SKIPPED-SEGMENTS=0 is refused by strict parsers (hls-parser), so the full playlist answers.
        var stream = Registry().TryStartPublishing("young")!;
        new SyntheticFeeder(stream, clock: _clock).FeedUntil(4.3);
        var delta = await PlaylistAsync(stream, "video.m3u8", skip: true);
        Assert.DoesNotContain("#EXT-X-SKIP", delta);
        Assert.Equal(await PlaylistAsync(stream, "video.m3u8"), delta);
    }

    [Fact]
    public async Task A_publisher_that_reconnects_within_the_window_continues_the_session()
    {
        var registry = Registry(reconnectWindowSeconds: 10);
        var first = registry.TryBeginPublish("cam", out var continued)!;
        Assert.False(continued);
        var stream = first.Stream;
        new SyntheticFeeder(first, clock: _clock).FeedUntil(9.5);
        first.OnEnd(); // the connection dropped (no unpublish)

        var held = await PlaylistAsync(stream, "video.m3u8");
        Assert.DoesNotContain("#EXT-X-DISCONTINUITY", held); // nothing after the last segment yet
        Assert.False(stream.IsEnded);
        Assert.DoesNotContain("#EXT-X-ENDLIST", held);
        Assert.Contains("type=\"dynamic\"", await MpdAsync(stream));
        var heldSegments = Segments(held);

        _clock.Advance(TimeSpan.FromSeconds(2));
        var second = registry.TryBeginPublish("cam", out continued)!;
        Assert.True(continued);
        Assert.Same(stream, second.Stream);
        var returning = new SyntheticFeeder(second, clock: _clock);
        returning.FeedUntil(1.0); // the encoder's clock starts over
        var opening = await PlaylistAsync(stream, "video.m3u8");
        Assert.Equal(1, Regex.Count(opening, "#EXT-X-DISCONTINUITY\n")); // once, before the new segment's parts
        Assert.Contains("#EXT-X-DISCONTINUITY\n#EXT-X-PART:", opening);
        returning.FeedUntil(10.3);

        var video = await PlaylistAsync(stream, "video.m3u8");
        var audio = await PlaylistAsync(stream, "audio.m3u8");
        Assert.Same(stream, registry.FindLive("cam"));
        Assert.Contains($"{stream.SessionId}/video_", video);
        var segments = Segments(video);
        Assert.Equal(Enumerable.Range((int)segments[0].Msn, segments.Count).Select(i => (long)i), segments.Select(s => s.Msn)); // MSNs continue
        Assert.Contains(segments, s => s.Msn == heldSegments[^1].Msn);
        var resumed = Assert.Single(segments, s => s.Discontinuity);
        Assert.Equal(heldSegments[^1].Msn + 1, resumed.Msn);
        AssertFitsTarget(video);
        AssertTracksAgree(video, audio);
        Assert.Contains("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-03-01T12:00:11.493Z", video); // the wall clock of the new publisher's first keyframe
        Assert.Equal(2, PeriodTag().Count(await MpdAsync(stream)));

        // An unpublish ends the broadcast at once.
        second.MarkUnpublished();
        second.OnEnd();
        Assert.True(stream.IsEnded);
        Assert.Contains("#EXT-X-ENDLIST", await PlaylistAsync(stream, "video.m3u8"));
    }

    [Fact]
    public async Task A_held_session_ends_when_the_window_passes()
    {
        var registry = Registry(reconnectWindowSeconds: 1);
        var publisher = registry.TryBeginPublish("gone", out _)!;
        new SyntheticFeeder(publisher, clock: _clock).FeedUntil(4.3);
        publisher.OnEnd();
        Assert.False(publisher.Stream.IsEnded);

        await publisher.Stream.Ended.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(publisher.Stream.IsEnded);
        Assert.Contains("#EXT-X-ENDLIST", await PlaylistAsync(publisher.Stream, "video.m3u8"));
        await TestStreams.WaitRemovedAsync(registry, "gone");
        var next = registry.TryBeginPublish("gone", out var continued)!;
        Assert.False(continued); // after the window a publish is a new session
        Assert.NotEqual(publisher.Stream.SessionId, next.Stream.SessionId);
    }

    [Fact]
    public async Task A_new_publish_takes_over_a_stalled_publisher_but_not_a_live_one()
    {
        var registry = Registry(reconnectWindowSeconds: 10);
        var first = registry.TryBeginPublish("cam", out _)!;
        var feeder = new SyntheticFeeder(first, clock: _clock);
        feeder.FeedUntil(4.3);
        Assert.Null(registry.TryBeginPublish("cam", out _)); // it is feeding: "already being published"

        await Task.Delay(LiveStreamRegistry.StallTimeout + TimeSpan.FromMilliseconds(200)); // the old connection stalls
        var second = registry.TryBeginPublish("cam", out var continued)!;
        Assert.True(continued);
        Assert.Same(first.Stream, second.Stream);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(TimeSpan.FromSeconds(30), first.Superseded));

        // What the old connection still sends, or its end, no longer reaches the session.
        var parts = first.Stream.PartsProduced;
        feeder.FeedUntil(8.3);
        first.OnEnd();
        Assert.Equal(parts, first.Stream.PartsProduced);
        Assert.False(first.Stream.IsEnded);

        new SyntheticFeeder(second, clock: _clock).FeedUntil(4.3);
        var video = await PlaylistAsync(second.Stream, "video.m3u8");
        Assert.Single(Segments(video), s => s.Discontinuity);
    }

    [Fact]
    public void Idr_detection_reads_the_slice_nal_unit_type()
    {
        Assert.True(LiveStream.StartsWithIdr([0, 0, 0, 2, 0x67, 0, 0, 0, 0, 2, 0x65, 0]));  // SPS, IDR slice
        Assert.False(LiveStream.StartsWithIdr([0, 0, 0, 2, 0x06, 0, 0, 0, 0, 2, 0x41, 0])); // SEI, non-IDR slice
        Assert.True(LiveStream.StartsWithIdr(new byte[20])); // nothing to read: the container's flag stands
    }

    [GeneratedRegex("#EXT-X-TARGETDURATION:(\\d+)")]
    private static partial Regex TargetTag();

    [GeneratedRegex("<Period id=\"1\" start=\"PT([0-9.]+)S\"")]
    private static partial Regex PeriodStart();

    [GeneratedRegex("timescale=\"90000\"[^>]*presentationTimeOffset=\"(\\d+)\"")]
    private static partial Regex VideoOffset();

    [GeneratedRegex("<Period ")]
    private static partial Regex PeriodTag();

    [GeneratedRegex("#EXT-X-PART-INF:PART-TARGET=([0-9.]+)")]
    private static partial Regex PartTargetTag();

    [GeneratedRegex("#EXT-X-PART:DURATION=([0-9.]+)")]
    private static partial Regex PartDurationTag();
}
