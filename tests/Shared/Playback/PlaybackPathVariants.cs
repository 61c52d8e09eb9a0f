using System.Text;
using CsCheck;

namespace StreamVerse.Tests.Shared.Playback;

/// <summary>
/// Other spellings of a canonical playback path (<c>/live/...</c>, <c>/vod/...</c>, with or without <c>t/{token}/</c>):
/// what a client may send hoping that one component reads it as the canonical path and another does not. Every
/// mutation leaves a mark the canonical grammar has no room for (an upper-case letter in <c>live</c>, <c>vod</c> or the
/// token marker <c>t</c>, a '%', an empty, dot or backslash segment, a byte outside the segment alphabets) and none
/// removes another's mark, so a variant with at least one mutation is never itself canonical.
/// Linked into the tests that need CsCheck (tests/Shared/Playback is not in the tests/Shared glob).
/// </summary>
internal static class PlaybackPathVariants
{
    internal enum Mutation
    {
        /// <summary>A letter of <c>live</c>/<c>vod</c> or of the token marker <c>t</c> in upper case.</summary>
        UpperCasePrefix,

        /// <summary>Any one character as <c>%XX</c> (either hex case), '/' included (<c>%2F</c>).</summary>
        PercentEncode,

        /// <summary>A '/' doubled: an empty segment.</summary>
        DoubleSlash,

        /// <summary><c>/.</c> or <c>/x/..</c> inserted before a '/'.</summary>
        DotSegment,

        /// <summary>A '/' replaced by '\'.</summary>
        Backslash,

        /// <summary>Something after the last segment: '/', <c>/.</c>, <c>/..</c>, <c>;x</c>, <c>%20</c>, <c>%00</c>, '\'.</summary>
        TrailingJunk,

        /// <summary>A second leading '/'.</summary>
        LeadingSlash,

        /// <summary>An encoded control character or space (<c>%00</c>, <c>%0A</c>, <c>%09</c>, <c>%7F</c>, <c>%20</c>) inserted.</summary>
        EncodedControl,

        /// <summary>A raw control character, space or non-ASCII character inserted (not sendable in a request line: unit tests only).</summary>
        RawControl,
    }

    private static readonly string[] Junk = ["/", "/.", "/..", ";x", "%20", "%00", "\\"];
    private static readonly string[] EncodedControls = ["%00", "%0A", "%0a", "%09", "%7F", "%20"];
    private static readonly string[] RawControls = ["\0", "\t", " ", "\u007f", "\u00e9", "\n"];

    /// <summary>
    /// <paramref name="canonical"/> with no mutation (a quarter of the time) or one to three: the variant and whether it
    /// was mutated. <paramref name="raw"/> adds <see cref="Mutation.RawControl"/>, which cannot go on the wire.
    /// </summary>
    public static Gen<(string Variant, bool Mutated)> Of(string canonical, bool raw = false)
    {
        var kinds = raw ? Enum.GetValues<Mutation>() : [.. Enum.GetValues<Mutation>().Where(m => m != Mutation.RawControl)];
        var one = Gen.Select(Gen.OneOfConst(kinds), Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20]);
        return Gen.Frequency((1, Gen.Const(Array.Empty<(Mutation, int, int)>())), (3, one.Array[1, 3]))
            .Select(mutations => (Apply(canonical, mutations), mutations.Length > 0));
    }

    /// <summary>
    /// The mutations in order, upper-casing first (it finds the prefix letters by position in the canonical path);
    /// <c>Position</c> and <c>Choice</c> pick where and which, modulo what there is.
    /// </summary>
    public static string Apply(string canonical, (Mutation Kind, int Position, int Choice)[] mutations)
    {
        var path = new StringBuilder(canonical);
        foreach (var (kind, position, _) in mutations.Where(m => m.Kind == Mutation.UpperCasePrefix))
        {
            var letters = PrefixLetters(canonical);
            var at = letters[position % letters.Length];
            path[at] = char.ToUpperInvariant(path[at]);
        }

        foreach (var (kind, position, choice) in mutations.Where(m => m.Kind != Mutation.UpperCasePrefix))
        {
            var slashes = Enumerable.Range(0, path.Length).Where(i => path[i] == '/').ToArray();
            var slash = slashes[position % slashes.Length];
            switch (kind)
            {
                case Mutation.PercentEncode:
                    var i = position % path.Length;
                    var hex = ((int)path[i]).ToString(choice % 2 == 0 ? "X2" : "x2", System.Globalization.CultureInfo.InvariantCulture);
                    path.Remove(i, 1).Insert(i, "%" + hex);
                    break;
                case Mutation.DoubleSlash:
                    path.Insert(slash, '/');
                    break;
                case Mutation.DotSegment:
                    path.Insert(slash, choice % 2 == 0 ? "/." : "/x/..");
                    break;
                case Mutation.Backslash:
                    path[slash] = '\\';
                    break;
                case Mutation.TrailingJunk:
                    path.Append(Junk[choice % Junk.Length]);
                    break;
                case Mutation.LeadingSlash:
                    path.Insert(0, '/');
                    break;
                case Mutation.EncodedControl:
                    path.Insert(1 + position % (path.Length - 1), EncodedControls[choice % EncodedControls.Length]);
                    break;
                case Mutation.RawControl:
                    path.Insert(1 + position % (path.Length - 1), RawControls[choice % RawControls.Length]);
                    break;
            }
        }

        return path.ToString();
    }

    /// <summary>Indexes of the letters of <c>live</c>/<c>vod</c> and, in a tokenised path, of the marker <c>t</c>.</summary>
    private static int[] PrefixLetters(string canonical)
    {
        var kindLength = canonical.StartsWith("/live/", StringComparison.Ordinal) ? 4 : 3;
        var letters = Enumerable.Range(1, kindLength).ToList();
        if (canonical.AsSpan(kindLength + 2).StartsWith("t/", StringComparison.Ordinal))
        {
            letters.Add(kindLength + 2);
        }

        return [.. letters];
    }
}
