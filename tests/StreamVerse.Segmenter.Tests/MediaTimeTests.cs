using System.Globalization;
using System.Text.RegularExpressions;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary><see cref="LiveStream.MediaSeconds"/>, what live chat stamps its messages with: the media the playlists publish.</summary>
public sealed partial class MediaTimeTests
{
    [Fact]
    public async Task Media_seconds_are_the_published_segments_and_parts_of_the_live_playlist()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var stream = registry.TryStartPublishing("clock")!;
            Assert.Equal(0, stream.MediaSeconds);
            new SyntheticFeeder(stream, audio: true).FeedUntil(4.5);

            // The oracle: every EXTINF of the playlist (4.5 s fit its window whole) plus the parts after the last one.
            var playlist = TestStreams.Text((await stream.GetMediaPlaylistAsync("video.m3u8", null, null, false, CancellationToken.None)).Body);
            var segments = Extinf().Matches(playlist).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            var tail = playlist[(playlist.LastIndexOf("#EXTINF", StringComparison.Ordinal) is var i and >= 0 ? i : 0)..];
            var parts = PartDuration().Matches(tail[(tail.IndexOf('\n') + 1)..]).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.True(segments > 0);
            Assert.Equal(segments + parts, stream.MediaSeconds, 3);
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [GeneratedRegex(@"#EXTINF:([0-9.]+),")]
    private static partial Regex Extinf();

    [GeneratedRegex(@"#EXT-X-PART:DURATION=([0-9.]+)")]
    private static partial Regex PartDuration();
}
