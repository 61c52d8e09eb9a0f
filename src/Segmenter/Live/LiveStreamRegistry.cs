using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StreamVerse.Segmenter.Recording;

namespace StreamVerse.Segmenter.Live;

/// <summary>
/// The live streams of this process, by name. A stream stays here after it ends until its final
/// recording playlists are on disk, so the origin always has one place to answer from.
/// </summary>
public sealed class LiveStreamRegistry : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<string, LiveStream> _streams = new(StringComparer.Ordinal);
    private readonly SegmenterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly RecordingWriter _recorder;
    private readonly TimeSpan _reconnectWindow;

    /// <summary>A publisher that delivered nothing for this long is taken over by a new publish with the same key.</summary>
    internal static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(1);

    /// <param name="live">The reconnect window (<see cref="LiveOptions"/>); none (0) when not given.</param>
    public LiveStreamRegistry(IOptions<SegmenterOptions> options, TimeProvider timeProvider, ILoggerFactory loggerFactory, IOptions<LiveOptions>? live = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        _time = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LiveStream>();
        _recorder = new RecordingWriter(loggerFactory.CreateLogger<RecordingWriter>());
        _reconnectWindow = live?.Value.ReconnectWindow ?? TimeSpan.Zero;
    }

    /// <summary>How long a session whose publisher dropped stays live for a reconnect.</summary>
    public TimeSpan ReconnectWindow => _reconnectWindow;

    /// <summary>
    /// A publisher for <paramref name="name"/>: a new session, or, with a reconnect window, the session of that name
    /// that waits for its publisher (dropped within the window) or whose publisher stalled (nothing for
    /// <see cref="StallTimeout"/>; the old one is superseded). Null while another publisher feeds it, or while an
    /// ended session of that name is still writing its recording.
    /// </summary>
    /// <param name="continued">The publish continues an existing session (after a discontinuity).</param>
    /// <exception cref="ArgumentException">The name is invalid (see <see cref="TryStartPublishing"/>).</exception>
    public LivePublisher? TryBeginPublish(string name, out bool continued)
    {
        continued = false;
        if (!IsValidName(name))
        {
            throw new ArgumentException("Stream names are 1-128 characters of A-Z, a-z, 0-9, '.', '_', '-'.", nameof(name));
        }

        if (_streams.TryGetValue(name, out var existing))
        {
            if (!CanContinue(existing) || existing.Attach(_reconnectWindow) is not { } publisher)
            {
                return null;
            }

            continued = true;
            return publisher;
        }

        var stream = new LiveStream(name, SessionId.New(), this, _options, _time, _recorder, _logger);
        return _streams.TryAdd(name, stream) ? stream.Attach(_reconnectWindow) : null;
    }

    /// <summary>Whether a publish of <paramref name="name"/> now would continue its current session (see <see cref="TryBeginPublish"/>).</summary>
    public bool WouldContinue(string name) => _streams.TryGetValue(name, out var existing) && CanContinue(existing);

    private bool CanContinue(LiveStream existing) =>
        _reconnectWindow > TimeSpan.Zero && existing.Ladder is null && !existing.IsEnded && existing.IsStalled(StallTimeout);

    /// <summary>Ends <paramref name="held"/> now and starts a new session of its name for its returning publisher.</summary>
    internal LivePublisher? Restart(LiveStream held, TimeSpan window)
    {
        held.EndNow();
        Remove(held);
        var stream = new LiveStream(held.Name, SessionId.New(), this, _options, _time, _recorder, _logger);
        return _streams.TryAdd(held.Name, stream) ? stream.Attach(window) : null;
    }

    /// <summary>Root folder of recordings (<c>{RecordingsPath}/{name}/{sessionId}/...</c>).</summary>
    public string RecordingsPath => _options.RecordingsPath;

    public IReadOnlyCollection<LiveStream> Active => (IReadOnlyCollection<LiveStream>)_streams.Values;

    /// <summary>Starts a new session for <paramref name="name"/>; null if that name is already live.</summary>
    /// <exception cref="ArgumentException">The name is not 1-128 characters of [A-Za-z0-9._-], or is "." / "..".</exception>
    public LiveStream? TryStartPublishing(string name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("Stream names are 1-128 characters of A-Z, a-z, 0-9, '.', '_', '-'.", nameof(name));
        }

        var stream = new LiveStream(name, SessionId.New(), this, _options, _time, _recorder, _logger);
        return _streams.TryAdd(name, stream) ? stream : null;
    }

    /// <summary>
    /// Starts a live ladder for <paramref name="name"/>: the returned ladder's <see cref="LiveLadder.Source"/> is the
    /// sink for the publisher (audio and source video); rungs are added with <see cref="LiveLadder.AddRung"/>.
    /// Null if that name is already live.
    /// </summary>
    /// <param name="advertiseSource">List the source as the top variant (else it is packaged but not listed).</param>
    /// <exception cref="ArgumentException">The name is invalid (see <see cref="TryStartPublishing"/>).</exception>
    internal LiveLadder? TryStartLadder(string name, bool advertiseSource)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("Stream names are 1-128 characters of A-Z, a-z, 0-9, '.', '_', '-'.", nameof(name));
        }

        var ladder = new LiveLadder(_options, _time, advertiseSource);
        var stream = new LiveStream(name, SessionId.New(), this, _options, _time, _recorder, _logger, ladder);
        ladder.SetSource(stream);
        return _streams.TryAdd(name, stream) ? ladder : null;
    }

    /// <summary>A rung of <paramref name="ladder"/>: not registered by name, reached through the source.</summary>
    internal LiveStream CreateRung(LiveStream source, LiveLadder ladder, string prefix) =>
        new(source.Name, source.SessionId, this, _options, _time, _recorder, _logger, ladder, prefix, isRung: true);

    public LiveStream? FindLive(string name) => _streams.GetValueOrDefault(name);

    internal void Remove(LiveStream stream) => _streams.TryRemove(new KeyValuePair<string, LiveStream>(stream.Name, stream));

    /// <summary>Completes when every recording write queued so far is on disk.</summary>
    internal Task FlushRecordingsAsync(CancellationToken cancellationToken) => _recorder.FlushAsync(cancellationToken);

    /// <summary>Stops taking recording writes and waits for the queued ones.</summary>
    public ValueTask DisposeAsync() => _recorder.DisposeAsync();

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => _recorder.DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || name is "." or "..")
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
