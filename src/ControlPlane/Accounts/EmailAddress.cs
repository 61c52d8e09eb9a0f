using System.Buffers;
using System.Globalization;
using System.Text;

namespace StreamVerse.ControlPlane.Accounts;

/// <summary>
/// The e-mail addresses accounts are known by: one validator and one normal form for registration, login,
/// re-authentication and the bootstrap admin, so that the address a user registered is the address they log in
/// with, byte for byte.
/// Accepted: a subset of RFC 5322 §3.4.1 <c>addr-spec</c> as RFC 5321 §4.5.3.1 bounds it: a dot-atom local part of
/// at most 64 octets (UTF-8, RFC 6531 allows non-ASCII) and a domain name of dot-separated LDH labels (RFC 1035
/// §2.3.1, at most 63 octets each, at least two labels), the whole at most 254 octets (RFC 5321's 256-octet path
/// less its angle brackets). Quoted local parts, comments and address literals (<c>[192.0.2.1]</c>) are refused:
/// no real sign-up needs them and each is a parser's corner. No control, format, private-use, unassigned or space
/// character anywhere.
/// Normal form: trimmed; the local part in lower case; the domain lower case, an internationalised one as its
/// A-label (<c>bücher.example</c> -> <c>xn--bcher-kva.example</c>, RFC 5890). A non-ASCII local part is kept as sent,
/// not brought to Unicode NFC: the daemon runs in .NET's invariant globalization mode, which has no normalisation
/// tables, so <c>é</c> typed precomposed and typed with a combining accent are two addresses, as they are to mail
/// servers, which compare local parts as bytes. Lower-casing the local part
/// is a choice (RFC 5321 §2.4 lets a mail host tell <c>Ada</c> from <c>ada</c>) that the control plane has made from
/// the start: stored addresses are lower case and login compares exactly, so <c>Ada@x.example</c> and
/// <c>ada@x.example</c> are one account.
/// </summary>
internal static class EmailAddress
{
    /// <summary>RFC 5321 §4.5.3.1.3: a path is at most 256 octets, angle brackets included.</summary>
    public const int MaxLength = 254;

    /// <summary>RFC 5321 §4.5.3.1.1.</summary>
    public const int MaxLocalLength = 64;

    private const int MaxDomainLength = 253;
    private const int MaxLabelLength = 63;

    private static readonly SearchValues<char> AsciiAtext =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~");

    private static readonly SearchValues<char> Ldh = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>The normal form of <paramref name="input"/>, or null with the reason (for a problem's field error).</summary>
    public static string? Normalise(string? input, out string? error)
    {
        var s = (input ?? "").Trim();
        error = null;
        if (s.Length == 0)
        {
            error = "is required";
            return null;
        }

        // First, before anything walks the text: a longer string cannot be an address.
        if (s.Length > MaxLength)
        {
            error = $"must be at most {MaxLength} characters";
            return null;
        }

        var at = s.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != s.LastIndexOf('@') || at == s.Length - 1)
        {
            error = "must be an e-mail address (local-part@domain)";
            return null;
        }

        var local = LocalPart(s.AsSpan(0, at));
        if (local is null)
        {
            error = "must be an e-mail address: the part before @ may hold letters, digits, !#$%&'*+-/=?^_`{|}~ and single dots inside, at most 64 bytes";
            return null;
        }

        var domain = Domain(s[(at + 1)..]);
        if (domain is null)
        {
            error = "must be an e-mail address: the part after @ must be a domain name such as example.com";
            return null;
        }

        var address = local + "@" + domain;
        if (Encoding.UTF8.GetByteCount(address) > MaxLength)
        {
            error = $"must be at most {MaxLength} characters";
            return null;
        }

        return address;
    }

    private static string? LocalPart(ReadOnlySpan<char> local)
    {
        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        for (var i = 0; i < local.Length;)
        {
            if (Rune.DecodeFromUtf16(local[i..], out var rune, out var used) != OperationStatus.Done)
            {
                return null; // a lone surrogate
            }

            i += used;
            if (rune.IsAscii)
            {
                if (rune.Value != '.' && !AsciiAtext.Contains((char)rune.Value))
                {
                    return null;
                }
            }
            else if (!IsVisible(rune))
            {
                return null;
            }
        }

        var normal = local.ToString().ToLowerInvariant();
        return Encoding.UTF8.GetByteCount(normal) > MaxLocalLength ? null : normal;
    }

    /// <summary>RFC 6531 §3.3 <c>UTF8-non-ascii</c>, less what no one can see or type: controls (C1 included),
    /// format characters (zero-width joiners, bidi overrides), separators, private use and unassigned code points, and
    /// U+FFFD, the trace of text that was not valid UTF-8 or UTF-16 on its way here.</summary>
    private static bool IsVisible(Rune rune) => rune != Rune.ReplacementChar && Rune.GetUnicodeCategory(rune) is not (
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
        or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
        or UnicodeCategory.ParagraphSeparator);

    private static string? Domain(string domain)
    {
        // Lower case first: the A-label of a name is that of its lower-case form (UTS #46 maps case; the
        // daemon's invariant globalization mode does the Punycode of RFC 3492 but not that mapping).
        domain = domain.ToLowerInvariant();
        string ascii;
        if (Ascii.IsValid(domain))
        {
            ascii = domain;
        }
        else
        {
            try
            {
                ascii = Idn.GetAscii(domain).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        if (ascii.Length > MaxDomainLength)
        {
            return null;
        }

        var labels = 0;
        foreach (var range in ascii.AsSpan().Split('.'))
        {
            var label = ascii.AsSpan(range);
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-' || label.ContainsAnyExcept(Ldh))
            {
                return null;
            }

            labels++;
        }

        return labels >= 2 ? ascii : null;
    }
}
