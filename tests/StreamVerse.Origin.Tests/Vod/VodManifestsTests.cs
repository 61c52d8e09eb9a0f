using System.Text;
using StreamVerse.Origin.Vod;

namespace StreamVerse.Origin.Tests.Vod;

public sealed class VodManifestsTests
{
    private const string Master = """
        #EXTM3U
        #EXT-X-VERSION:7
        #EXT-X-INDEPENDENT-SEGMENTS
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=907873,AVERAGE-BANDWIDTH=856324,CODECS="avc1.64001E,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio"
        360p.m3u8
        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="360p_iframes.m3u8"
        #EXT-X-SESSION-DATA:DATA-ID="com.example.x",URI="https://cdn.example/x.json"
        #EXT-X-STREAM-INF:BANDWIDTH=466401,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=426x240,AUDIO="audio"
        /absolute/240p.m3u8

        """;

    [Fact]
    public void Master_uris_and_uri_attributes_move_into_the_version_folder_and_absolute_ones_stay()
    {
        var rewritten = VodManifests.RewriteMaster(Master.Replace("\r\n", "\n", StringComparison.Ordinal), "v3");
        var lines = rewritten.Split('\n');
        Assert.Contains("URI=\"v3/audio.m3u8\"", lines[3], StringComparison.Ordinal);
        Assert.Equal("v3/360p.m3u8", lines[5]);
        Assert.EndsWith("URI=\"v3/360p_iframes.m3u8\"", lines[6], StringComparison.Ordinal);
        Assert.EndsWith("URI=\"https://cdn.example/x.json\"", lines[7], StringComparison.Ordinal);
        Assert.Equal("/absolute/240p.m3u8", lines[9]);
        // Nothing else changed: tags, attribute order, line count and the final newline.
        Assert.Equal(Master.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Length, lines.Length);
        Assert.Equal(lines[4], Master.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')[4]);
        Assert.EndsWith("\n", rewritten, StringComparison.Ordinal);
        Assert.False(rewritten.EndsWith("\n\n", StringComparison.Ordinal));
    }

    [Fact]
    public void A_master_without_a_final_newline_keeps_its_ending()
    {
        Assert.Equal("#EXTM3U\nv1/a.m3u8", VodManifests.RewriteMaster("#EXTM3U\na.m3u8", "v1"));
        Assert.Equal("#EXTM3U\nv1/a.m3u8\n", VodManifests.RewriteMaster("#EXTM3U\r\na.m3u8\r\n", "v1"));
    }

    [Fact]
    public void The_mpd_gets_a_version_base_url_as_its_first_child()
    {
        const string Mpd = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\">\n  <Period id=\"0\"/>\n</MPD>\n";
        var rewritten = VodManifests.RewriteMpd(Mpd, "v9");
        var doc = System.Xml.Linq.XDocument.Parse(rewritten);
        var ns = System.Xml.Linq.XNamespace.Get("urn:mpeg:dash:schema:mpd:2011");
        var first = doc.Root!.Elements().First();
        Assert.Equal(ns + "BaseURL", first.Name);
        Assert.Equal("v9/", first.Value);
        Assert.Throws<FormatException>(() => VodManifests.RewriteMpd("<html/>", "v1"));
    }

    [Theory]
    [InlineData("360p.m3u8", true)]
    [InlineData("a/b:c.m3u8", true)]
    [InlineData("/x.m3u8", false)]
    [InlineData("//cdn/x.m3u8", false)]
    [InlineData("https://cdn/x.m3u8", false)]
    [InlineData("data:text/plain,x", false)]
    [InlineData("", false)]
    public void Relative_references_are_told_from_absolute_ones(string uri, bool relative) =>
        Assert.Equal(relative, VodManifests.IsRelative(uri));

    [Fact]
    public void Rewriting_is_plain_utf8_text()
    {
        var rewritten = VodManifests.RewriteMaster("#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID=\"t\",VALUE=\"café\"\nx.m3u8\n", "v1");
        Assert.Contains("café", rewritten, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(rewritten), Encoding.UTF8.GetBytes(rewritten).Length);
    }
}
