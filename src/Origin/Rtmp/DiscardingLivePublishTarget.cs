using System.Collections.Concurrent;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Rtmp;

/// <summary>
/// The fallback <see cref="ILivePublishTarget"/> until the host registers the segmenter: enforces one publisher
/// per name and drops the media.
/// </summary>
internal sealed class DiscardingLivePublishTarget : ILivePublishTarget
{
    private readonly ConcurrentDictionary<string, Sink> _live = new(StringComparer.Ordinal);

    public IMediaSink? TryBeginPublish(string streamName)
    {
        var sink = new Sink(this, streamName);
        return _live.TryAdd(streamName, sink) ? sink : null;
    }

    private sealed class Sink(DiscardingLivePublishTarget owner, string name) : IMediaSink
    {
        public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
        {
        }

        public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
        {
        }

        public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
        {
        }

        public void OnEnd() => owner._live.TryRemove(new KeyValuePair<string, Sink>(name, this));
    }
}
