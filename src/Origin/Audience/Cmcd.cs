namespace StreamVerse.Origin.Audience;

/// <summary>CMCD object type (CTA-5004 §3.3, key <c>ot</c>).</summary>
internal enum CmcdObjectType : byte
{
    None = 0,
    Manifest,
    Audio,
    Video,
    Muxed,
    Init,
    Caption,
    TimedText,
    Key,
    Other,
}

/// <summary>
/// What one request's Common Media Client Data said (CTA-5004), as numbers: a key the player did not send (or sent in a
/// form the spec does not allow) is -1, false, 0 or <see cref="CmcdObjectType.None"/>. Strings are not kept: the session
/// id and content id are 64-bit hashes of their bytes (FNV-1a, unsalted; the observer salts the session's before it leaves
/// the process), <c>nor</c>/<c>nrr</c> and custom keys are skipped.
/// </summary>
internal struct CmcdValues
{
    public CmcdValues()
    {
    }

    /// <summary><c>br</c>: encoded bitrate of the object, kbit/s.</summary>
    public int Bitrate = -1;

    /// <summary><c>bl</c>: buffer length, ms.</summary>
    public int BufferLength = -1;

    /// <summary><c>d</c>: object duration, ms.</summary>
    public int Duration = -1;

    /// <summary><c>dl</c>: deadline, ms.</summary>
    public int Deadline = -1;

    /// <summary><c>mtp</c>: measured throughput, kbit/s.</summary>
    public int MeasuredThroughput = -1;

    /// <summary><c>rtp</c>: requested maximum throughput, kbit/s.</summary>
    public int RequestedThroughput = -1;

    /// <summary><c>tb</c>: top bitrate the player may choose, kbit/s.</summary>
    public int TopBitrate = -1;

    /// <summary><c>pr</c>: playback rate in thousandths (1000 = real time).</summary>
    public int PlaybackRateMilli = -1;

    /// <summary><c>v</c>: CMCD version (absent means 1).</summary>
    public int Version = -1;

    /// <summary><c>bs</c>: the buffer ran empty since the previous request.</summary>
    public bool BufferStarvation;

    /// <summary><c>su</c>: the object is needed for startup, a seek or a recovery from starvation.</summary>
    public bool Startup;

    /// <summary><c>sid</c>: hash of the session id's bytes; 0 when absent.</summary>
    public ulong SessionId;

    /// <summary><c>cid</c>: hash of the content id's bytes; 0 when absent.</summary>
    public ulong ContentId;

    public CmcdObjectType ObjectType;

    /// <summary><c>sf</c>: streaming format token (<c>d</c>, <c>h</c>, <c>s</c>, <c>o</c>) as its byte; 0 when absent.</summary>
    public byte StreamingFormat;

    /// <summary><c>st</c>: stream type token (<c>v</c>, <c>l</c>) as its byte; 0 when absent.</summary>
    public byte StreamType;

    /// <summary>At least one key this parser knows was read.</summary>
    public bool Present;
}

/// <summary>
/// The one reader of CMCD (CTA-5004): the <c>CMCD=</c> query parameter (URL-encoded, CTA-5004 §2.2) and the four
/// headers <c>CMCD-Request</c>, <c>CMCD-Object</c>, <c>CMCD-Status</c>, <c>CMCD-Session</c> (§2.1). Each carries a
/// comma-separated list of <c>key[=value]</c> in the syntax of RFC 8941 dictionaries: integers, decimals, tokens,
/// quoted strings (with <c>\"</c> and <c>\\</c> escapes, commas allowed inside) and bare keys meaning true.
/// <para>
/// Untrusted input, read on the serving path: no allocation (spans and one stack buffer), one pass over at most
/// <see cref="MaxBytes"/> bytes per source, never throws. A pair the spec does not allow (a string where a number
/// belongs, a negative number, trailing garbage) is skipped and the rest of the list is still read.
/// </para>
/// </summary>
internal static class Cmcd
{
    /// <summary>Bytes read of one source (the decoded query value, or one header); the rest is ignored. hls.js and dash.js send a few hundred.</summary>
    internal const int MaxBytes = 1024;

