using StreamVerse.ControlPlane.Api;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The one CSV text field the audit log, analytics and ledger statements share (the ledger's own used to let a leading '-' through).</summary>
public sealed class CsvFieldTests
{
    [Theory]
    [InlineData("plain", false, "plain")]
    [InlineData("plain", true, "\"plain\"")]
    [InlineData("a,b", false, "\"a,b\"")]
    [InlineData("say \"hi\"", false, "\"say \"\"hi\"\"\"")]
    [InlineData("two\r\nlines", false, "\"two\r\nlines\"")]
    [InlineData("=HYPERLINK(\"x\")", false, "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+1", false, "'+1")]
    [InlineData("-2+3+cmd|' /C calc'!A0", false, "'-2+3+cmd|' /C calc'!A0")]
    [InlineData("@SUM(A1)", false, "'@SUM(A1)")]
    [InlineData("\tx", false, "'\tx")]
    [InlineData("", false, "")]
    public void Text_is_quoted_when_needed_and_formulas_are_defused(string value, bool alwaysQuote, string expected) =>
        Assert.Equal(expected, CsvField.Text(value, alwaysQuote));
}
