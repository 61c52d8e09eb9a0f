using StreamVerse.Origin.Rtmp;
using StreamVerse.Segmenter.Live;
using StreamVerse.Segmenter.Media;

namespace StreamVerse.Origin.Hosting;

/// <summary>Connects an accepted RTMP publish to a new live presentation in the segmenter.</summary>
internal sealed class SegmenterPublishTarget(LiveStreamRegistry registry) : ILivePublishTarget
{
    public IMediaSink? TryBeginPublish(string streamName) => registry.TryStartPublishing(streamName);
}