    /// <summary>The largest integer kept (CTA-5004 integers are kbit/s and ms; RFC 8941 allows 15 digits).</summary>
    private const long MaxInteger = int.MaxValue;

    /// <summary>Reads the <c>CMCD</c> parameter of <paramref name="query"/> (what follows the '?', or with it). False when there is none.</summary>
    public static bool ReadQuery(ReadOnlySpan<byte> query, ref CmcdValues values)
    {
        if (!TryFindQueryValue(query, out var encoded))
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[MaxBytes];
        ReadList(decoded[..PercentDecode(encoded, decoded)], ref values);
        return true;
    }

    /// <summary>Reads one of the four <c>CMCD-*</c> header values (all four share the syntax; keys may come in any of them).</summary>
    public static void ReadHeader(ReadOnlySpan<byte> value, ref CmcdValues values) =>
        ReadList(value.Length > MaxBytes ? value[..MaxBytes] : value, ref values);

    /// <summary>The raw (still percent-encoded) value of the first <c>CMCD=</c> pair of a query.</summary>
    internal static bool TryFindQueryValue(ReadOnlySpan<byte> query, out ReadOnlySpan<byte> value)
    {
        if (!query.IsEmpty && query[0] == '?')
        {
            query = query[1..];
        }

        foreach (var range in query.Split((byte)'&'))
        {
            var pair = query[range];
            if (pair.StartsWith("CMCD="u8))
            {
                value = pair[5..];
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// A query in which '%' appears only inside <c>CMCD=</c> values: its other parameters read the same raw or decoded,
    /// and the decoded CMCD value never changes where a parameter starts (a decoded <c>&amp;</c> stays inside the value,
    /// since queries are split before they are decoded). The fast lane takes such a query as it takes one without '%'.
    /// </summary>
    internal static bool PercentOnlyInCmcd(ReadOnlySpan<byte> query)
    {
        if (!query.Contains((byte)'%'))
        {
            return true;
        }

        foreach (var range in query.Split((byte)'&'))
        {
            var pair = query[range];
            if (pair.Contains((byte)'%') && !pair.StartsWith("CMCD="u8))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True for an empty query or one of nothing but <c>CMCD=</c> pairs.</summary>
    internal static bool OnlyCmcd(ReadOnlySpan<byte> query)
    {
        foreach (var range in query.Split((byte)'&'))
        {
            var pair = query[range];
            if (!pair.IsEmpty && !pair.StartsWith("CMCD="u8))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 3986 §2.1 percent-decoding into <paramref name="destination"/> (what does not fit is dropped); a malformed escape stays as it is.</summary>
    internal static int PercentDecode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i < source.Length && written < destination.Length; i++)
        {
            var b = source[i];
            if (b == '%' && i + 2 < source.Length && Hex(source[i + 1]) is var hi and >= 0 && Hex(source[i + 2]) is var lo and >= 0)
            {
                b = (byte)((hi << 4) | lo);
                i += 2;
            }

            destination[written++] = b;
        }

        return written;
    }

    private static int Hex(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>One list: <c>key[=value]</c> pairs separated by commas, optional whitespace around them (RFC 8941 §3.2).</summary>
    internal static void ReadList(ReadOnlySpan<byte> list, ref CmcdValues values)
    {
        var i = 0;
        while (i < list.Length)
        {
            while (i < list.Length && list[i] is (byte)' ' or (byte)'\t')
            {
                i++;
            }

            var keyStart = i;
            while (i < list.Length && IsKeyByte(list[i]))
            {
                i++;
            }

            var key = list[keyStart..i];
            ReadOnlySpan<byte> value = default;
            bool hasValue = false, quoted = false, clean = true;
            if (i < list.Length && list[i] == '=')
            {
                hasValue = true;
                i++;
                if (i < list.Length && list[i] == '"')
                {
                    quoted = true;
                    var valueStart = ++i;
                    while (i < list.Length && list[i] != '"')
                    {
                        // An escape takes the next byte with it, so an escaped quote does not end the string.
                        i += list[i] == '\\' ? 2 : 1;
                    }

                    clean = i < list.Length; // an unterminated string is not a value
                    value = list[valueStart..Math.Min(i, list.Length)];
                    i = Math.Min(i + 1, list.Length);
                }
                else if (i < list.Length && list[i] == '(')
                {
                    // An inner list (RFC 8941 §3.1.1; CMCD v2 sends some keys per track as one): its first item counts.
                    var close = list[i..].IndexOf((byte)')');
                    clean = close > 0;
                    var inner = close > 0 ? list[(i + 1)..(i + close)].Trim((byte)' ') : default;
                    var space = inner.IndexOf((byte)' ');
                    value = space < 0 ? inner : inner[..space];
                    quoted = value.Length >= 2 && value[0] == '"' && value[^1] == '"';
                    value = quoted ? value[1..^1] : value;
                    i = close > 0 ? i + close + 1 : list.Length;
                }
                else
                {
                    var valueStart = i;
                    while (i < list.Length && list[i] is not ((byte)',' or (byte)' ' or (byte)'\t'))
                    {
                        i++;
                    }

                    value = list[valueStart..i];
                }
            }

            // Only whitespace may stand between a pair and the next comma; anything else spoils this pair alone.
            var comma = list[i..].IndexOf((byte)',');
            var between = comma < 0 ? list[i..] : list[i..(i + comma)];
            clean &= !between.ContainsAnyExcept((byte)' ', (byte)'\t');
            i = comma < 0 ? list.Length : i + comma + 1;
            if (clean && !key.IsEmpty)
            {
                Apply(key, hasValue, quoted, value, ref values);
            }
        }
    }

    /// <summary>RFC 8941 keys: lower-case letters, digits, <c>_ - . *</c>. CTA-5004's custom keys (<c>com.example-x</c>) fit.</summary>
    private static bool IsKeyByte(byte b) => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' or (byte)'-' or (byte)'.' or (byte)'*';

    private static void Apply(ReadOnlySpan<byte> key, bool hasValue, bool quoted, ReadOnlySpan<byte> value, ref CmcdValues values)
    {
        switch (key.Length)
        {
            case 1 when key[0] == 'd':
                Integer(hasValue, quoted, value, ref values.Duration, ref values.Present);
                break;
            case 1 when key[0] == 'v':
                Integer(hasValue, quoted, value, ref values.Version, ref values.Present);
                break;
            case 2 when key.SequenceEqual("br"u8):
                Integer(hasValue, quoted, value, ref values.Bitrate, ref values.Present);
                break;
            case 2 when key.SequenceEqual("bl"u8):
                Integer(hasValue, quoted, value, ref values.BufferLength, ref values.Present);
                break;
            case 2 when key.SequenceEqual("dl"u8):
                Integer(hasValue, quoted, value, ref values.Deadline, ref values.Present);
                break;
            case 2 when key.SequenceEqual("tb"u8):
                Integer(hasValue, quoted, value, ref values.TopBitrate, ref values.Present);
                break;
            case 3 when key.SequenceEqual("mtp"u8):
                Integer(hasValue, quoted, value, ref values.MeasuredThroughput, ref values.Present);
                break;
            case 3 when key.SequenceEqual("rtp"u8):
                Integer(hasValue, quoted, value, ref values.RequestedThroughput, ref values.Present);
                break;
            case 2 when key.SequenceEqual("bs"u8):
                Boolean(hasValue, quoted, value, ref values.BufferStarvation, ref values.Present);
                break;
            case 2 when key.SequenceEqual("su"u8):
                Boolean(hasValue, quoted, value, ref values.Startup, ref values.Present);
                break;
            case 2 when key.SequenceEqual("pr"u8):
                if (hasValue && !quoted && TryDecimalMilli(value, out var milli))
                {
                    (values.PlaybackRateMilli, values.Present) = (milli, true);
                }

                break;
            case 3 when key.SequenceEqual("sid"u8):
                if (quoted && !value.IsEmpty)
                {
                    (values.SessionId, values.Present) = (Fnv1a(value), true);
                }

                break;
            case 3 when key.SequenceEqual("cid"u8):
                if (quoted && !value.IsEmpty)
                {
                    (values.ContentId, values.Present) = (Fnv1a(value), true);
                }

                break;
            case 2 when key.SequenceEqual("ot"u8):
                if (hasValue && !quoted && ObjectType(value) is var ot and not CmcdObjectType.None)
                {
                    (values.ObjectType, values.Present) = (ot, true);
                }

                break;
            case 2 when key.SequenceEqual("sf"u8):
                if (hasValue && !quoted && value.Length == 1 && value[0] is (byte)'d' or (byte)'h' or (byte)'s' or (byte)'o')
                {
                    (values.StreamingFormat, values.Present) = (value[0], true);
                }

                break;
            case 2 when key.SequenceEqual("st"u8):
                if (hasValue && !quoted && value.Length == 1 && value[0] is (byte)'v' or (byte)'l')
                {
                    (values.StreamType, values.Present) = (value[0], true);
                }

                break;
        }
    }

    /// <summary>An RFC 8941 integer (at most 15 digits) that CTA-5004 allows here: not negative. Larger than an int is an int's maximum.</summary>
    private static void Integer(bool hasValue, bool quoted, ReadOnlySpan<byte> value, ref int slot, ref bool present)
    {
        if (!hasValue || quoted || value.IsEmpty || value.Length > 15 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return;
        }

        long n = 0;
        foreach (var digit in value)
        {
            n = (n * 10) + (digit - '0');
        }

        (slot, present) = ((int)Math.Min(n, MaxInteger), true);
    }

    /// <summary>A bare key is true (RFC 8941 §3.2); <c>?1</c>/<c>?0</c> are the explicit forms.</summary>
    private static void Boolean(bool hasValue, bool quoted, ReadOnlySpan<byte> value, ref bool slot, ref bool present)
    {
        if (!hasValue)
        {
            (slot, present) = (true, true);
        }
        else if (!quoted && (value.SequenceEqual("?1"u8) || value.SequenceEqual("?0"u8)))
        {
            (slot, present) = (value[1] == '1', true);
        }
    }

    /// <summary>An RFC 8941 decimal (up to 12 integer and 3 fraction digits), not negative, in thousandths.</summary>
    private static bool TryDecimalMilli(ReadOnlySpan<byte> value, out int milli)
    {
        milli = 0;
        var dot = value.IndexOf((byte)'.');
        var whole = dot < 0 ? value : value[..dot];
        var fraction = dot < 0 ? default : value[(dot + 1)..];
        if (whole.IsEmpty || whole.Length > 12 || fraction.Length > 3 || (dot >= 0 && fraction.IsEmpty)
            || whole.ContainsAnyExceptInRange((byte)'0', (byte)'9') || fraction.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return false;
        }

        long n = 0;
        foreach (var digit in whole)
        {
            n = (n * 10) + (digit - '0');
        }

        var scale = 100;
        long f = 0;
        foreach (var digit in fraction)
        {
            f += (digit - '0') * scale;
            scale /= 10;
        }

        milli = (int)Math.Min((n * 1000) + f, MaxInteger);
        return true;
    }

    private static CmcdObjectType ObjectType(ReadOnlySpan<byte> token) => token switch
    {
        [(byte)'m'] => CmcdObjectType.Manifest,
        [(byte)'a'] => CmcdObjectType.Audio,
        [(byte)'v'] => CmcdObjectType.Video,
        [(byte)'a', (byte)'v'] => CmcdObjectType.Muxed,
        [(byte)'i'] => CmcdObjectType.Init,
        [(byte)'c'] => CmcdObjectType.Caption,
        [(byte)'t', (byte)'t'] => CmcdObjectType.TimedText,
        [(byte)'k'] => CmcdObjectType.Key,
        [(byte)'o'] => CmcdObjectType.Other,
        _ => CmcdObjectType.None,
    };

    /// <summary>64-bit FNV-1a; never 0 (0 means absent).</summary>
    internal static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash == 0 ? 1 : hash;
    }
}
