using System.Text;
using Microsoft.AspNetCore.Http.Features;
using StreamVerse.ControlPlane.Playback;

namespace StreamVerse.Origin.Http;

/// <summary>What a request path is to delivery.</summary>
internal enum PlaybackKind : byte
{
    /// <summary>Not under <c>/live</c> or <c>/vod</c> in any spelling: not delivery's business.</summary>
    None,

    /// <summary>Under <c>/live</c> or <c>/vod</c> in some spelling, but not the canonical form: answered 404, nothing else.</summary>
    Refused,

    Live,

    Vod,
}

/// <summary>
/// The one reader of playback paths: the origin's routed handlers and fast lane, the edge's handler, token check,
/// cache key and fast lane, and the token-lifetime and tier rules all classify a path through <see cref="Parse(ReadOnlySpan{char})"/>,
/// and the origin and the edge refuse every other spelling of a playback path before routing
/// (<see cref="PlaybackPathExtensions.UsePlaybackPaths"/>).
/// <para>
/// The canonical form, and the only one accepted:
/// <code>
/// path  = "/" ("live" / "vod") "/" ["t/" token "/"] name "/" [dir "/"] file
/// token = 1*128 (ALPHA / DIGIT / "-" / "_")                  ; base64url, as PlaybackTokens issues them
/// name  = 1*64  (ALPHA / DIGIT / "-" / "_"), not "t" in any case
/// dir, file = 1*128 (ALPHA / DIGIT / "-" / "_" / "."), not starting with "."
/// </code>
/// at most <see cref="MaxLength"/> characters, matched byte for byte: <c>live</c>, <c>vod</c> and the token marker
/// <c>t</c> in lower case, no percent-encoding, no empty, dot or backslash segment, nothing outside the alphabets.
/// </para>
/// <para>
/// Why refuse rather than normalise: ASP.NET's routing matches literals case-insensitively and Kestrel decodes
/// percent-encodings (but not <c>%2F</c>) and removes dot segments from <c>Request.Path</c>, while the fast lane and a
/// cache see the bytes as sent. Normalising would mean every component reproducing the same normalisation exactly
/// (issue 15: <c>/vod/T/{token}/...</c> was tokenised to the origin's routes and public to the edge's prefix test, so
/// the edge kept a private segment for a year). Refusing needs only that every component asks this parser, and no
/// player, edge or link this project makes ever sends another spelling. A path is refused when either its raw form
/// (the request target as sent) or its decoded form (what routing sees) looks like a playback path and the raw form is
/// not canonical. So a stream or video named <c>t</c> (or <c>T</c>) cannot be played: that segment is the token marker.
/// </para>
/// </summary>
internal readonly struct PlaybackPath
{
    /// <summary>Longest canonical path: the token, a name, a directory and a file at their limits fit with room.</summary>
    internal const int MaxLength = 512;

    private const int MaxNameLength = 64;
    private const int MaxFileLength = 128;

    private readonly int _tokenStart, _tokenLength, _nameStart, _nameLength, _restStart, _restLength;

    private PlaybackPath(PlaybackKind kind) => Kind = kind;

    private PlaybackPath(PlaybackKind kind, int tokenStart, int tokenLength, int nameStart, int nameLength, int restStart, int restLength)
    {
        Kind = kind;
        (_tokenStart, _tokenLength, _nameStart, _nameLength, _restStart, _restLength) = (tokenStart, tokenLength, nameStart, nameLength, restStart, restLength);
    }

    public PlaybackKind Kind { get; }

    /// <summary><see cref="PlaybackKind.Live"/> or <see cref="PlaybackKind.Vod"/>.</summary>
    public bool IsPlayback => Kind is PlaybackKind.Live or PlaybackKind.Vod;

    /// <summary>A playback path under <c>t/{token}/</c>.</summary>
    public bool IsTokenised => _tokenLength > 0;

    /// <summary>Where the token is in the parsed path (empty without one).</summary>
    public Range Token => _tokenStart..(_tokenStart + _tokenLength);

    /// <summary>The stream name or video id.</summary>
    public Range Name => _nameStart..(_nameStart + _nameLength);

    /// <summary>What follows the name: <c>file</c> or <c>dir/file</c>.</summary>
    public Range Rest => _restStart..(_restStart + _restLength);

    public static PlaybackPath Parse(string? path) => Parse(path.AsSpan());

    public static PlaybackPath Parse(ReadOnlySpan<char> path)
    {
        if (!LooksLikePlayback(path, out var kind))
        {
            return default;
        }

        var refused = new PlaybackPath(PlaybackKind.Refused);
        var prefix = kind == PlaybackKind.Live ? "/live/" : "/vod/";
        if (path.Length > MaxLength || !path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return refused;
        }

        var at = prefix.Length;
        var segment = Segment(path, at);
        int tokenStart = 0, tokenLength = 0;
        if (segment.Length == 1 && (segment[0] | 0x20) == 't')
        {
            tokenStart = at + 2;
            if (tokenStart > path.Length)
            {
                return refused; // "/live/t" with nothing after the marker (found by the playback-path fuzz target)
            }

            tokenLength = Segment(path, tokenStart).Length;
            if (segment[0] != 't' || !IsName(path.Slice(tokenStart, tokenLength), PlaybackTokens.MaxTokenChars))
            {
                return refused;
            }

            at = tokenStart + tokenLength + 1;
            segment = Segment(path, at);
        }

        if (!IsName(segment, MaxNameLength) || (segment.Length == 1 && (segment[0] | 0x20) == 't'))
        {
            return refused;
        }

        var nameStart = at;
        var restStart = at + segment.Length + 1;
        if (restStart >= path.Length)
        {
            return refused;
        }

        // One or two file-name segments, the last ending the path.
        var first = Segment(path, restStart);
        var end = restStart + first.Length;
        if (!IsFileName(first))
        {
            return refused;
        }

        if (end < path.Length)
        {
            var second = Segment(path, end + 1);
            if (!IsFileName(second) || end + 1 + second.Length != path.Length)
            {
                return refused;
            }
        }

        return new PlaybackPath(kind, tokenStart, tokenLength, nameStart, segment.Length, restStart, path.Length - restStart);
    }

    /// <summary>The same as <see cref="Parse(ReadOnlySpan{char})"/> over ASCII bytes (the fast lane's request head); the ranges index the bytes.</summary>
    public static PlaybackPath Parse(ReadOnlySpan<byte> path)
    {
        if (path.Length > MaxLength)
        {
            // Too long to be canonical: whether it is refused or none of delivery's business needs only its start.
            path = path[..(MaxLength + 1)];
        }

        // Latin-1 maps each byte to the char of the same value, so indexes carry over and a non-ASCII byte stays outside every alphabet.
        Span<char> chars = stackalloc char[MaxLength + 1];
        var length = Encoding.Latin1.GetChars(path, chars);
        return Parse(chars[..length]);
    }

    /// <summary>
    /// The request's path as delivery must read it: refused if the raw request target (as sent) or the decoded path (as
    /// routing sees it) looks like a playback path and they are not the same canonical path. A target that is not in
    /// origin form (<c>http://host/live/...</c>) is refused too; players and edges send origin form.
    /// </summary>
    public static PlaybackPath Of(HttpContext context)
    {
        var request = context.Request;
        var decoded = request.PathBase.HasValue ? (request.PathBase + request.Path).Value : request.Path.Value;
        var raw = (context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? decoded).AsSpan();
        var question = raw.IndexOf('?');
        if (question >= 0)
        {
            raw = raw[..question];
        }

        var fromRaw = Parse(raw);
        if (fromRaw.Kind == PlaybackKind.None && Parse(decoded).Kind == PlaybackKind.None)
        {
            return default;
        }

        return fromRaw.IsPlayback && raw.SequenceEqual(decoded) ? fromRaw : new PlaybackPath(PlaybackKind.Refused);
    }

    /// <summary>
    /// The first segment is <c>live</c> or <c>vod</c> in any case and any percent-encoding (decoded once, as Kestrel
    /// decodes), after one or more slashes or backslashes (also encoded), and followed by anything that cannot continue
    /// a name: so <c>/%6Cive/</c>, <c>//vod/</c>, <c>/live%2F</c> and <c>/live;x</c> count, <c>/lives</c> does not.
    /// </summary>
    private static bool LooksLikePlayback(ReadOnlySpan<char> path, out PlaybackKind kind)
    {
        kind = PlaybackKind.None;
        var at = 0;
        while (Next(path, at, out var c, out var width) && c is '/' or '\\')
        {
            at += width;
        }

        if (at > 0)
        {
            kind = IsWord(path, at, "live") ? PlaybackKind.Live : IsWord(path, at, "vod") ? PlaybackKind.Vod : PlaybackKind.None;
        }

        return kind != PlaybackKind.None;
    }

    private static bool IsWord(ReadOnlySpan<char> path, int at, string word)
    {
        foreach (var letter in word)
        {
            // Bit 5 is the ASCII case bit: only the two cases of a letter map to its lower case.
            if (!Next(path, at, out var c, out var width) || (c | 0x20) != letter)
            {
                return false;
            }

            at += width;
        }

        return !Next(path, at, out var after, out _) || !NameChars.Contains(after);
    }

    /// <summary>The character at <paramref name="at"/>, a percent-encoded octet (RFC 3986 §2.1) decoded.</summary>
    private static bool Next(ReadOnlySpan<char> path, int at, out char c, out int width)
    {
        (c, width) = (default, 0);
        if (at >= path.Length)
        {
            return false;
        }

        if (path[at] == '%' && at + 2 < path.Length && char.IsAsciiHexDigit(path[at + 1]) && char.IsAsciiHexDigit(path[at + 2]))
        {
            (c, width) = ((char)((HexValue(path[at + 1]) << 4) | HexValue(path[at + 2])), 3);
            return true;
        }

        (c, width) = (path[at], 1);
        return true;
    }

    private static int HexValue(char hex) => hex <= '9' ? hex - '0' : (hex | 0x20) - 'a' + 10;

    private static ReadOnlySpan<char> Segment(ReadOnlySpan<char> path, int start)
    {
        if (start >= path.Length)
        {
            return default;
        }

        var rest = path[start..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? rest : rest[..slash];
    }

    /// <summary>A stream name or video id: 1 to 64 of <c>[A-Za-z0-9_-]</c>.</summary>
    internal static bool IsName(ReadOnlySpan<char> segment) => IsName(segment, MaxNameLength);

    private static bool IsName(ReadOnlySpan<char> segment, int maxLength) =>
        segment.Length > 0 && segment.Length <= maxLength && !segment.ContainsAnyExcept(NameChars);

    /// <summary>A directory or file segment: 1 to 128 of <c>[A-Za-z0-9._-]</c>, not starting with '.'.</summary>
    internal static bool IsFileName(ReadOnlySpan<char> segment) =>
        segment.Length > 0 && segment.Length <= MaxFileLength && segment[0] != '.' && !segment.ContainsAnyExcept(FileNameChars);

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private static readonly System.Buffers.SearchValues<char> FileNameChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");
}

internal static class PlaybackPathExtensions
{
    /// <summary>
    /// Ahead of routing and of everything else that reads the path (the live playlist shortcut, the edge's cache and
    /// token check): a request whose path is a playback path in any other spelling than the canonical one
    /// (<see cref="PlaybackPath"/>) is answered 404 and goes no further.
    /// </summary>
    public static WebApplication UsePlaybackPaths(this WebApplication app)
    {
        app.Use((context, next) => PlaybackPath.Of(context).Kind == PlaybackKind.Refused
            ? TypedResults.Problem(
                detail: "not a playback path: /live/ and /vod/ (and t/ before a token) are lower case, with no percent-encoding and no empty, dot or backslash segments",
                statusCode: StatusCodes.Status404NotFound).ExecuteAsync(context)
            : next(context));
        return app;
    }
}
