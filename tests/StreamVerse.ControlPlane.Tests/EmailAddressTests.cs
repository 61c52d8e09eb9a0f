using System.Globalization;
using System.Text;
using CsCheck;
using StreamVerse.ControlPlane.Accounts;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The one e-mail validator that registration, login and re-authentication share.</summary>
public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("ada@example.com", "ada@example.com")]
    [InlineData("  Ada.Lovelace+Tag@Example.COM \t", "ada.lovelace+tag@example.com")]
    [InlineData("o'brien_{x}@mail.x-y.example", "o'brien_{x}@mail.x-y.example")]
    [InlineData("jos\u00e9@example.com", "jos\u00e9@example.com")]
    [InlineData("JOSE\u0301@example.com", "jose\u0301@example.com")] // kept as sent: no Unicode normalisation in invariant mode
    [InlineData("\u00c5SA@example.com", "\u00e5sa@example.com")]
    [InlineData("user@b\u00fccher.example", "user@xn--bcher-kva.example")]
    [InlineData("user@B\u00dcCHER.Example", "user@xn--bcher-kva.example")]
    [InlineData("user@xn--bcher-kva.example", "user@xn--bcher-kva.example")]
    public void Accepts_and_normalises(string input, string expected) => Assert.Equal(expected, EmailAddress.Normalise(input, out _));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a\u0000@x.com")]
    [InlineData("a@x.c\u0000om")]
    [InlineData("a\u0007@x.com")]
    [InlineData("a\u007f@x.com")]
    [InlineData("a\u0085@x.com")] // C1 control
    [InlineData("a\u200b@x.com")] // zero-width space (format)
    [InlineData("a\u202e@x.com")] // right-to-left override (format)
    [InlineData("a\u00a0b@x.com")] // no-break space
    [InlineData("a\ue000@x.com")] // private use
    [InlineData("a\ufffd@x.com")] // the replacement character: text that was broken on its way
    [InlineData("a b@x.com")]
    [InlineData("a\tb@x.com")]
    [InlineData("a\r\nb@x.com")]
    [InlineData("@x.com")]
    [InlineData("a@")]
    [InlineData("a")]
    [InlineData("a@@x.com")]
    [InlineData("a@b@x.com")]
    [InlineData("a@x")]
    [InlineData("a@localhost")]
    [InlineData("a@x..com")]
    [InlineData("a@.x.com")]
    [InlineData("a@x.com.")]
    [InlineData("a@-x.com")]
    [InlineData("a@x-.com")]
    [InlineData("a@x_y.com")]
    [InlineData(".a@x.com")]
    [InlineData("a.@x.com")]
    [InlineData("a..b@x.com")]
    [InlineData("\"a b\"@x.com")]
    [InlineData("a(comment)@x.com")]
    [InlineData("a@[192.0.2.1]")]
    [InlineData("a<b>@x.com")]
    [InlineData("a,b@x.com")]
    [InlineData("a;b@x.com")]
    [InlineData("a\\b@x.com")]
    public void Refuses(string? input)
    {
        Assert.Null(EmailAddress.Normalise(input, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Refuses_a_lone_surrogate()
    {
        // Not an InlineData: the test runner's serialisation would turn it into U+FFFD.
        Assert.Null(EmailAddress.Normalise("a\ud800@x.com", out _));
        Assert.Null(EmailAddress.Normalise("a@x\udc00.com", out _));
    }

    [Fact]
    public void Lengths_are_those_of_RFC_5321()
    {
        var local64 = new string('l', 64);
        Assert.NotNull(EmailAddress.Normalise(local64 + "@x.com", out _));
        Assert.Null(EmailAddress.Normalise(local64 + "l@x.com", out _));

        // 64 octets, not characters: 32 two-byte letters fit, 33 do not.
        Assert.NotNull(EmailAddress.Normalise(new string('\u00e9', 32) + "@x.com", out _));
        Assert.Null(EmailAddress.Normalise(new string('\u00e9', 33) + "@x.com", out _));

        // 254 in all: "a@" + a domain of 252 (labels of 63 joined by dots, last one shorter).
        var domain252 = string.Join('.', new string('d', 63), new string('d', 63), new string('d', 63), new string('d', 60));
        Assert.Equal(252, domain252.Length);
        Assert.NotNull(EmailAddress.Normalise("a@" + domain252, out _));
        Assert.Null(EmailAddress.Normalise("ab@" + domain252, out _));
        Assert.Null(EmailAddress.Normalise("a@" + new string('d', 64) + ".com", out _));

        // Twenty megabytes are refused on their length, before anything walks them.
        Assert.Null(EmailAddress.Normalise(new string('a', 20 << 20) + "@x.com", out var error));
        Assert.Contains("254", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Whatever_the_input_an_accepted_address_is_bounded_clean_and_already_normal()
    {
        var chars = Gen.OneOf(Gen.Char, Gen.Char["aZ09.@-_+ \u0000\u00e9\u0301\u200b"]);
        Gen.OneOf(Gen.String, chars.Array[0, 80].Select(a => new string(a)), chars.Array[0, 20].Select(a => new string(a) + "@ex.example"))
            .Sample(input =>
            {
                var normal = EmailAddress.Normalise(input, out var error);
                if (normal is null)
                {
                    return !string.IsNullOrEmpty(error);
                }

                var at = normal.IndexOf('@', StringComparison.Ordinal);
                return Encoding.UTF8.GetByteCount(normal) <= EmailAddress.MaxLength
                    && at > 0 && at == normal.LastIndexOf('@')
                    && Encoding.UTF8.GetByteCount(normal.AsSpan(0, at)) <= EmailAddress.MaxLocalLength
                    && normal.EnumerateRunes().All(r => Rune.GetUnicodeCategory(r) is not (UnicodeCategory.Control or UnicodeCategory.Format
                        or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate))
                    && EmailAddress.Normalise(normal, out _) == normal;
            }, iter: 20_000);
    }

    [Fact]
    public void Every_well_formed_address_is_accepted_in_lower_case()
    {
        var atext = Gen.Char["abcxyzABCXYZ0189!#$%&'*+-/=?^_`{|}~"];
        var atom = atext.Array[1, 10].Select(a => new string(a));
        var local = atom.Array[1, 3].Select(a => string.Join('.', a));
        var label = Gen.Char["abcXYZ0189"].Array[1, 12].Select(a => new string(a));
        var domain = label.Array[2, 4].Select(a => string.Join('.', a));
        Gen.Select(local, domain, Gen.Char[" \t"].Array[0, 2]).Sample((l, d, pad) =>
        {
            var input = new string(pad) + l + "@" + d + new string(pad);
            return EmailAddress.Normalise(input, out _) == (l + "@" + d).ToLowerInvariant();
        }, iter: 5_000);
    }
}
