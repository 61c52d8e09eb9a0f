using StreamVerse.ControlPlane.Chat;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>A channel's blocked-words patterns against chat messages: whole words, case-insensitive, <c>*</c> and <c>?</c>.</summary>
public sealed class BlockedWordsTests
{
    [Theory]
    [InlineData("buy SPAMMERS now", "spam*", true)]
    [InlineData("spam", "spam*", true)]
    [InlineData("antispam", "spam*", false)]
    [InlineData("antispam", "*spam", true)]
    [InlineData("that was bad.", "b?d", true)]
    [InlineData("badge", "b?d", false)]
    [InlineData("bd", "b?d", false)]
    [InlineData("x-rated,bad!", "bad", true)]
    [InlineData("Ünïcödé wörd", "ünï*", true)]
    [InlineData("a*b", "a*b", false)] // "*" in a message separates words: "a" and "b" alone match no "a...b"
    [InlineData("aXYZb here", "a*b", true)]
    [InlineData("nothing here", "a*b", false)]
    public void Matches_whole_words(string text, string pattern, bool blocked) =>
        Assert.Equal(blocked, BlockedWords.FirstMatch(text, [pattern]) is not null);

    [Fact]
    public void A_pattern_of_many_stars_against_a_long_word()
    {
        // The case where a backtracking matcher blows up (one backtrack point here keeps it at word x pattern).
        var word = new string('a', 5000);
        Assert.False(BlockedWords.Matches(word, "*a*a*a*a*a*a*a*a*a*b"));
        Assert.True(BlockedWords.Matches(word, "*a*a*a*a*a*a*a*a*a*"));
    }
}
