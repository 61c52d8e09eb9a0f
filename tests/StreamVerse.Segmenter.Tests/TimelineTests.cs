using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>Where the shared timeline starts, and how audio is timed against it.</summary>
public sealed class TimelineTests : IAsyncLifetime
{
    private LiveStreamRegistry _registry = null!;
    private string _root = "";

    public Task InitializeAsync()
    {
        _registry = TestStreams.CreateRegistry(out _root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void Timeline_starts_at_the_first_keyframe_and_earlier_media_is_dropped()
    {
        var stream = _registry.TryStartPublishing("t")!;
        var (avcC, asc) = TestStreams.Configs();
        stream.OnVideoConfig(avcC);
        stream.OnAudioConfig(asc);
        const long start = 1_000_000;

        // Audio and a non-keyframe before the first keyframe; some audio that arrives early but is later.
        for (var i = -10; i < 0; i++)
        {
            stream.OnSample(TrackKind.Audio, start + (i * 1920), start + (i * 1920), true, new byte[10]);
        }

        stream.OnSample(TrackKind.Video, start - 3600, start - 3600, false, new byte[20]);
        stream.OnSample(TrackKind.Audio, start + 100, start + 100, true, new byte[10]);
        for (var f = 0; f < 60; f++)
        {
            var dts = start + (f * 3600);
            stream.OnSample(TrackKind.Video, dts, dts + 3600, f % 25 == 0, new byte[20]);
            for (var a = 1; a * 1920 + 100 <= (f + 1) * 3600; a++)
            {
                var adts = start + 100 + (a * 1920);
                if (adts > dts && adts <= dts + 3600)
                {
                    stream.OnSample(TrackKind.Audio, adts, adts, true, new byte[10]);
                }
            }
        }

        var view = stream.View;
        var video = view.Video!.FindSegment(0)!;
        var audio = view.Audio!.FindSegment(0)!;
        Assert.Equal(0, video.Info.StartTime);
        Assert.Equal(50 * 3600, video.Info.Ticks); // keyframe at 2 s closes segment 0

        // Audio starts at its first sample at/after the keyframe: 100 ticks of 90 kHz -> 53 ticks of 48 kHz.
        Assert.Equal(100 * 48000 / 90000, audio.Info.StartTime);
        var fragments = Fragment.ParseAll(TestStreams.Concat(audio.Body));
        Assert.All(fragments.SelectMany(f => f.Samples), s => Assert.Equal(1024u, s.Duration));

        // Audio segment 0 ends at the first audio sample at/after the 2 s video boundary.
        var end = audio.Info.StartTime + audio.Info.Ticks;
        Assert.InRange(end - (2 * 48000), 0, 1023);
    }

    [Fact]
    public void Audio_durations_are_exact_despite_millisecond_timestamps_and_resync_after_a_gap()
    {
        var stream = _registry.TryStartPublishing("a")!;
        stream.OnAudioConfig(TestStreams.Configs().Asc);

        // RTMP-style millisecond timestamps (21 or 22 ms apart), then a 500 ms hole.
        long ms = 0;
        for (var i = 0; i < 300; i++)
        {
            var exact = i * 1024 * 1000.0 / 48000;
            ms = (long)Math.Round(exact) + (i >= 200 ? 500 : 0);
            stream.OnSample(TrackKind.Audio, ms * 90, ms * 90, true, new byte[10]);
        }

        stream.OnEnd();
        var segments = stream.View.Audio!.Segments;
        var samples = segments.SelectMany(s => Fragment.ParseAll(TestStreams.Concat(s.Body))).ToList();
        var all = samples.SelectMany(f => f.Samples).ToList();
        Assert.Equal(300, all.Count);

        // One sample absorbed the hole (or the next part's tfdt jumped); every other one is exactly 1024.
        Assert.True(all.Count(s => s.Duration != 1024) <= 1);
        var total = samples.Last().BaseDecodeTime + samples.Last().TotalDuration;
        Assert.InRange((long)total - ((300 * 1024) + (500 * 48)), -1024, 1024);
    }
}
