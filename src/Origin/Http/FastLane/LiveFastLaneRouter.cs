using System.Buffers.Text;
using System.Net;
using System.Text;
using StreamVerse.Segmenter.Live;

namespace StreamVerse.Origin.Http.FastLane;

/// <summary>
/// The fast lane's share of <c>/live</c>: what a player polls. Public (untokenised) master and media playlists,
/// LL-HLS blocking reloads and delta updates, and the live session's init segments, parts and segments while they are
/// in memory, the MPD (with the UTCTiming of the host it was asked by, none for an edge), with the caching rules of
/// <see cref="LiveDelivery.Handler"/>, and the 404 of a stream that neither is live nor has a recording (a player that
/// polls before the publisher starts keeps its connection in the lane), and the media files of recordings on disk
/// (<see cref="RecordingFiles"/>: an ended stream's, or a live stream's that left memory). Everything else (tokenised
/// paths, recording playlists, 4xx answers about a stream that exists) is left to the routed handler.
/// </summary>
internal sealed class LiveFastLaneRouter : IFastLaneRouter
{
    private static readonly FastLaneProblem PartTimeout = new(
        StatusCodes.Status503ServiceUnavailable, "Service Unavailable", "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        "the requested part did not become available in time", Line(LiveDelivery.NoCache));

    private static readonly FastLaneProblem NoSuchStream = new(
        StatusCodes.Status404NotFound, "Not Found", "https://tools.ietf.org/html/rfc9110#section-15.5.5", "no such stream or object", []);

    private readonly LiveStreamRegistry _registry;
    private readonly MpdUtcTiming _utcTiming;
    private readonly IPlaybackAuthorizer _authorizer;
    private readonly byte[] _livePlaylist;
    private readonly byte[] _recordingPlaylist;
    private readonly byte[] _noCache = Line(LiveDelivery.NoCache);
    // The lane answers no tokenised path: its media objects get the untokenised lifetime, as from the routed handler.
    private readonly byte[] _publicMedia;
    private readonly bool _compress;
    private readonly AsciiStringPool _names = new(1024);
    private readonly AsciiStringPool _files = new(16 * 1024);
    private readonly AsciiStringPool _sessions = new(1024);
    private readonly RecordingFiles? _recordings;
    private readonly LiveDelivery.Handler _handler;

    /// <param name="recordings">The open-file cache for recordings' media files; null leaves them to the routed handler.</param>
    public LiveFastLaneRouter(LiveStreamRegistry registry, IPlaybackAuthorizer authorizer, LiveDelivery.Handler handler, bool compressPlaylists, RecordingFiles? recordings = null)
    {
        _recordings = recordings;
        _handler = handler;
        _registry = registry;
        _authorizer = authorizer;
        _utcTiming = handler.UtcTiming;
        _livePlaylist = Line(handler.LivePlaylistCacheControl);
        _recordingPlaylist = Line(handler.RecordingPlaylistCacheControl);
        _publicMedia = Line(handler.PublicMediaCacheControl);
        _compress = compressPlaylists;
    }

    private static byte[] Line(string cacheControl) => Encoding.ASCII.GetBytes("Cache-Control: " + cacheControl + "\r\n");

    public bool TryRoute(scoped in FastLaneRequest request, CancellationToken cancellationToken, out ValueTask<FastLaneAnswer> answer)
    {
        answer = default;
        var path = request.Path;
        if (!Takes(path, out var parsed))
        {
            return false;
        }

        // NAME/FILE or NAME/SESSION/FILE, each segment in the routed handler's alphabet (PlaybackPath checked it).
        var nameBytes = path[parsed.Name];
        var rest = path[parsed.Rest];
        var slash = rest.IndexOf((byte)'/');
        ReadOnlySpan<byte> session = default;
        if (slash >= 0)
        {
            session = rest[..slash];
            rest = rest[(slash + 1)..];
        }

        var name = _names.Get(nameBytes);
        if (!_authorizer.Allows(name, default, request.Client))
        {
            return false;
        }

        var live = _registry.FindLive(name);
        if (_handler.AsksTheCluster && live is not { IsEnded: false })
        {
            // It may be live on another origin of the cluster: the routed handler asks the stream directory.
            return false;
        }

        if (live is null)
        {
            // Not live: a recording's media file comes from disk, the rest of a recording is the routed handler's; a name
            // with neither is a 404 answered here.
            if (session.IsEmpty ? Audience.Cmcd.OnlyCmcd(request.Query) && RecordingPlaylist(name, rest, out answer) : Recording(name, session, rest, out answer))
            {
                return true;
            }

            if (Directory.Exists(Path.Combine(_registry.RecordingsPath, name)))
            {
                return false;
            }

            answer = new ValueTask<FastLaneAnswer>(new FastLaneAnswer(null, [], DeliveryMetrics.Kind.Playlist, Compress: false, NoSuchStream));
            return true;
        }

        if (!session.IsEmpty)
        {
            return SessionFile(live, name, session, rest, cancellationToken, out answer);
        }

        if (rest.SequenceEqual("index.m3u8"u8))
        {
            var master = live.GetMasterPlaylistAsync(cancellationToken);
            if (!master.IsCompletedSuccessfully)
            {
                answer = AwaitPlaylistAsync(live, master);
                return true;
            }

            var ready = Playlist(live, master.Result, DeliveryMetrics.Kind.Playlist);
            answer = new ValueTask<FastLaneAnswer>(ready);
            return !ready.IsHandOver;
        }

        if (rest.SequenceEqual("index.mpd"u8))
        {
            return Mpd(live, request, cancellationToken, out answer);
        }

        if (!rest.EndsWith(".m3u8"u8) || !TryParseReload(request.Query, out var msn, out var part, out var skip))
        {
            return false;
        }

        var file = _files.Get(rest);
        var playlist = live.GetMediaPlaylistAsync(file, msn, part, skip, cancellationToken);
        if (!playlist.IsCompletedSuccessfully)
        {
            answer = AwaitMediaPlaylistAsync(live, playlist, msn is not null);
            return true;
        }

        // NotFound, BadRequest: the routed handler answers them (a recording, a 404, a 400).
        var now = MediaPlaylist(live, playlist.Result, msn is not null);
        answer = new ValueTask<FastLaneAnswer>(now);
        return !now.IsHandOver;
    }

    private bool Mpd(LiveStream live, scoped in FastLaneRequest request, CancellationToken cancellationToken, out ValueTask<FastLaneAnswer> answer)
    {
        answer = default;
        var mpd = live.GetMpdAsync(cancellationToken);
        if (!mpd.IsCompletedSuccessfully)
        {
            // Before the first segment: the routed handler waits for it (rare, and it needs the request's host after the wait).
            return false;
        }

        var body = mpd.Result;
        if (body is null)
        {
            return false;
        }

        if (!request.FromEdge)
        {
            // A StreamVerse edge composes UTCTiming itself, with the host its viewers reach it by.
            Span<char> host = stackalloc char[Http1RequestHead.MaxValueBytes];
            var length = Encoding.ASCII.GetChars(request.Host, host);
            body = _utcTiming.WithUtcTiming(body, host[..length], https: false);
        }

        var ready = Playlist(live, body, DeliveryMetrics.Kind.Mpd);
        answer = new ValueTask<FastLaneAnswer>(ready);
        return true;
    }

    private bool SessionFile(LiveStream live, string name, ReadOnlySpan<byte> session, ReadOnlySpan<byte> fileBytes, CancellationToken cancellationToken, out ValueTask<FastLaneAnswer> answer)
    {
        answer = default;
        if (!Ascii.Equals(session, live.SessionId))
        {
            // An earlier session of a stream that is live again: its recording.
            return Recording(name, session, fileBytes, out answer);
        }

        var kind = fileBytes.EndsWith("_init.mp4"u8) ? DeliveryMetrics.Kind.Init
            : fileBytes.Count((byte)'.') > 1 ? DeliveryMetrics.Kind.Part
            : DeliveryMetrics.Kind.Segment;
        var found = live.GetSessionFileAsync(_files.Get(fileBytes), cancellationToken);
        if (found.IsCompletedSuccessfully)
        {
            // Not in memory (any more): the recording on disk.
            var obj = found.Result;
            if (obj is null)
            {
                return Recording(name, session, fileBytes, out answer);
            }

            answer = new ValueTask<FastLaneAnswer>(new FastLaneAnswer(obj, _publicMedia, kind, Compress: false));
            return true;
        }

        answer = AwaitSessionFileAsync(found, kind);
        return true;
    }

    private async ValueTask<FastLaneAnswer> AwaitSessionFileAsync(ValueTask<StoredObject?> found, DeliveryMetrics.Kind kind) =>
        await found.ConfigureAwait(false) is { } obj ? new FastLaneAnswer(obj, _publicMedia, kind, Compress: false) : FastLaneAnswer.HandOver;

    private async ValueTask<FastLaneAnswer> AwaitPlaylistAsync(LiveStream live, ValueTask<StoredObject?> pending) =>
        Playlist(live, await pending.ConfigureAwait(false), DeliveryMetrics.Kind.Playlist);

    private async ValueTask<FastLaneAnswer> AwaitMediaPlaylistAsync(LiveStream live, ValueTask<PlaylistResult> pending, bool blocking)
    {
        var result = await pending.ConfigureAwait(false);
        if (blocking && result.Status == PlaylistStatus.Unavailable)
        {
            // The end of a wait cannot be handed back (the routed handler would wait again): answered here, as it would.
            DeliveryMetrics.Blocking(result.Status);
            return new FastLaneAnswer(null, _noCache, DeliveryMetrics.Kind.Playlist, Compress: false, PartTimeout);
        }

        return MediaPlaylist(live, result, blocking);
    }

    private FastLaneAnswer Playlist(LiveStream live, StoredObject? body, DeliveryMetrics.Kind kind) =>
        body is null ? FastLaneAnswer.HandOver : new FastLaneAnswer(body, live.IsEnded ? _recordingPlaylist : _livePlaylist, kind, _compress);

    private FastLaneAnswer MediaPlaylist(LiveStream live, PlaylistResult result, bool blocking)
    {
        if (result.Status != PlaylistStatus.Ok || result.Body is null)
        {
            return FastLaneAnswer.HandOver;
        }

        if (blocking)
        {
            DeliveryMetrics.Blocking(result.Status);
            // Blocking responses name a future state of the playlist: never let a cache keep them.
            return new FastLaneAnswer(result.Body, _noCache, DeliveryMetrics.Kind.Playlist, _compress);
        }

        return Playlist(live, result.Body, DeliveryMetrics.Kind.Playlist);
    }

    /// <summary>
    /// <c>_HLS_msn</c>, <c>_HLS_part</c>, <c>_HLS_skip</c> (RFC 8216bis §6.2.5); other parameters are ignored, as by the
    /// routed handler. False for anything that handler would refuse or read differently (a bad number, a repeated
    /// parameter, '+' which form decoding turns into a space), so it answers those itself.
    /// </summary>
    internal static bool TryParseReload(ReadOnlySpan<byte> query, out long? msn, out int? part, out bool skip)
    {
        msn = null;
        part = null;
        skip = false;
        if (query.Contains((byte)'+'))
        {
            return false;
        }

        bool seenMsn = false, seenPart = false, seenSkip = false;
        foreach (var range in query.Split((byte)'&'))
        {
            var pair = query[range];
            var eq = pair.IndexOf((byte)'=');
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? default : pair[(eq + 1)..];
            if (key.SequenceEqual("_HLS_msn"u8))
            {
                if (seenMsn || !TryParseNumber(value, out long m))
                {
                    return false;
                }

                (seenMsn, msn) = (true, m);
            }
            else if (key.SequenceEqual("_HLS_part"u8))
            {
                if (seenPart || !TryParseNumber(value, out long p) || p > int.MaxValue)
                {
                    return false;
                }

                (seenPart, part) = (true, (int)p);
            }
            else if (key.SequenceEqual(HlsSkipDirective.NameUtf8))
            {
                if (seenSkip)
                {
                    return false;
                }

                (seenSkip, skip) = (true, HlsSkipDirective.IsRequested(value));
            }
        }

        // RFC 8216bis §6.2.5.2: _HLS_part without _HLS_msn is an error (the routed handler's 400).
        return !(seenPart && !seenMsn);
    }

    private static bool TryParseNumber(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        return !digits.IsEmpty && digits.Length <= 18 && !digits.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            && Utf8Parser.TryParse(digits, out value, out var used) && used == digits.Length;
    }

    /// <summary>
    /// A media file (<c>.m4s</c>, <c>.mp4</c>) of a recording, <c>RECORDINGS/NAME/SESSION/FILE</c>, as the routed handler
    /// serves it (untokenised media lifetime, its content type by name); false (hand over) for anything else, or a file that is not there.
    /// </summary>
    private bool Recording(string name, ReadOnlySpan<byte> session, ReadOnlySpan<byte> fileBytes, out ValueTask<FastLaneAnswer> answer)
    {
        answer = default;
        if (_recordings is null || !(fileBytes.EndsWith(".m4s"u8) || fileBytes.EndsWith(".mp4"u8)))
        {
            return false;
        }

        var file = _recordings.Get(name, _sessions.Get(session), _files.Get(fileBytes), _registry.RecordingsPath);
        if (file is null)
        {
            return false;
        }

        answer = new ValueTask<FastLaneAnswer>(new FastLaneAnswer(null, _publicMedia, DeliveryMetrics.Kind.Recording, Compress: false, File: file));
        return true;
    }

    /// <summary>
    /// A recording's playlist or MPD (<c>RECORDINGS/NAME/FILE</c>) from the routed handler's cache of them, while the file
    /// on disk still has the size and modification time it was read with (checked by a stat at most once a second);
    /// false (hand over: the handler reads it) when it was not read yet or changed.
    /// </summary>
    private bool RecordingPlaylist(string name, ReadOnlySpan<byte> fileBytes, out ValueTask<FastLaneAnswer> answer)
    {
        answer = default;
        if (_recordings is null || !(fileBytes.EndsWith(".m3u8"u8) || fileBytes.EndsWith(".mpd"u8)))
        {
            return false;
        }

        var stat = _recordings.Playlist(name, _files.Get(fileBytes), _registry.RecordingsPath);
        var body = stat is null ? null : _handler.CachedRecordingPlaylist(stat.Path, stat.Length, stat.Ticks);
        if (body is null)
        {
            return false;
        }

        answer = new ValueTask<FastLaneAnswer>(new FastLaneAnswer(body, _recordingPlaylist, DeliveryMetrics.Kind.Recording, _compress));
        return true;
    }

    /// <summary>
    /// What the lane may answer: a canonical <c>/live</c> path without a token (<see cref="PlaybackPath"/>, the parser the
    /// routed handler reads the path with). Any other spelling and every tokenised path go to the routed pipeline, which
    /// refuses the one and checks the other's token.
    /// </summary>
    internal static bool Takes(ReadOnlySpan<byte> path, out PlaybackPath parsed)
    {
        parsed = PlaybackPath.Parse(path);
        return parsed.Kind == PlaybackKind.Live && !parsed.IsTokenised;
    }
}
