using StreamVerse.ControlPlane.Captions;

namespace StreamVerse.ControlPlane.Tests;

/// <summary>The caption parser on its own: what it accepts, what it writes, and what it refuses.</summary>
public sealed class CaptionTextTests
{
    [Theory]
    [InlineData("00:01.000", 1000)]
    [InlineData("01:02:03.004", 3_723_004)]
    [InlineData("100:00:00.000", 360_000_000)]
    public void WebVTT_timestamps_are_read(string text, long ms)
    {
        Assert.True(CaptionText.TryTimestamp(text, commaMillis: false, out var got));
        Assert.Equal(ms, got);
    }

    [Theory]
    [InlineData("00:60.000")]
    [InlineData("60:00.000")]
    [InlineData("1:00.000")]
    [InlineData("00:00:00,000")]
    [InlineData("0:00:00.000")]
    [InlineData("00:00.0000")]
    [InlineData("+0:00.000")]
    public void Malformed_WebVTT_timestamps_are_refused(string text) =>
        Assert.False(CaptionText.TryTimestamp(text, commaMillis: false, out _));

    [Fact]
    public void A_WebVTT_file_keeps_its_cue_ids_settings_notes_and_styles()
    {
        var input = "\uFEFFWEBVTT - title\r\nKind: captions\r\n\r\nSTYLE\r\n::cue { color: yellow }\r\n\r\nNOTE made by hand\r\n\r\nintro\r\n00:00.500 --> 00:02.000 align:start\r\n<v Ann>Hi</v>\r\n";
        var doc = CaptionText.Parse(System.Text.Encoding.UTF8.GetBytes(input), out var error);
        Assert.Null(error);
        Assert.Equal(1, doc!.Cues);
        Assert.Equal("WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\nNOTE made by hand\n\nintro\n00:00:00.500 --> 00:00:02.000 align:start\n<v Ann>Hi</v>\n", doc.WebVtt);
    }

    [Fact]
    public void A_missing_blank_line_between_cues_is_named()
    {
        var doc = CaptionText.Parse("WEBVTT\n\n00:01.000 --> 00:02.000\none\n00:02.000 --> 00:03.000\ntwo\n"u8, out var error);
        Assert.Null(doc);
        Assert.StartsWith("line 5: cue text must not contain \"-->\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SubRip_without_counters_and_with_ASS_overrides_converts()
    {
        var doc = CaptionText.Parse("00:00:01,000 --> 00:00:02,000 X1:10 X2:20 Y1:5 Y2:6\n{\\an8}Top <b>bold</b> a<b\n"u8, out var error);
        Assert.Null(error);
        Assert.Equal("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nTop <b>bold</b> a&lt;b\n", doc!.WebVtt);
    }

    [Theory]
    [InlineData("en", "en")]
    [InlineData("PT-br", "pt-BR")]
    [InlineData("zh-hant-tw", "zh-Hant-TW")]
    [InlineData("es-419", "es-419")]
    [InlineData("de-CH-1901", "de-CH-1901")]
    [InlineData("eng", "eng")]
    [InlineData("e", null)]
    [InlineData("en_US", null)]
    [InlineData("en-", null)]
    [InlineData("../x", null)]
    [InlineData("x-private", null)]
    public void Language_tags_are_checked_and_put_in_canonical_case(string tag, string? canonical) =>
        Assert.Equal(canonical, CaptionLanguage.Canonical(tag));
}
