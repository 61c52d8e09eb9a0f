using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

public sealed class VideoOnlyTests
{
    [Fact]
    public async Task Video_only_stream_has_no_audio_rendition()
    {
        await using var registry = TestStreams.CreateRegistry(out var root);
        try
        {
            var stream = registry.TryStartPublishing("silent")!;
            new SyntheticFeeder(stream, audio: false).FeedUntil(4.5);
            var master = TestStreams.Text(await stream.GetMasterPlaylistAsync(CancellationToken.None));
            Assert.DoesNotContain("EXT-X-MEDIA:", master);
            Assert.DoesNotContain("AUDIO=", master);
            Assert.Matches("CODECS=\"avc1\\.[0-9A-F]{6}\",RESOLUTION=320x240", master);

            var video = await stream.GetMediaPlaylistAsync("video.m3u8", null, null, false, CancellationToken.None);
            Assert.DoesNotContain("RENDITION-REPORT", TestStreams.Text(video.Body));
            Assert.Equal(PlaylistStatus.NotFound, (await stream.GetMediaPlaylistAsync("audio.m3u8", null, null, false, CancellationToken.None)).Status);
            Assert.Null(await stream.GetSessionFileAsync("audio_init.mp4", CancellationToken.None));
            Assert.Equal(2, stream.SegmentsProduced);

            // Video-only parts use the whole part target (no audio frame of headroom needed): 12 frames.
            Assert.Equal(0.48, stream.View.Video!.FindSegment(0)!.Parts[0].Duration, 5);
            stream.OnEnd();
            await TestStreams.WaitRemovedAsync(registry, "silent");
            Assert.True(File.Exists(Path.Combine(root, "silent", "video.m3u8")));
            Assert.False(File.Exists(Path.Combine(root, "silent", "audio.m3u8")));
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }
}
