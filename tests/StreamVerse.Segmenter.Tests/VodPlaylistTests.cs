using System.Text;
using StreamVerse.Segmenter.Hls;

namespace StreamVerse.Segmenter.Tests;

/// <summary>VOD media playlists (RFC 8216bis §4.4.3.1 EXT-X-TARGETDURATION).</summary>
public sealed class VodPlaylistTests
{
    [Theory]
    [InlineData(0.04, 1)] // a one-frame video
    [InlineData(0.49, 1)]
    [InlineData(1.5, 2)]
    [InlineData(4.0, 4)]
    [InlineData(4.4, 4)]
    public void Target_duration_is_the_longest_rounded_and_never_zero(double longest, int expected)
    {
        var text = Encoding.UTF8.GetString(HlsPlaylistWriter.WriteVod(new StringBuilder(), "init.mp4", [("a.m4s", longest / 2), ("b.m4s", longest)]));
        Assert.Contains($"#EXT-X-TARGETDURATION:{expected}\n", text, StringComparison.Ordinal);
    }
}
