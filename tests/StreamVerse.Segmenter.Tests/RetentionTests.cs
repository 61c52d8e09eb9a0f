using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Recording;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

public sealed class RetentionTests
{
    [Fact]
    public async Task Deletes_expired_sessions_and_the_playlists_that_point_to_them()
    {
        var now = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var clock = new ManualTimeProvider(now);
        await using var registry = TestStreams.CreateRegistry(out var root, o => o.RecordingRetention = TimeSpan.FromDays(7), clock);
        try
        {
            var old = Session(root, "cam", "aaaaaaaaaaaaa", now.AddDays(-8));
            var recent = Session(root, "cam", "bbbbbbbbbbbbb", now.AddDays(-1));
            var otherOld = Session(root, "other", "ccccccccccccc", now.AddDays(-30));
            File.WriteAllText(Path.Combine(root, "other", "video.m3u8"), "#EXTM3U\nccccccccccccc/video_0.m4s\n");
            File.WriteAllText(Path.Combine(root, "other", "index.m3u8"), "#EXTM3U\nvideo.m3u8\n");
            File.WriteAllText(Path.Combine(root, "cam", "video.m3u8"), "#EXTM3U\nbbbbbbbbbbbbb/video_0.m4s\n");
            var unrelated = Directory.CreateDirectory(Path.Combine(root, "cam", "not-a-session")).FullName;
            Directory.SetLastWriteTimeUtc(unrelated, now.AddDays(-100).UtcDateTime);

            var cleaner = new RecordingRetentionCleaner(Options.Create(new SegmenterOptions { RecordingsPath = root, RecordingRetention = TimeSpan.FromDays(7) }), registry, clock, NullLogger<RecordingRetentionCleaner>.Instance);
            Assert.Equal(2, cleaner.RunOnce());
            Assert.False(Directory.Exists(old));
            Assert.True(Directory.Exists(recent));
            Assert.False(Directory.Exists(otherOld));
            Assert.False(Directory.Exists(Path.Combine(root, "other"))); // playlists pointed into it; folder now empty
            Assert.True(File.Exists(Path.Combine(root, "cam", "video.m3u8"))); // points to the recent session
            Assert.True(Directory.Exists(unrelated));
            Assert.Equal(0, cleaner.RunOnce());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        static string Session(string root, string name, string sid, DateTimeOffset lastWrite)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, name, sid)).FullName;
            File.WriteAllBytes(Path.Combine(dir, "video_0.m4s"), [1, 2, 3]);
            Directory.SetLastWriteTimeUtc(dir, lastWrite.UtcDateTime);
            return dir;
        }
    }

    [Fact]
    public async Task AddSegmenter_binds_and_validates_options()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StreamVerse:Segmenter:RecordingsPath"] = Path.GetTempPath(),
            ["StreamVerse:Segmenter:TargetDuration"] = "00:00:04",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSegmenter(config);
        await using var provider = services.BuildServiceProvider();
        Assert.Equal(TimeSpan.FromSeconds(4), provider.GetRequiredService<IOptions<SegmenterOptions>>().Value.TargetDuration);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
        Assert.NotNull(provider.GetRequiredService<LiveStreamRegistry>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<RecordingRetentionCleaner>());

        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StreamVerse:Segmenter:PartTarget"] = "00:00:03",
        }).Build();
        await using var badProvider = new ServiceCollection().AddLogging().AddSegmenter(bad).BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<SegmenterOptions>>().Value);
        Assert.Contains("RecordingsPath", error.Message);
    }
}
