using System.Buffers;
using System.Text;

namespace StreamVerse.Origin.Http.FastLane;

internal enum HeadStatus
{
    /// <summary>The buffer does not hold a whole request head yet.</summary>
    Incomplete,

    /// <summary>A GET or HEAD the fast lane understands completely.</summary>
    Parsed,

    /// <summary>Anything else (another method or version, a body, an upgrade, a CORS preflight, an unusual header, bytes Kestrel
    /// would reject or normalise): Kestrel's own HTTP/1.1 parser gets the connection, from this request on.</summary>
    HandOver,
}

/// <summary>
/// The request head of an HTTP/1.1 GET or HEAD (RFC 9112 §3, §5), as far as the fast lane needs it. The spans are
/// slices of the parsed bytes and live as long as they do. The parser is deliberately narrow: it accepts only what it
/// can answer exactly as the routed path would and hands everything else to Kestrel, which then produces the real
/// answer (including its 400s), so a request the lane does not understand is never answered differently.
/// </summary>
internal ref struct Http1RequestHead
{
    /// <summary>Largest head the lane parses; a larger one is Kestrel's (its limits and 431s apply).</summary>
    internal const int MaxHeadBytes = 8 * 1024;

    /// <summary>Largest header value the lane reads (Range, If-None-Match, Accept-Encoding are short).</summary>
    internal const int MaxValueBytes = 512;

    private const int MaxHeaders = 64;

    /// <summary>What Kestrel takes in a Host name or IPv4 address (RFC 3986 unreserved and some sub-delims), see <see cref="IsHost"/>.</summary>
    private static readonly SearchValues<byte> RegNameBytes = SearchValues.Create("!$&'()-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"u8);

    /// <summary>What Kestrel takes between the brackets of an IP literal Host.</summary>
    private static readonly SearchValues<byte> IpLiteralBytes = SearchValues.Create("0123456789ABCDEFabcdef:."u8);

    public bool IsHead;

    /// <summary>The origin-form path, without the query: starts with '/', visible ASCII, no '%', no empty or dot segment.</summary>
    public ReadOnlySpan<byte> Path;

    /// <summary>What follows the '?', or empty.</summary>
    public ReadOnlySpan<byte> Query;

    public ReadOnlySpan<byte> IfNoneMatch;
    public ReadOnlySpan<byte> Range;
    public ReadOnlySpan<byte> IfRange;
    public ReadOnlySpan<byte> AcceptEncoding;

    /// <summary>The Host field value (RFC 9110 §7.2), required.</summary>
    public ReadOnlySpan<byte> Host;

    /// <summary>
    /// The <c>User-Agent</c> and the four <c>CMCD-*</c> field values (CTA-5004 §2.1), first of each, for audience
    /// analytics only (<see cref="Audience.DeliveryObserver"/>): they never change the answer, so a repeated or long one
    /// is not a reason to hand over.
    /// </summary>
    public ReadOnlySpan<byte> UserAgent;
    public ReadOnlySpan<byte> CmcdRequest;
    public ReadOnlySpan<byte> CmcdObject;
    public ReadOnlySpan<byte> CmcdStatus;
    public ReadOnlySpan<byte> CmcdSession;

    /// <summary>A <c>Via</c> names a StreamVerse edge (which composes the MPD's UTCTiming itself).</summary>
    public bool FromEdge;

    /// <summary><c>Connection: close</c>: answer, then close.</summary>
    public bool Close;

    /// <summary>An <c>Origin</c> header: a browser's cross-origin (CORS) request (Fetch §3.2), answered with CORS headers.</summary>
    public bool CrossOrigin;

    /// <summary>
    /// <c>If-Modified-Since</c>, <c>If-Unmodified-Since</c> or <c>If-Match</c> (RFC 9110 §13.1): stored objects have no
    /// modification date and ignore them as the routed writer does; a file on disk has one, and such a request is handed over.
    /// </summary>
    public bool OtherConditional;

    /// <summary>Finds the end of the first request head in <paramref name="buffer"/> (its CRLF CRLF) and parses it.</summary>
    /// <param name="scratch">Used when the head spans buffer segments; at least <see cref="MaxHeadBytes"/> long.</param>
    /// <param name="consumed">Bytes of the head, including the empty line (valid for <see cref="HeadStatus.Parsed"/>).</param>
    public static HeadStatus TryRead(in ReadOnlySequence<byte> buffer, Span<byte> scratch, out Http1RequestHead head, out int consumed)
    {
        head = default;
        consumed = 0;
        ReadOnlySpan<byte> bytes;
        if (buffer.IsSingleSegment || buffer.FirstSpan.IndexOf("\r\n\r\n"u8) >= 0)
        {
            bytes = buffer.FirstSpan;
        }
        else
        {
            var take = (int)Math.Min(buffer.Length, MaxHeadBytes);
            buffer.Slice(0, take).CopyTo(scratch);
            bytes = scratch[..take];
        }

        var end = bytes.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return bytes.Length >= MaxHeadBytes ? HeadStatus.HandOver : HeadStatus.Incomplete;
        }

        if (end + 4 > MaxHeadBytes)
        {
            return HeadStatus.HandOver;
        }

        consumed = end + 4;
        return Parse(bytes[..(end + 2)], ref head) ? HeadStatus.Parsed : HeadStatus.HandOver;
    }

    /// <param name="lines">The request line and the header lines, each ending in CRLF, without the final empty line.</param>
    private static bool Parse(ReadOnlySpan<byte> lines, ref Http1RequestHead head)
    {
        // A bare CR or LF inside a line is something Kestrel must judge (RFC 9112 §2.2 lets a server reject it).
        var eol = lines.IndexOf("\r\n"u8);
        if (lines[..eol].IndexOfAny((byte)'\r', (byte)'\n') >= 0 || !ParseRequestLine(lines[..eol], ref head))
        {
            return false;
        }

        var rest = lines[(eol + 2)..];
        bool host = false, ifNoneMatch = false, range = false, ifRange = false, acceptEncoding = false;
        ReadOnlySpan<byte> origin;
        for (var count = 0; !rest.IsEmpty; count++)
        {
            eol = rest.IndexOf("\r\n"u8);
            var line = rest[..eol];
            rest = rest[(eol + 2)..];
            if (count == MaxHeaders || line.IndexOfAny((byte)'\r', (byte)'\n') >= 0)
            {
                return false;
            }

            var colon = line.IndexOf((byte)':');
            // No name, or obs-fold (a line starting with whitespace continues the previous one, RFC 9112 §5.2).
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return false;
            }

            var name = line[..colon];
            var value = Trim(line[(colon + 1)..]);
            if (!IsFieldValue(value))
            {
                return false;
            }

            switch (name.Length)
            {
                case 4 when Ascii.EqualsIgnoreCase(name, "host"u8):
                    if (!TakeOnce(ref host, value, out head.Host) || !IsHost(value))
                    {
                        return false;
                    }

                    break;
                case 3 when Ascii.EqualsIgnoreCase(name, "via"u8):
                    head.FromEdge |= value.IndexOf("streamverse-edge"u8) >= 0;
                    break;
                case 5 when Ascii.EqualsIgnoreCase(name, "range"u8):
                    if (!TakeOnce(ref range, value, out head.Range))
                    {
                        return false;
                    }

                    break;
                case 8 when Ascii.EqualsIgnoreCase(name, "if-match"u8):
                case 17 when Ascii.EqualsIgnoreCase(name, "if-modified-since"u8):
                case 19 when Ascii.EqualsIgnoreCase(name, "if-unmodified-since"u8):
                    head.OtherConditional = true;
                    break;
                case 8 when Ascii.EqualsIgnoreCase(name, "if-range"u8):
                    if (!TakeOnce(ref ifRange, value, out head.IfRange))
                    {
                        return false;
                    }

                    break;
                case 13 when Ascii.EqualsIgnoreCase(name, "if-none-match"u8):
                    if (!TakeOnce(ref ifNoneMatch, value, out head.IfNoneMatch))
                    {
                        return false;
                    }

                    break;
                case 15 when Ascii.EqualsIgnoreCase(name, "accept-encoding"u8):
                    if (!TakeOnce(ref acceptEncoding, value, out head.AcceptEncoding))
                    {
                        return false;
                    }

                    break;
                case 6 when Ascii.EqualsIgnoreCase(name, "origin"u8):
                    if (!TakeOnce(ref head.CrossOrigin, value, out origin))
                    {
                        return false;
                    }

                    break;
                case 10 when Ascii.EqualsIgnoreCase(name, "user-agent"u8):
                    First(ref head.UserAgent, value);
                    break;
                case 11 when Ascii.EqualsIgnoreCase(name, "cmcd-object"u8):
                    First(ref head.CmcdObject, value);
                    break;
                case 11 when Ascii.EqualsIgnoreCase(name, "cmcd-status"u8):
                    First(ref head.CmcdStatus, value);
                    break;
                case 12 when Ascii.EqualsIgnoreCase(name, "cmcd-request"u8):
                    First(ref head.CmcdRequest, value);
                    break;
                case 12 when Ascii.EqualsIgnoreCase(name, "cmcd-session"u8):
                    First(ref head.CmcdSession, value);
                    break;
                case 10 when Ascii.EqualsIgnoreCase(name, "connection"u8):
                    if (!ParseConnection(value, ref head.Close))
                    {
                        return false;
                    }

                    break;
                default:
                    if (IsHandOverHeader(name))
                    {
                        return false;
                    }

                    break;
            }
        }

        // RFC 9112 §3.2: a request without Host is a 400, which is Kestrel's to send.
        return host;
    }

    private static bool ParseRequestLine(ReadOnlySpan<byte> line, ref Http1RequestHead head)
    {
        if (line.StartsWith("GET "u8))
        {
            line = line[4..];
        }
        else if (line.StartsWith("HEAD "u8))
        {
            head.IsHead = true;
            line = line[5..];
        }
        else
        {
            return false;
        }

        // HTTP/1.0 (no keep-alive by default, no Host required) and anything newer stay with Kestrel.
        if (!line.EndsWith(" HTTP/1.1"u8))
        {
            return false;
        }

        var target = line[..^9];
        if (target.IsEmpty || target[0] != '/' || target.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E) || target.Contains((byte)'#'))
        {
            return false;
        }

        var question = target.IndexOf((byte)'?');
        var path = question < 0 ? target : target[..question];
        // Percent-encoding is the routed side's to decode, except inside a CMCD query value (CTA-5004 §2.2: players send
        // it URL-encoded on every request), which the lane never reads for its answer (Cmcd.PercentOnlyInCmcd).
        if (path.Contains((byte)'%') || (question >= 0 && !Audience.Cmcd.PercentOnlyInCmcd(target[(question + 1)..])))
        {
            return false;
        }

        // Kestrel removes dot segments and the routed path would then see another path; empty segments likewise.
        if (path.IndexOf("/."u8) >= 0 || path.IndexOf("//"u8) >= 0)
        {
            return false;
        }

        head.Path = path;
        head.Query = question < 0 ? default : target[(question + 1)..];
        return true;
    }

    private static void First(scoped ref ReadOnlySpan<byte> slot, ReadOnlySpan<byte> value)
    {
        if (slot.IsEmpty)
        {
            slot = value;
        }
    }

    private static bool TakeOnce(scoped ref bool seen, ReadOnlySpan<byte> value, out ReadOnlySpan<byte> slot)
    {
        slot = value;
        if (seen || value.Length > MaxValueBytes)
        {
            return false;
        }

        seen = true;
        return true;
    }

    /// <summary>
    /// A Host value Kestrel takes (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3): empty; or a name or IPv4 address of unreserved
    /// characters and <c>!$&amp;'()</c>, or an IP literal in brackets of hex digits, ':' and '.', either with an optional
    /// ':' and port digits. Kestrel answers any other with 400 Invalid Host header, so the lane hands it over.
    /// </summary>
    private static bool IsHost(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return true;
        }

        int end;
        if (value[0] == '[')
        {
            var close = value.IndexOf((byte)']');
            if (close < 2 || value[1..close].ContainsAnyExcept(IpLiteralBytes))
            {
                return false;
            }

            end = close + 1;
        }
        else
        {
            end = value.IndexOfAnyExcept(RegNameBytes);
            if (end < 0)
            {
                return true;
            }

            if (end == 0)
            {
                return false;
            }
        }

        var port = value[end..];
        return port.IsEmpty || (port.Length > 1 && port[0] == ':' && !port[1..].ContainsAnyExceptInRange((byte)'0', (byte)'9'));
    }

    /// <summary><c>close</c> and <c>keep-alive</c> are understood; any other option (an upgrade, TE) is Kestrel's.</summary>
    private static bool ParseConnection(ReadOnlySpan<byte> value, ref bool close)
    {
        foreach (var range in value.Split((byte)','))
        {
            var option = Trim(value[range]);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                close = true;
            }
            else if (!option.IsEmpty && !Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Headers that change what the routed path does: a body, an upgrade, an expectation, a CORS preflight.</summary>
    private static bool IsHandOverHeader(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "content-length"u8)
        || Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8)
        || Ascii.EqualsIgnoreCase(name, "expect"u8)
        || Ascii.EqualsIgnoreCase(name, "upgrade"u8)
        || Ascii.EqualsIgnoreCase(name, "http2-settings"u8)
        || Ascii.EqualsIgnoreCase(name, "access-control-request-method"u8);

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);

    /// <summary>tchar (RFC 9110 §5.6.2).</summary>
    private static bool IsToken(ReadOnlySpan<byte> name)
    {
        foreach (var b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Visible ASCII, space and tab (obs-text is left to Kestrel).</summary>
    private static bool IsFieldValue(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is < 0x20 and not (byte)'\t' or >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }
}
