using StreamVerse.Origin.Http;
using static StreamVerse.Origin.Http.StoredObjectWriter;

namespace StreamVerse.Origin.Tests.Http;

public sealed class RangeParsingTests
{
    [Theory]
    [InlineData("bytes=0-99", 1000, "Satisfiable", 0, 100)]
    [InlineData("bytes=900-", 1000, "Satisfiable", 900, 100)]
    [InlineData("bytes=-100", 1000, "Satisfiable", 900, 100)]
    [InlineData("bytes=-5000", 1000, "Satisfiable", 0, 1000)]
    [InlineData("bytes=990-2000", 1000, "Satisfiable", 990, 10)]
    [InlineData("bytes=1000-", 1000, "Unsatisfiable", 0, 1000)]
    [InlineData("bytes=-0", 1000, "Unsatisfiable", 0, 1000)]
    [InlineData("bytes=5-1", 1000, "Ignore", 0, 1000)]
    [InlineData("bytes=0-1,5-9", 1000, "Ignore", 0, 1000)]
    [InlineData("items=0-1", 1000, "Ignore", 0, 1000)]
    [InlineData("bytes=abc", 1000, "Ignore", 0, 1000)]
    [InlineData("bytes=+1-2", 1000, "Ignore", 0, 1000)]
    public void Parses_single_ranges_per_rfc9110(string header, long size, string expectedResult, long start, long length)
    {
        var expected = Enum.Parse<RangeResult>(expectedResult);
        var result = TryParseRange(header, size, out var s, out var l);
        Assert.Equal(expected, result);
        if (result == RangeResult.Satisfiable)
        {
            Assert.Equal(start, s);
            Assert.Equal(length, l);
        }
    }

    [Theory]
    [InlineData("cam", true)]
    [InlineData("Cam_2-b", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("ключ", false)]
    public void Stream_names_are_a_safe_alphabet(string name, bool ok) =>
        Assert.Equal(ok, LiveDelivery.Handler.IsSafeName(name));
}
