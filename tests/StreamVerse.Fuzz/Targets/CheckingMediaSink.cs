using StreamVerse.Segmenter.Media;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// An <see cref="IMediaSink"/> that checks what an ingest hands it: configurations non-empty and, parsed as the
/// segmenter parses them (only <see cref="InvalidDataException"/>), within the limits the segmenter relies on; samples
/// non-empty and only after their track's configuration; <see cref="OnEnd"/> counted.
/// </summary>
internal sealed class CheckingMediaSink : IMediaSink
{
    private bool _videoConfig;
    private bool _audioConfig;

    public long VideoSamples { get; private set; }

    public long AudioSamples { get; private set; }

    public int Ends { get; private set; }

    public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
    {
        Check.That(Ends == 0, "a video configuration after OnEnd");
        Check.That(!avcDecoderConfigurationRecord.IsEmpty, "an empty AVC configuration reached the sink");
        _videoConfig = true;
        try
        {
            var config = AvcConfig.Parse(avcDecoderConfigurationRecord);
            Check.That(config.Width is >= AvcConfig.MinSize and <= AvcConfig.MaxSize && config.Height is >= AvcConfig.MinSize and <= AvcConfig.MaxSize,
                $"an AVC configuration of {config.Width}x{config.Height}");
            Check.That(config.FrameRate is null || (double.IsFinite(config.FrameRate.Value) && config.FrameRate > 0), $"a frame rate of {config.FrameRate}");
            Check.That(config.Record.AsSpan().SequenceEqual(avcDecoderConfigurationRecord), "the AVC record was not kept as received");
            Check.That(config.Codec.Length == "avc1.PPCCLL".Length, $"codec string '{config.Codec}'");
        }
        catch (InvalidDataException)
        {
        }
    }

    public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
    {
        Check.That(Ends == 0, "an audio configuration after OnEnd");
        Check.That(!audioSpecificConfig.IsEmpty, "an empty AAC configuration reached the sink");
        _audioConfig = true;
        try
        {
            var config = AacConfig.Parse(audioSpecificConfig);
            Check.That(config.SampleRate > 0 && config.Channels is >= 1 and <= 8 && config.FrameLength is 960 or 1024,
                $"an AAC configuration of {config.SampleRate} Hz, {config.Channels} channels, {config.FrameLength} samples per frame");
        }
        catch (InvalidDataException)
        {
        }
    }

    public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        Check.That(Ends == 0, "a sample after OnEnd");
        Check.That(!data.IsEmpty, "an empty sample reached the sink");
        if (track == TrackKind.Video)
        {
            Check.That(_videoConfig, "a video sample before the video configuration");
            VideoSamples++;
        }
        else
        {
            Check.That(_audioConfig, "an audio sample before the audio configuration");
            Check.That(pts == dts && isKeyframe, "an audio sample with a composition offset or not a sync sample");
            AudioSamples++;
        }
    }

    public void OnEnd() => Ends++;
}
