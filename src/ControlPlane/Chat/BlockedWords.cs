using System.Globalization;

namespace StreamVerse.ControlPlane.Chat;

/// <summary>
/// A channel's blocked-words list against a message: each word of the message (a run of letters, digits, marks and
/// connector punctuation) is compared, lower-cased, with each pattern, where <c>*</c> matches any run of characters and
/// <c>?</c> one. Glob matching by the classic two-pointer algorithm (one backtrack point), linear in word times pattern:
/// no regular expression a channel owner could make slow.
/// </summary>
internal static class BlockedWords
{
    /// <summary>Longest entry of a word list.</summary>
    public const int MaxWordLength = 50;

    /// <summary>
    /// A word list as a request gives it (a channel's chat list, the instance's list): at most <paramref name="max"/> entries of 1 to
    /// <see cref="MaxWordLength"/> characters, no white space, not only wildcards; errors name <c>field[i]</c>. The result is
    /// lower-cased without duplicates.
    /// </summary>
    public static string[] Validate(string[]? words, string field, int max, Api.Validation v)
    {
        words ??= [];
        if (words.Length > max)
        {
            v.Add(field, $"at most {max} entries");
        }

        for (var i = 0; i < words.Length && i < max; i++)
        {
            var w = words[i];
            if (string.IsNullOrEmpty(w) || w.Length > MaxWordLength || w.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || w.All(c => c is '*' or '?'))
            {
                v.Add($"{field}[{i}]", $"must be 1 to {MaxWordLength} characters without white space, and not only wildcards");
            }
        }

        return [.. words.Take(max).Where(w => !string.IsNullOrEmpty(w)).Select(w => w.ToLowerInvariant()).Distinct(StringComparer.Ordinal)];
    }

    public static string? FirstMatch(string text, IReadOnlyList<string> patterns)
    {
        if (patterns.Count == 0)
        {
            return null;
        }

        var lower = text.ToLower(CultureInfo.InvariantCulture);
        var start = -1;
        for (var i = 0; i <= lower.Length; i++)
        {
            var inWord = i < lower.Length && IsWordChar(lower, i);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                var word = lower.AsSpan(start, i - start);
                foreach (var p in patterns)
                {
                    if (Matches(word, p))
                    {
                        return p;
                    }
                }

                start = -1;
            }
        }

        return null;
    }

    private static bool IsWordChar(string s, int i) => char.GetUnicodeCategory(s, i) switch
    {
        UnicodeCategory.LowercaseLetter or UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
            or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.ConnectorPunctuation
            or UnicodeCategory.Surrogate => true,
        _ => false,
    };

    /// <summary>Whole-word glob match of <paramref name="pattern"/> (<c>*</c>, <c>?</c>) against <paramref name="word"/>.</summary>
    public static bool Matches(ReadOnlySpan<char> word, ReadOnlySpan<char> pattern)
    {
        int w = 0, p = 0, star = -1, mark = 0;
        while (w < word.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == word[w]))
            {
                w++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = w;
            }
            else if (star >= 0)
            {
                p = star + 1;
                w = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
