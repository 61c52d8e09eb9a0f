using System.Text;
using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Search;

/// <summary>
/// A search query taken apart once at the edge: lower-cased words (runs of letters and digits; everything else
/// separates them, so no query syntax reaches SQL), the distinct trigrams of the words of three or more characters
/// (SQLite's candidates and both engines' typo tolerance), and the engines' query texts built from those alone.
/// </summary>
/// <param name="Text">The words joined by single spaces (pg_trgm's word similarity compares it).</param>
internal sealed record SearchTerms(string Text, string[] Words, string[] Grams)
{
    public const int MaxLength = 200;
    public const int MaxWords = 10;

    /// <summary>SQLite FTS5 (trigram tokenizer): any of the trigrams, each a quoted phrase.</summary>
    public string Fts5 => string.Join(" OR ", Grams.Select(g => "\"" + g + "\""));

    /// <summary>PostgreSQL <c>to_tsquery('simple', ...)</c>: every word, each as a prefix (<c>tuto:*</c>).</summary>
    public string TsQuery => string.Join(" & ", Words.Select(w => w + ":*"));

    public static SearchTerms? Parse(string? q, Validation v, string field = "q")
    {
        if (string.IsNullOrWhiteSpace(q))
        {
            v.Add(field, "is required");
            return null;
        }

        if (q.Length > MaxLength)
        {
            v.Add(field, $"must be at most {MaxLength} characters");
            return null;
        }

        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var c in q.ToLowerInvariant().Append(' '))
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(c);
            }
            else if (word.Length > 0)
            {
                if (!words.Contains(word.ToString()))
                {
                    words.Add(word.ToString());
                }

                word.Clear();
            }
        }

        if (words.Count > MaxWords)
        {
            v.Add(field, $"must have at most {MaxWords} words");
            return null;
        }

        var grams = new List<string>();
        foreach (var w in words)
        {
            for (var i = 0; i + 3 <= w.Length; i++)
            {
                var g = w.Substring(i, 3);
                if (!grams.Contains(g))
                {
                    grams.Add(g);
                }
            }
        }

        if (grams.Count == 0)
        {
            v.Add(field, "must contain a word of at least 3 letters or digits");
            return null;
        }

        return new SearchTerms(string.Join(' ', words), [.. words], [.. grams]);
    }
}

/// <summary>The narrowing of a video search (all optional).</summary>
/// <param name="Type">0 any, 1 live now, 2 on demand.</param>
internal sealed record SearchFilter(long? Category, string? Tag, string? Channel, string? Language, int Type, double? MinDuration, double? MaxDuration,
    DateTimeOffset? From, DateTimeOffset? To);

/// <summary>A channel found by name or description.</summary>
/// <param name="VideoCount">Its listed videos (public and playable): no count includes a hidden one.</param>
internal sealed record ChannelHit(string Id, string Name, string Description, long SubscriberCount, long VideoCount);

/// <summary>An autocomplete suggestion: a listed video's title.</summary>
internal sealed record SearchSuggestion(string Text, string VideoId);
