using System.Diagnostics;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Tests.Infrastructure;

namespace StreamVerse.Segmenter.Tests;

/// <summary>LL-HLS blocking playlist reload (RFC 8216bis §6.2.5.2) and preload-hint waits, on the real clock with short targets.</summary>
public sealed class BlockingReloadTests : IAsyncLifetime
{
    private LiveStreamRegistry _registry = null!;
    private string _recordings = "";
    private LiveStream _stream = null!;
    private SyntheticFeeder _feeder = null!;

    public Task InitializeAsync()
    {
        // Wait limit = 3 x 0.5 s. Keyframes every second make 1 s segments.
        _registry = TestStreams.CreateRegistry(out _recordings, o =>
        {
            o.TargetDuration = TimeSpan.FromSeconds(0.5);
            o.PartTarget = TimeSpan.FromSeconds(0.2);
        });
        _stream = _registry.TryStartPublishing("blocking")!;
        _feeder = new SyntheticFeeder(_stream);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_recordings, recursive: true);
    }

    private static readonly TimeSpan Plenty = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Waits_for_the_next_part_and_wakes_when_it_is_published()
    {
        _feeder.FeedUntil(2.05);
        var view = _stream.View.Video!;
        var (msn, next) = (view.NextMsn, view.PendingParts.Length);
        var reload = _stream.GetMediaPlaylistAsync("video.m3u8", msn, next, false, CancellationToken.None).AsTask();
        var file = _stream.GetSessionFileAsync($"video_{msn}.{next}.m4s", CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(reload.IsCompleted);
        Assert.False(file.IsCompleted);

        _feeder.FeedUntil(2.5);
        var result = await reload.WaitAsync(Plenty);
        Assert.Equal(PlaylistStatus.Ok, result.Status);
        Assert.Contains($"video_{msn}.{next}.m4s\"", TestStreams.Text(result.Body));
        var part = await file.WaitAsync(Plenty);
        Assert.NotNull(part);
        Assert.Same(_stream.View.Video!.FindPart(msn, next)!.Body, part);
    }

    [Fact]
    public async Task Waits_for_a_whole_segment_without_part()
    {
        _feeder.FeedUntil(2.05);
        var msn = _stream.View.Video!.NextMsn;
        var reload = _stream.GetMediaPlaylistAsync("audio.m3u8", msn, null, false, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(reload.IsCompleted);
        _feeder.FeedUntil(3.2);
        var result = await reload.WaitAsync(Plenty);
        Assert.Equal(PlaylistStatus.Ok, result.Status);
        Assert.Contains($"audio_{msn}.m4s\n", TestStreams.Text(result.Body));
    }

    [Fact]
    public async Task Too_far_ahead_is_bad_request()
    {
        _feeder.FeedUntil(2.05);
        var view = _stream.View.Video!;
        Assert.Equal(PlaylistStatus.BadRequest, (await Get(view.NextMsn + 2, null)).Status);
        Assert.Equal(PlaylistStatus.BadRequest, (await Get(view.NextMsn, view.PendingParts.Length + 3)).Status);
        Assert.Equal(PlaylistStatus.BadRequest, (await Get(view.NextMsn + 1, 3)).Status);
        Assert.Equal(PlaylistStatus.Ok, (await Get(view.NextMsn - 1, 0)).Status); // already there: no wait

        ValueTask<PlaylistResult> Get(long msn, int? part) => _stream.GetMediaPlaylistAsync("video.m3u8", msn, part, false, CancellationToken.None);
    }

    [Fact]
    public async Task Gives_up_after_three_target_durations()
    {
        _feeder.FeedUntil(2.05);
        var watch = Stopwatch.StartNew();
        var result = await _stream.GetMediaPlaylistAsync("video.m3u8", _stream.View.Video!.NextMsn + 1, null, false, CancellationToken.None).AsTask().WaitAsync(Plenty);
        Assert.Equal(PlaylistStatus.Unavailable, result.Status);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.4, 5);
    }

    [Fact]
    public async Task Cancellation_ends_the_wait()
    {
        _feeder.FeedUntil(2.05);
        using var cts = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _stream.GetMediaPlaylistAsync("video.m3u8", _stream.View.Video!.NextMsn + 1, null, false, cts.Token).AsTask());
    }

    [Fact]
    public async Task Master_waits_for_the_first_segment()
    {
        var master = _stream.GetMasterPlaylistAsync(CancellationToken.None).AsTask();
        var mpd = _stream.GetMpdAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(master.IsCompleted);
        _feeder.FeedUntil(1.1);
        Assert.Contains("#EXT-X-STREAM-INF:", TestStreams.Text(await master.WaitAsync(Plenty)));
        Assert.Contains("type=\"dynamic\"", TestStreams.Text(await mpd.WaitAsync(Plenty)));
    }

    [Fact]
    public async Task Ended_stream_answers_at_once_and_leaves_a_vod_recording()
    {
        _feeder.FeedUntil(3.5);
        var pending = _stream.GetMediaPlaylistAsync("video.m3u8", _stream.View.Video!.NextMsn + 1, null, false, CancellationToken.None).AsTask();
        _stream.OnEnd();
        Assert.True(_stream.IsEnded);
        var result = await pending.WaitAsync(Plenty);
        Assert.Equal(PlaylistStatus.Ok, result.Status);
        var text = TestStreams.Text(result.Body);
        Assert.EndsWith("#EXT-X-ENDLIST\n", text);
        Assert.DoesNotContain("PRELOAD-HINT", text);

        var later = await _stream.GetMediaPlaylistAsync("audio.m3u8", 100, 0, false, CancellationToken.None);
        Assert.Equal(PlaylistStatus.Ok, later.Status);
        Assert.Contains("type=\"static\"", TestStreams.Text(await _stream.GetMpdAsync(CancellationToken.None)));

        await TestStreams.WaitRemovedAsync(_registry, "blocking");
        var folder = Path.Combine(_recordings, "blocking");
        var video = File.ReadAllText(Path.Combine(folder, "video.m3u8"));
        Assert.EndsWith("#EXT-X-ENDLIST\n", video);
        Assert.Contains("#EXT-X-PLAYLIST-TYPE:VOD", video);
        var segments = video.Split('\n').Where(l => l.EndsWith(".m4s")).ToList();
        Assert.Equal(4, segments.Count); // 0..2 complete, 3 closed by the end
        Assert.All(segments, s => Assert.True(File.Exists(Path.Combine(folder, s)), s));
        Assert.StartsWith(_stream.SessionId + "/", segments[0]);
        Assert.Contains("type=\"static\"", File.ReadAllText(Path.Combine(folder, "index.mpd")));
        Assert.Contains("audio.m3u8", File.ReadAllText(Path.Combine(folder, "index.m3u8")));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));

        // The name is free again: a new session with a new id.
        var next = _registry.TryStartPublishing("blocking");
        Assert.NotNull(next);
        Assert.NotEqual(_stream.SessionId, next.SessionId);
        next.OnEnd();
    }
}
