using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Tests.Infrastructure;

internal static class TestStreams
{
    /// <param name="reconnectWindowSeconds">StreamVerse:Live:ReconnectWindowSeconds (0, the default here: sessions end with their publisher).</param>
    public static LiveStreamRegistry CreateRegistry(out string recordings, Action<SegmenterOptions>? configure = null, TimeProvider? time = null, int reconnectWindowSeconds = 0)
    {
        recordings = Directory.CreateTempSubdirectory("sv-seg-rec-").FullName;
        var options = new SegmenterOptions { RecordingsPath = recordings };
        configure?.Invoke(options);
        return new LiveStreamRegistry(Options.Create(options), time ?? TimeProvider.System, NullLoggerFactory.Instance,
            Options.Create(new LiveOptions { ReconnectWindowSeconds = reconnectWindowSeconds }));
    }

    /// <summary>Waits until the ended stream has written its final playlists and left the live set.</summary>
    public static async Task WaitRemovedAsync(LiveStreamRegistry registry, string name)
    {
        for (var i = 0; i < 200 && registry.FindLive(name) is not null; i++)
        {
            await Task.Delay(25);
        }

        Assert.Null(registry.FindLive(name));
    }

    public static byte[] Concat(StoredObject o) => o.Chunks.SelectMany(c => c.ToArray()).ToArray();

    public static string Text(StoredObject? o) => o is null ? "" : System.Text.Encoding.UTF8.GetString(Concat(o));

    private static (byte[] AvcC, byte[] Asc)? _configs;

    /// <summary>avcC and ASC of the 25 fps fixture (real SPS: 320x240).</summary>
    public static (byte[] AvcC, byte[] Asc) Configs()
    {
        if (_configs is { } c)
        {
            return c;
        }

        var samples = FlvReader.Read(Tools.Fixture("25", 1));
        var avcC = samples.First(s => s.IsConfig && s.Track == TrackKind.Video).Data;
        var asc = samples.First(s => s.IsConfig && s.Track == TrackKind.Audio).Data;
        _configs = (avcC, asc);
        return _configs.Value;
    }
}

/// <summary>
/// Synthetic 25 fps video (keyframe every second, constant 2-frame CTS) and 48 kHz AAC frames,
/// interleaved by DTS, fed up to a chosen time. Payloads are dummy bytes: for timing and playlist tests only.
/// </summary>
internal sealed class SyntheticFeeder
{
    private readonly IMediaSink _sink;
    private readonly ManualTimeProvider? _clock;
    private readonly DateTimeOffset _clockStart;
    private readonly bool _video;
    private readonly bool _audio;
    private long _videoIndex;
    private long _audioIndex;

    public SyntheticFeeder(IMediaSink sink, bool video = true, bool audio = true, ManualTimeProvider? clock = null)
    {
        _sink = sink;
        _clock = clock;
        _clockStart = clock?.GetUtcNow() ?? default;
        _video = video;
        _audio = audio;
        var (avcC, asc) = TestStreams.Configs();
        if (video)
        {
            sink.OnVideoConfig(avcC);
        }

        if (audio)
        {
            sink.OnAudioConfig(asc);
        }
    }

    public const long VideoStart = 900_000; // 10 s: the input clock need not start at zero

    /// <summary>Which video frames (by index) are keyframes; default one a second.</summary>
    public Func<long, bool> IsKeyframe { get; set; } = index => index % 25 == 0;

    /// <summary>Keyframes after the first are open-GOP I-frames (NAL type 1, flagged as keyframes as FLV does), not IDRs.</summary>
    public bool OpenGop { get; set; }

    /// <summary>Added to every timestamp sent from now on (a jump of the publisher's clock).</summary>
    public long InputOffset { get; set; }

    /// <summary>Added to the wall clock from now on (time that passed without media: a stall).</summary>
    public TimeSpan WallOffset { get; set; }

    /// <summary>Feeds every sample with DTS below <paramref name="seconds"/> (relative to the start).</summary>
    public void FeedUntil(double seconds)
    {
        var limit = VideoStart + (long)(seconds * 90000);
        while (true)
        {
            var videoDts = _video ? VideoStart + (_videoIndex * 3600) : long.MaxValue;
            var audioDts = _audio ? VideoStart + (_audioIndex * 1920) : long.MaxValue;
            var dts = Math.Min(videoDts, audioDts);
            if (dts >= limit)
            {
                return;
            }

            if (_clock is not null)
            {
                _clock.Advance(_clockStart + WallOffset + TimeSpan.FromSeconds((dts - VideoStart) / 90000.0) - _clock.GetUtcNow());
            }

            if (videoDts <= audioDts)
            {
                var data = new byte[200];
                data[3] = 196; // 4-byte NAL length prefix
                var key = IsKeyframe(_videoIndex);
                data[4] = (byte)(key && !(OpenGop && _videoIndex > 0) ? 0x65 : 0x41);
                _sink.OnSample(TrackKind.Video, videoDts + InputOffset, videoDts + InputOffset + 7200, key, data);
                _videoIndex++;
            }
            else
            {
                _sink.OnSample(TrackKind.Audio, audioDts + InputOffset, audioDts + InputOffset, true, new byte[50]);
                _audioIndex++;
            }
        }
    }
}
