using StreamVerse.Segmenter.Media;

namespace StreamVerse.Segmenter.Live;

/// <summary>
/// One publisher's connection to a live session (see <see cref="LiveStreamRegistry.TryBeginPublish"/>). Calls go to the
/// session under its lock while this is its current publisher and are ignored once another has taken over. The end of
/// the publish holds the session for the reconnect window instead of ending it.
/// </summary>
public sealed class LivePublisher : IMediaSink, IPublishSession
{
    private readonly LiveStreamRegistry _registry;
    private readonly TimeSpan _window;
    private readonly CancellationTokenSource _superseded = new();
    private LiveStream _stream;
    private long _generation;
    private byte[]? _videoConfig;
    private byte[]? _audioConfig;
    private bool _unpublished;

    internal LivePublisher(LiveStream stream, long generation, TimeSpan window, LiveStreamRegistry registry)
    {
        _stream = stream;
        _generation = generation;
        _window = window;
        _registry = registry;
    }

    /// <summary>The session this publisher feeds.</summary>
    public LiveStream Stream => _stream;

    /// <summary>Cancelled when a new publisher with the same name took over: the connection should be closed.</summary>
    public CancellationToken Superseded => _superseded.Token;

    public void OnVideoConfig(ReadOnlySpan<byte> avcDecoderConfigurationRecord)
    {
        _videoConfig = avcDecoderConfigurationRecord.ToArray();
        ContinueOrRestart(TrackKind.Video, avcDecoderConfigurationRecord);
        lock (_stream.Gate)
        {
            if (_stream.IsCurrent(_generation))
            {
                _stream.OnVideoConfig(avcDecoderConfigurationRecord);
            }
        }
    }

    public void OnAudioConfig(ReadOnlySpan<byte> audioSpecificConfig)
    {
        _audioConfig = audioSpecificConfig.ToArray();
        ContinueOrRestart(TrackKind.Audio, audioSpecificConfig);
        lock (_stream.Gate)
        {
            if (_stream.IsCurrent(_generation))
            {
                _stream.OnAudioConfig(audioSpecificConfig);
            }
        }
    }

    public void OnSample(TrackKind track, long dts, long pts, bool isKeyframe, ReadOnlySpan<byte> data)
    {
        lock (_stream.Gate)
        {
            if (_stream.IsCurrent(_generation))
            {
                _stream.Touch();
                _stream.OnSample(track, dts, pts, isKeyframe, data);
            }
        }
    }

    public void MarkUnpublished() => _unpublished = true;

    public void OnEnd() => _stream.Leave(_generation, _unpublished ? TimeSpan.Zero : _window);

    internal void Supersede() => _ = _superseded.CancelAsync();

    /// <summary>
    /// A session held for a reconnect continues only with the same codec configuration (its init segments stay); a
    /// republish with another one ends the held session and starts a new one.
    /// </summary>
    private void ContinueOrRestart(TrackKind kind, ReadOnlySpan<byte> record)
    {
        if (!_stream.IsSuspended || _stream.CanContinueWith(kind, record))
        {
            return;
        }

        if (_registry.Restart(_stream, _window) is not { } next)
        {
            return;
        }

        (_stream, _generation) = (next._stream, next._generation);
        if (kind == TrackKind.Video && _audioConfig is not null)
        {
            OnAudioConfig(_audioConfig);
        }
        else if (kind == TrackKind.Audio && _videoConfig is not null)
        {
            OnVideoConfig(_videoConfig);
        }
    }
}
