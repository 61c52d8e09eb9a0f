using System.Collections.Concurrent;
using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Tests.Rtmp;

internal sealed record Sample(TrackKind Track, long Dts, long Pts, bool IsKeyframe, int Length);

/// <summary>Records everything a publish delivers. Thread-safe enough for a test: one writer, readers after the end.</summary>
internal sealed class RecordingSink : IMediaSink
{
    private readonly object _gate = new();
    private int _ends;

    public RecordingSink(string name) => Name = name;

    public string Name { get; }

    public List<byte[]> VideoConfigs { get; } = [];

    public List<byte[]> AudioConfigs { get; } = [];

    public List<Sample> Samples { get; } = [];

    public int Ends => Volatile.Read(ref _ends);

    public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Action? OnEndCallback { get; set; }

    public Sample[] SnapshotSamples()
    {
        lock (_gate)
        {
            return [.. Samples];
        }
    }

    public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
    {
        lock (_gate)
        {
            VideoConfigs.Add(avcDecoderConfigurationRecord.ToArray());
        }
    }

    public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
    {
        lock (_gate)
        {
            AudioConfigs.Add(audioSpecificConfig.ToArray());
        }
    }

    public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            Samples.Add(new Sample(track, dts, pts, isKeyframe, data.Length));
        }
    }

    public void OnEnd()
    {
        Interlocked.Increment(ref _ends);
        OnEndCallback?.Invoke();
        Ended.TrySetResult();
    }
}

internal sealed class RecordingPublishTarget : ILivePublishTarget
{
    private readonly ConcurrentDictionary<string, RecordingSink> _live = new();

    public ConcurrentQueue<RecordingSink> Published { get; } = new();

    public IMediaSink? TryBeginPublish(string streamName)
    {
        var sink = new RecordingSink(streamName);
        if (!_live.TryAdd(streamName, sink))
        {
            return null;
        }

        sink.OnEndCallback = () => _live.TryRemove(new KeyValuePair<string, RecordingSink>(streamName, sink));
        Published.Enqueue(sink);
        return sink;
    }

    public async Task<RecordingSink> WaitForPublishAsync(int count = 1, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Published.Count < count)
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("No publish arrived.");
            }

            await Task.Delay(20);
        }

        return Published.ElementAt(count - 1);
    }
}
