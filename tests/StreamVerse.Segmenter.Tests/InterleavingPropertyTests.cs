using CsCheck;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>
/// Publishers do not interleave tracks perfectly (OBS often sends audio a few hundred ms early or late).
/// Whatever the arrival skew, both tracks must get the same segments and parts at the same instants.
/// </summary>
public sealed class InterleavingPropertyTests
{
    [Fact]
    public void Audio_follows_video_boundaries_whatever_the_arrival_skew()
    {
        var (avcC, asc) = TestStreams.Configs();
        Gen.Select(Gen.Int[-400, 400], Gen.Int[0, 25], Gen.Int[10, 60]).Sample((skewMs, gop, frames) =>
        {
            var keyInterval = gop < 5 ? 1 : gop; // include all-keyframe streams
            using var registry = TestStreams.CreateRegistry(out var root);
            try
            {
                var stream = registry.TryStartPublishing("p")!;
                stream.OnVideoConfig(avcC);
                stream.OnAudioConfig(asc);

                // Arrival order: video by DTS, audio by DTS + skew.
                var events = new List<(long Order, TrackKind Track, long Dts, bool Key)>();
                for (var f = 0; f < frames * 4; f++)
                {
                    events.Add((f * 3600, TrackKind.Video, f * 3600, f % keyInterval == 0));
                }

                for (var a = 0; a * 1920 < frames * 4 * 3600; a++)
                {
                    events.Add(((a * 1920) + (skewMs * 90), TrackKind.Audio, a * 1920, true));
                }

                foreach (var e in events.OrderBy(e => e.Order).ThenBy(e => e.Track))
                {
                    stream.OnSample(e.Track, e.Dts, e.Dts, e.Key, new byte[8]);
                }

                stream.OnEnd();
                var view = stream.View;
                var video = view.Video!.Segments;
                var audio = view.Audio!.Segments;
                if (video.Length != audio.Length)
                {
                    return false;
                }

                for (var i = 0; i < video.Length; i++)
                {
                    var v = video[i];
                    var s = audio[i];
                    if (v.Msn != s.Msn || v.Parts.Length != s.Parts.Length)
                    {
                        return false;
                    }

                    // Audio segment starts at the first audio frame at or after the video start.
                    var offset = (s.Info.StartTime * 90000 / 48000) - v.Info.StartTime;
                    if (offset < -1 || offset > 1920)
                    {
                        return false;
                    }
                }

                return view.Video.Segments.All(seg => seg.Parts.All(p => p.Duration <= 0.5)) &&
                       view.Audio.Segments.All(seg => seg.Parts.All(p => p.Duration <= 0.5));
            }
            finally
            {
                registry.Dispose(); // drains the recorder before the folder goes
                Directory.Delete(root, recursive: true);
            }
        }, iter: 40);
    }
}
